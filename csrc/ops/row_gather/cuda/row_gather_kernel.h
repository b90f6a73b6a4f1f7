#pragma once
// Torch-free CUDA launchers of the row gather/scatter ops (rows of M contiguous elements; all
// pointers on the device). Semantics as in cpu/row_gather_cpu.h.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace nasfast::row_gather::cuda {

template <typename T>
cudaError_t gather_rows(const T* x, const int64_t* index, int64_t n, int64_t M, bool relu, T* out,
                        cudaStream_t s);

// srcs: a device array of K source pointers; maps: [K, R] on the device.
template <typename T>
cudaError_t gather_sum(const T* const* srcs, const int64_t* maps, int K, int64_t R, int64_t M,
                       T* out, cudaStream_t s);

// order/start: the sources grouped by destination row (CSR, on the device): the sources of row r
// are src rows order[start[r] .. start[r+1]).
template <typename T>
cudaError_t scatter_rows(const T* src, const int64_t* order, const int64_t* start, int64_t R,
                         int64_t M, T* out, cudaStream_t s);

}  // namespace nasfast::row_gather::cuda

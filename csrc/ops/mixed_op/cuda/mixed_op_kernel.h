#pragma once
// Torch-free CUDA launchers of nasfast::mixed_op. Buffers are contiguous, n elements each;
// w points to K weights on the device in the accumulation type (float, or double for double).
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace nasfast::mixed_op::cuda {

// Most outputs one launch takes: the pointer table travels as a kernel argument.
constexpr int kMaxK = 128;

template <typename T>
cudaError_t forward(const T* const* in, const void* w, int K, int64_t n, T* out, cudaStream_t s);

// grad_in may be null (no output gradients wanted); dots (K values, accumulation type, on the
// device) may be null. workspace must hold backward_workspace_elems(K, n) accumulation values.
template <typename T>
cudaError_t backward(const T* g, const T* const* in, const void* w, int K, int64_t n,
                     T* const* grad_in, void* dots, void* workspace, cudaStream_t s);

int64_t backward_workspace_elems(int K, int64_t n);

}  // namespace nasfast::mixed_op::cuda

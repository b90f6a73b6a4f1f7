#include "row_gather_kernel.h"

#include <algorithm>

#include "common/cuda_numeric.cuh"

namespace nasfast::row_gather::cuda {
namespace {

using cuda_numeric::Acc;
using cuda_numeric::load;
using cuda_numeric::store_cast;

constexpr int kThreads = 256;

// Grid: x over the elements of a row, y over rows (rows beyond 65535 loop).
dim3 grid_for(int64_t rows, int64_t M) {
  const int64_t bx = std::min<int64_t>(1024, std::max<int64_t>(1, (M + kThreads - 1) / kThreads));
  const int64_t by = std::min<int64_t>(65535, std::max<int64_t>(1, rows));
  return dim3(static_cast<unsigned>(bx), static_cast<unsigned>(by));
}

template <typename T>
__global__ void gather_rows_kernel(const T* x, const int64_t* index, int64_t n, int64_t M,
                                   bool relu, T* out) {
  using A = typename Acc<T>::type;
  for (int64_t i = blockIdx.y; i < n; i += gridDim.y) {
    const T* src = x + index[i] * M;
    T* dst = out + i * M;
    for (int64_t j = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; j < M;
         j += static_cast<int64_t>(gridDim.x) * blockDim.x) {
      A v = load(src + j);
      if (relu && !(v > A(0))) v = A(0);
      dst[j] = store_cast<T>(v);
    }
  }
}

template <typename T>
__global__ void gather_sum_kernel(const T* const* srcs, const int64_t* maps, int K, int64_t R,
                                  int64_t M, T* out) {
  using A = typename Acc<T>::type;
  for (int64_t r = blockIdx.y; r < R; r += gridDim.y) {
    for (int64_t j = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; j < M;
         j += static_cast<int64_t>(gridDim.x) * blockDim.x) {
      A acc = 0;
      for (int k = 0; k < K; ++k) {
        const int64_t m = maps[k * R + r];
        if (m >= 0) acc += load(srcs[k] + m * M + j);
      }
      out[r * M + j] = store_cast<T>(acc);
    }
  }
}

template <typename T>
__global__ void scatter_rows_kernel(const T* src, const int64_t* order, const int64_t* start,
                                    int64_t R, int64_t M, T* out) {
  using A = typename Acc<T>::type;
  for (int64_t r = blockIdx.y; r < R; r += gridDim.y) {
    const int64_t p0 = start[r], p1 = start[r + 1];
    for (int64_t j = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; j < M;
         j += static_cast<int64_t>(gridDim.x) * blockDim.x) {
      A acc = 0;
      for (int64_t p = p0; p < p1; ++p) acc += load(src + order[p] * M + j);
      out[r * M + j] = store_cast<T>(acc);
    }
  }
}

}  // namespace

template <typename T>
cudaError_t gather_rows(const T* x, const int64_t* index, int64_t n, int64_t M, bool relu, T* out,
                        cudaStream_t s) {
  if (n == 0 || M == 0) return cudaSuccess;
  gather_rows_kernel<T><<<grid_for(n, M), kThreads, 0, s>>>(x, index, n, M, relu, out);
  return cudaGetLastError();
}

template <typename T>
cudaError_t gather_sum(const T* const* srcs, const int64_t* maps, int K, int64_t R, int64_t M,
                       T* out, cudaStream_t s) {
  if (K < 1) return cudaErrorInvalidValue;
  if (R == 0 || M == 0) return cudaSuccess;
  gather_sum_kernel<T><<<grid_for(R, M), kThreads, 0, s>>>(srcs, maps, K, R, M, out);
  return cudaGetLastError();
}

template <typename T>
cudaError_t scatter_rows(const T* src, const int64_t* order, const int64_t* start, int64_t R,
                         int64_t M, T* out, cudaStream_t s) {
  if (R == 0 || M == 0) return cudaSuccess;
  scatter_rows_kernel<T><<<grid_for(R, M), kThreads, 0, s>>>(src, order, start, R, M, out);
  return cudaGetLastError();
}

#define NASFAST_INSTANTIATE(T)                                                                     \
  template cudaError_t gather_rows<T>(const T*, const int64_t*, int64_t, int64_t, bool, T*,        \
                                      cudaStream_t);                                               \
  template cudaError_t gather_sum<T>(const T* const*, const int64_t*, int, int64_t, int64_t, T*,   \
                                     cudaStream_t);                                                \
  template cudaError_t scatter_rows<T>(const T*, const int64_t*, const int64_t*, int64_t, int64_t, \
                                       T*, cudaStream_t);
NASFAST_INSTANTIATE(float)
NASFAST_INSTANTIATE(double)
NASFAST_INSTANTIATE(__nv_bfloat16)
#undef NASFAST_INSTANTIATE

}  // namespace nasfast::row_gather::cuda

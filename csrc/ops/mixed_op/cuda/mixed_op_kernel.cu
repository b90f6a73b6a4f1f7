#include "mixed_op_kernel.h"

#include <algorithm>

#include "common/cuda_numeric.cuh"

namespace nasfast::mixed_op::cuda {
namespace {

using cuda_numeric::Acc;
using cuda_numeric::load;
using cuda_numeric::store_cast;

template <typename T>
struct Table {
  const T* p[kMaxK];
};
template <typename T>
struct MutTable {
  T* p[kMaxK];
};

constexpr int kThreads = 256;
constexpr int kMaxBlocks = 1024;

int blocks_for(int64_t n) {
  return static_cast<int>(
      std::max<int64_t>(1, std::min<int64_t>(kMaxBlocks, (n + kThreads - 1) / kThreads)));
}

template <typename T>
__global__ void forward_kernel(Table<T> in, const typename Acc<T>::type* w, int K, int64_t n,
                               T* out) {
  using A = typename Acc<T>::type;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    A acc = w[0] * load(in.p[0] + i);
    for (int k = 1; k < K; ++k) acc += w[k] * load(in.p[k] + i);
    out[i] = store_cast<T>(acc);
  }
}

template <typename A>
__device__ A block_sum(A v, A* shared) {
  for (int off = warpSize / 2; off > 0; off /= 2) v += __shfl_down_sync(0xffffffffu, v, off);
  const int lane = threadIdx.x % warpSize, warp = threadIdx.x / warpSize;
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  A total = 0;
  if (threadIdx.x == 0)
    for (int i = 0; i < blockDim.x / warpSize; ++i) total += shared[i];
  __syncthreads();
  return total;
}

// Each block writes its partial dot per k to partial[block * K + k]; a second kernel adds the
// partials in block order, so results do not depend on scheduling.
template <typename T>
__global__ void backward_kernel(const T* g, Table<T> in, const typename Acc<T>::type* w, int K,
                                int64_t n, MutTable<T> grad_in, bool want_grad_in,
                                typename Acc<T>::type* partial) {
  using A = typename Acc<T>::type;
  __shared__ A shared[kThreads / 32];
  for (int k = 0; k < K; ++k) {
    A s = 0;
    const A wk = w[k];
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
      const A gi = load(g + i);
      if (want_grad_in) grad_in.p[k][i] = store_cast<T>(wk * gi);
      if (partial != nullptr) s += gi * load(in.p[k] + i);
    }
    if (partial != nullptr) {
      const A total = block_sum(s, shared);
      if (threadIdx.x == 0) partial[blockIdx.x * K + k] = total;
    }
  }
}

template <typename A>
__global__ void reduce_partials(const A* partial, int nblocks, int K, A* dots) {
  const int k = blockIdx.x * blockDim.x + threadIdx.x;
  if (k >= K) return;
  A s = 0;
  for (int b = 0; b < nblocks; ++b) s += partial[b * K + k];
  dots[k] = s;
}

}  // namespace

int64_t backward_workspace_elems(int K, int64_t n) {
  return static_cast<int64_t>(blocks_for(n)) * K;
}

template <typename T>
cudaError_t forward(const T* const* in, const void* w, int K, int64_t n, T* out, cudaStream_t s) {
  using A = typename Acc<T>::type;
  if (K < 1 || K > kMaxK) return cudaErrorInvalidValue;
  if (n == 0) return cudaSuccess;
  Table<T> t{};
  for (int k = 0; k < K; ++k) t.p[k] = in[k];
  forward_kernel<T><<<blocks_for(n), kThreads, 0, s>>>(t, static_cast<const A*>(w), K, n, out);
  return cudaGetLastError();
}

template <typename T>
cudaError_t backward(const T* g, const T* const* in, const void* w, int K, int64_t n,
                     T* const* grad_in, void* dots, void* workspace, cudaStream_t s) {
  using A = typename Acc<T>::type;
  if (K < 1 || K > kMaxK) return cudaErrorInvalidValue;
  Table<T> t{};
  MutTable<T> gt{};
  for (int k = 0; k < K; ++k) {
    t.p[k] = in[k];
    gt.p[k] = grad_in != nullptr ? grad_in[k] : nullptr;
  }
  const int nb = blocks_for(n);
  A* partial = dots != nullptr ? static_cast<A*>(workspace) : nullptr;
  backward_kernel<T><<<nb, kThreads, 0, s>>>(g, t, static_cast<const A*>(w), K, n, gt,
                                             grad_in != nullptr, partial);
  if (dots != nullptr)
    reduce_partials<A><<<(K + 127) / 128, 128, 0, s>>>(partial, nb, K, static_cast<A*>(dots));
  return cudaGetLastError();
}

#define NASFAST_INSTANTIATE(T)                                                                   \
  template cudaError_t forward<T>(const T* const*, const void*, int, int64_t, T*, cudaStream_t); \
  template cudaError_t backward<T>(const T*, const T* const*, const void*, int, int64_t,         \
                                   T* const*, void*, void*, cudaStream_t);
NASFAST_INSTANTIATE(float)
NASFAST_INSTANTIATE(double)
NASFAST_INSTANTIATE(__nv_bfloat16)
#undef NASFAST_INSTANTIATE

}  // namespace nasfast::mixed_op::cuda

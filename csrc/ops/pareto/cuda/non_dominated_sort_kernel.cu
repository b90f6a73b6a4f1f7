#include "non_dominated_sort_kernel.h"

#include <algorithm>

namespace nasfast::pareto::cuda {
namespace {

constexpr int kThreads = 256;  // rows per block (one thread each)
constexpr int kTile = 128;     // rows of the other side staged in shared memory per step

__device__ __forceinline__ bool dominates(const double* a, const double* b, int m) {
  bool lt = false;
  for (int j = 0; j < m; ++j) {
    const double x = a[j], y = b[j];
    if (x > y) return false;
    lt |= x < y;
  }
  return lt;
}

// count[i] = number of rows j in src (all n rows, or the listed ones) that dominate row i; with
// subtract, count[i] -= that number instead. Rows of src go through shared memory in tiles.
__global__ void dominance_count(const double* __restrict__ F, int64_t n, int m,
                                const int* __restrict__ src, int64_t n_src, int* __restrict__ count,
                                const int64_t* __restrict__ rank, bool subtract) {
  extern __shared__ double tile[];
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const bool active = i < n && (rank == nullptr || rank[i] < 0);
  double own[32];
  const int mm = m < 32 ? m : 32;
  if (active)
    for (int j = 0; j < mm; ++j) own[j] = F[i * m + j];
  int c = 0;
  for (int64_t t0 = 0; t0 < n_src; t0 += kTile) {
    const int len = static_cast<int>(n_src - t0 < kTile ? n_src - t0 : kTile);
    for (int k = threadIdx.x; k < len * m; k += blockDim.x) {
      const int r = k / m, j = k % m;
      const int64_t row = src ? src[t0 + r] : t0 + r;
      tile[r * m + j] = F[row * m + j];
    }
    __syncthreads();
    if (active) {
      if (m <= 32) {
        for (int r = 0; r < len; ++r) c += dominates(tile + r * m, own, m);
      } else {
        for (int r = 0; r < len; ++r) c += dominates(tile + r * m, F + i * m, m);
      }
    }
    __syncthreads();
  }
  if (active) count[i] = subtract ? count[i] - c : c;
}

// Rows not yet ranked whose count reached 0 get rank r and are listed in front[0..*size).
__global__ void take_front(int64_t n, const int* __restrict__ count, int64_t* __restrict__ rank,
                           int64_t r, int* __restrict__ front, int* __restrict__ size) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n && rank[i] < 0 && count[i] == 0) {
    rank[i] = r;
    front[atomicAdd(size, 1)] = static_cast<int>(i);
  }
}

__global__ void fill_minus_one(int64_t n, int64_t* rank) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) rank[i] = -1;
}

}  // namespace

size_t rank_workspace_bytes(int64_t n) {
  // count (n ints), front list (n ints), front size (1 int, padded)
  return sizeof(int) * (2 * static_cast<size_t>(n) + 4);
}

cudaError_t rank(const double* F, int64_t n, int m, int64_t* rank, void* workspace,
                 cudaStream_t s) {
  if (n == 0) return cudaSuccess;
  if (n > (int64_t{1} << 31) - 1) return cudaErrorInvalidValue;
  int* count = static_cast<int*>(workspace);
  int* front = count + n;
  int* size = front + n;
  const int blocks = static_cast<int>((n + kThreads - 1) / kThreads);
  const size_t shmem = sizeof(double) * kTile * m;
  if (shmem > 48 * 1024) {
    cudaError_t e = cudaFuncSetAttribute(
        dominance_count, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(shmem));
    if (e != cudaSuccess) return e;
  }
  fill_minus_one<<<blocks, kThreads, 0, s>>>(n, rank);
  dominance_count<<<blocks, kThreads, shmem, s>>>(F, n, m, nullptr, n, count, nullptr, false);
  int64_t done = 0;
  for (int64_t r = 0; done < n; ++r) {
    cudaError_t e = cudaMemsetAsync(size, 0, sizeof(int), s);
    if (e != cudaSuccess) return e;
    take_front<<<blocks, kThreads, 0, s>>>(n, count, rank, r, front, size);
    int h = 0;
    e = cudaMemcpyAsync(&h, size, sizeof(int), cudaMemcpyDeviceToHost, s);
    if (e == cudaSuccess) e = cudaStreamSynchronize(s);
    if (e != cudaSuccess) return e;
    if (h == 0) return cudaErrorUnknown;  // cannot happen for finite input (acyclic dominance)
    done += h;
    if (done < n)
      dominance_count<<<blocks, kThreads, shmem, s>>>(F, n, m, front, h, count, rank, true);
  }
  return cudaGetLastError();
}

}  // namespace nasfast::pareto::cuda

#pragma once
// A host emulation of the parts of the CUDA execution model nasfast's torch-free kernels use, so
// that their .cu files run on a machine without a GPU (tests/cuda_emu/README.md). A kernel's
// blocks run one after another; each of a block's threads is a fiber with its own stack, so
// __syncthreads and warp shuffles really wait for the other threads. "Device memory" is host
// memory. Only the tests include this header (in place of the toolkit's cuda_runtime.h).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __constant__
#define __launch_bounds__(...)
// One block runs at a time, so a function-local static is the block's shared memory.
#define __shared__ static

struct uint3 {
  unsigned x, y, z;
};
struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

// Kernel-side built-ins; the scheduler sets them before it resumes a thread.
extern uint3 threadIdx, blockIdx;
extern dim3 blockDim, gridDim;
constexpr int warpSize = 32;

enum cudaError_t {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorUnknown = 999,
};
enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4,
};
enum cudaFuncAttribute {
  cudaFuncAttributeMaxDynamicSharedMemorySize = 8,
};
struct CUstream_st;
using cudaStream_t = CUstream_st*;

const char* cudaGetErrorString(cudaError_t e);
// The error of the last launch (an invalid grid or block), cleared by the call.
cudaError_t cudaGetLastError();
cudaError_t cudaMallocAsync(void** p, size_t bytes, cudaStream_t st);
cudaError_t cudaFreeAsync(void* p, cudaStream_t st);
cudaError_t cudaMemsetAsync(void* p, int value, size_t bytes, cudaStream_t st);
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t st);
cudaError_t cudaStreamSynchronize(cudaStream_t st);

namespace nasfast_emu {
cudaError_t set_max_dynamic_shared(const void* kernel, int bytes);
}
// Only the attribute the kernels set: the dynamic shared memory a kernel may take beyond 48 KiB.
template <typename F>
cudaError_t cudaFuncSetAttribute(F* kernel, cudaFuncAttribute attr, int value) {
  if (attr != cudaFuncAttributeMaxDynamicSharedMemorySize) return cudaErrorInvalidValue;
  return nasfast_emu::set_max_dynamic_shared(reinterpret_cast<const void*>(kernel), value);
}

// Threads never run at the same time here, so a read-modify-write is atomic.
template <typename T>
T atomicAdd(T* p, T v) {
  const T old = *p;
  *p = old + v;
  return old;
}

void __syncthreads();

// Device min/max: CUDA overloads them for mixed integer types; the common type does the same.
template <typename A, typename B>
constexpr std::common_type_t<A, B> min(A a, B b) {
  using C = std::common_type_t<A, B>;
  return C(b) < C(a) ? C(b) : C(a);
}
template <typename A, typename B>
constexpr std::common_type_t<A, B> max(A a, B b) {
  using C = std::common_type_t<A, B>;
  return C(a) < C(b) ? C(b) : C(a);
}

namespace nasfast_emu {

// Runs body once per thread of every block of the grid (blocks in x, then y, then z order), with
// shmem bytes of dynamic shared memory (dynamic_shared()). Launching nothing, it returns
// cudaErrorInvalidConfiguration for a grid or block the hardware would refuse (more than 1024
// threads, grid y or z above 65535, a zero dimension), and cudaErrorInvalidValue for more
// dynamic shared memory than the kernel may take (48 KiB unless cudaFuncSetAttribute raised it,
// at most 227 KiB, an H100's limit).
cudaError_t run_grid(const void* kernel, dim3 grid, dim3 block, size_t shmem,
                     const std::function<void()>& body);
// Kernel launches run so far (refused ones not counted).
uint64_t launch_count();
// The running block's dynamic shared memory (`extern __shared__ T name[]` is rewritten to it).
void* dynamic_shared();
void set_last_error(cudaError_t e);

// The calling thread's lane in its warp (warps are runs of 32 threads in linear thread order).
unsigned lane_id();
// The calling thread offers v to its warp and receives lane src_lane's offer in out. Every lane
// of the warp must arrive (a full mask), as the kernels' shuffles assume.
void warp_exchange(const void* v, size_t bytes, unsigned src_lane, void* out);

// `kernel<<<grid, block, shmem, stream>>>(args)` is rewritten (translate_launches.py) to
// `::nasfast_emu::Launch(grid, block, shmem, stream).run(kernel, args)`.
struct Launch {
  dim3 grid, block;
  size_t shmem;
  Launch(dim3 g, dim3 b, size_t shmem_bytes = 0, cudaStream_t /*st*/ = nullptr)
      : grid(g), block(b), shmem(shmem_bytes) {}
  template <typename... P, typename... A>
  void run(void (*kernel)(P...), A&&... a) const {
    static_assert(sizeof...(P) == sizeof...(A), "kernel launched with the wrong argument count");
    // arguments are copied once, at the launch, as on a GPU; each thread gets its own copy
    const std::tuple<std::decay_t<P>...> args(static_cast<std::decay_t<P>>(a)...);
    const cudaError_t e = run_grid(reinterpret_cast<const void*>(kernel), grid, block, shmem,
                                   [&] { std::apply(kernel, args); });
    if (e != cudaSuccess) set_last_error(e);
  }
};

}  // namespace nasfast_emu

template <typename T>
T __shfl_down_sync(unsigned /*mask*/, T v, unsigned delta, int width = warpSize) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8, "shuffle of a wide type");
  const unsigned lane = nasfast_emu::lane_id(), in_group = lane % unsigned(width);
  const unsigned src = in_group + delta < unsigned(width) ? lane + delta : lane;
  T out;
  nasfast_emu::warp_exchange(&v, sizeof(T), src, &out);
  return out;
}

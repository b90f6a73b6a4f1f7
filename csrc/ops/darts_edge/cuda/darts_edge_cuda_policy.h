#pragma once
// The CUDA kernel policy of darts_edge_impl.h: its primitives are the launchers of
// darts_edge_kernel.cu on the stream Stream::get() returns. The glue runs it on torch's current
// stream; the CUDA host emulation's test (tests/cuda_emu) runs the same policy on the host.
#include <ATen/ATen.h>

#include "ops/darts_edge/cuda/darts_edge_kernel.h"

namespace nasfast::darts_edge {

#define NASFAST_CUDA_CALL(expr)                                                              \
  do {                                                                                       \
    const cudaError_t err_ = (expr);                                                         \
    TORCH_CHECK(err_ == cudaSuccess, "nasfast::darts_edge CUDA launch failed: ",             \
                cudaGetErrorString(err_));                                                   \
  } while (0)

template <typename Stream>
struct CudaKernels {
  static constexpr bool kChannelsLast = false;
  // BatchNorm statistics and final BatchNorm backwards of several slots in one launch pair
  // (bn_stats_batch, bn_backward_batch): a launch costs the host more than these small kernels.
  static constexpr bool kBatchBn = true;
  static at::Tensor empty(at::IntArrayRef sizes, const at::TensorOptions& o) {
    return at::empty(sizes, o);  // torch's caching allocator
  }
  static cudaStream_t stream() { return Stream::get(); }
  template <typename T, typename... A>
  static void stage1_forward(A... a) { NASFAST_CUDA_CALL(cuda::stage1_forward<T>(a..., stream())); }
  template <typename T, typename... A>
  static void bn_stats(A... a) { NASFAST_CUDA_CALL(cuda::bn_stats<T>(a..., stream())); }
  template <typename T, typename... A>
  static void bn_stats_batch(A... a) { NASFAST_CUDA_CALL(cuda::bn_stats_batch<T>(a..., stream())); }
  template <typename T, typename... A>
  static void bn_backward_batch(A... a) {
    NASFAST_CUDA_CALL(cuda::bn_backward_batch<T>(a..., stream()));
  }
  template <typename T, typename... A>
  static void bn_relu_dw_forward(A... a) {
    NASFAST_CUDA_CALL(cuda::bn_relu_dw_forward<T>(a..., stream()));
  }
  template <typename T, typename... A>
  static void mix_forward(A... a) { NASFAST_CUDA_CALL(cuda::mix_forward<T>(a..., stream())); }
  template <typename T, typename... A>
  static void bn_backward(A... a) { NASFAST_CUDA_CALL(cuda::bn_backward<T>(a..., stream())); }
  template <typename T, typename... A>
  static void bn_relu_dw_backward(A... a) {
    NASFAST_CUDA_CALL(cuda::bn_relu_dw_backward<T>(a..., stream()));
  }
  template <typename T, typename... A>
  static void stage1_backward(A... a) {
    NASFAST_CUDA_CALL(cuda::stage1_backward<T>(a..., stream()));
  }
  template <typename T, typename... A>
  static void pointwise(A... a) { NASFAST_CUDA_CALL(cuda::pointwise<T>(a..., stream())); }
};

}  // namespace nasfast::darts_edge

#pragma once
// The CUDA kernel policy of the fused DARTS edge (darts_edge_forward.h, darts_edge_backward.h):
// its primitives are the launchers of darts_edge_kernel.cu on the stream Stream::get() returns,
// in the NCHW layout (darts_edge_nchw_steps.h). BatchNorm statistics and final BatchNorm
// backwards of several slots go in one launch pair (bn_stats_batch, bn_backward_batch): a launch
// costs the host more than these small kernels. The glue runs it on torch's current stream; the
// CUDA host emulation's test (tests/cuda_emu) runs the same policy on the host.
#include <ATen/ATen.h>

#include <vector>

#include "ops/darts_edge/cuda/darts_edge_kernel.h"
#include "ops/darts_edge/darts_edge_backward_state.h"
#include "ops/darts_edge/darts_edge_nchw_steps.h"
#include "ops/darts_edge/darts_edge_tensors.h"

namespace nasfast::darts_edge {

#define NASFAST_CUDA_CALL(expr)                                                        \
  do {                                                                                 \
    const cudaError_t err_ = (expr);                                                   \
    TORCH_CHECK(err_ == cudaSuccess,                                                   \
                "nasfast::darts_edge CUDA launch failed: ", cudaGetErrorString(err_)); \
  } while (0)

template <typename Stream>
struct CudaKernels : NchwSteps<CudaKernels<Stream>> {
  static at::Tensor empty(at::IntArrayRef sizes, const at::TensorOptions& o) {
    return at::empty(sizes, o);  // torch's caching allocator
  }
  static cudaStream_t stream() { return Stream::get(); }
  template <typename T, typename... A>
  static void stage1_forward(A... a) {
    NASFAST_CUDA_CALL(cuda::stage1_forward<T>(a..., stream()));
  }
  template <typename T, typename... A>
  static void bn_stats(A... a) {
    NASFAST_CUDA_CALL(cuda::bn_stats<T>(a..., stream()));
  }
  template <typename T, typename... A>
  static void bn_stats_batch(A... a) {
    NASFAST_CUDA_CALL(cuda::bn_stats_batch<T>(a..., stream()));
  }
  template <typename T, typename... A>
  static void bn_backward_batch(A... a) {
    NASFAST_CUDA_CALL(cuda::bn_backward_batch<T>(a..., stream()));
  }
  template <typename T, typename... A>
  static void bn_relu_dw_forward(A... a) {
    NASFAST_CUDA_CALL(cuda::bn_relu_dw_forward<T>(a..., stream()));
  }
  template <typename T, typename... A>
  static void mix_forward(A... a) {
    NASFAST_CUDA_CALL(cuda::mix_forward<T>(a..., stream()));
  }
  template <typename T, typename... A>
  static void bn_backward(A... a) {
    NASFAST_CUDA_CALL(cuda::bn_backward<T>(a..., stream()));
  }
  template <typename T, typename... A>
  static void bn_relu_dw_backward(A... a) {
    NASFAST_CUDA_CALL(cuda::bn_relu_dw_backward<T>(a..., stream()));
  }
  template <typename T, typename... A>
  static void stage1_backward(A... a) {
    NASFAST_CUDA_CALL(cuda::stage1_backward<T>(a..., stream()));
  }
  template <typename T, typename... A>
  static void pointwise(A... a) {
    NASFAST_CUDA_CALL(cuda::pointwise<T>(a..., stream()));
  }

  // BatchNorm statistics of the slots added since the last flush, in one launch (the forward
  // flushes before a kernel reads a slot's statistics).
  template <typename T>
  struct BnStats {
    const Dims& d;
    const Stats<T>& st;
    double eps;
    std::vector<const T*> z;
    std::vector<T*> mean, invstd, var;
    void add(int slot, const at::Tensor& zt) {
      z.push_back(zt.data_ptr<T>());
      mean.push_back(st.mean(slot));
      invstd.push_back(st.invstd(slot));
      var.push_back(st.var(slot));
    }
    void flush() {
      if (z.empty()) return;
      bn_stats_batch<T>(z.data(), static_cast<int>(z.size()), d.N, d.C, d.Ho * d.Wo, eps,
                        mean.data(), invstd.data(), var.data());
      z.clear();
      mean.clear();
      invstd.clear();
      var.clear();
    }
  };

  // Every final BatchNorm, and the skip's sum g * x for grad w_3 (an identity item), in one
  // launch pair.
  template <typename T>
  static void final_bn_backward(BackwardState<T>& s, const std::vector<FinalBn>& fin,
                                bool skip_gy) {
    std::vector<cpu::BnBackwardItem<T>> items;
    for (const FinalBn& f : fin) {
      const int slot = final_slot(f.k, s.d.s);
      if (f.propagate) s.dz[slot] = act_like<CudaKernels>(s.zs.z[slot]);
      items.push_back({s.zs.z[slot].template data_ptr<T>(), s.st.mean(slot), s.st.invstd(slot),
                       s.wv.value(f.k), s.wv.ptr(f.k), ptr<T>(s.dz[slot]), s.sum_gy(f.k)});
    }
    if (skip_gy)
      items.push_back(
          {s.x.template data_ptr<T>(), nullptr, nullptr, T(0), nullptr, nullptr, s.sum_gy(3)});
    if (!items.empty())
      bn_backward_batch<T>(s.g.template data_ptr<T>(), items.data(), static_cast<int>(items.size()),
                           false, s.training, s.d.N, s.d.C, s.HWo());
    for (const FinalBn& f : fin) s.release_final_input(final_slot(f.k, s.d.s));
  }
};

}  // namespace nasfast::darts_edge

#pragma once
// The CPU kernel policy of the fused DARTS edge in the NCHW layout (darts_edge_forward.h,
// darts_edge_backward.h): the kernels of darts_edge_nchw.h plane by plane, the NCHW tensor steps
// (darts_edge_nchw_steps.h), and the final BatchNorms differentiated one slot at a time.
// darts_edge.cpp runs it where darts_edge_layout.h picks NCHW; the CUDA host emulation's test
// (tests/cuda_emu) compares the CUDA policy with it.
#include <ATen/ATen.h>

#include <vector>

#include "common/cpu_buffer_cache.h"
#include "ops/darts_edge/cpu/darts_edge_nchw.h"
#include "ops/darts_edge/darts_edge_backward_state.h"
#include "ops/darts_edge/darts_edge_nchw_steps.h"
#include "ops/darts_edge/darts_edge_tensors.h"

namespace nasfast::darts_edge {

struct CpuNchwKernels : NchwSteps<CpuNchwKernels> {
  static at::Tensor empty(at::IntArrayRef sizes, const at::TensorOptions& o) {
    return cached_empty(sizes, o);
  }
  // One slot at a time: each BatchNorm reads its input right after it was written (from cache).
  template <typename T>
  using BnStats = BnStatsPerSlot<CpuNchwKernels, T>;

  template <typename T, typename... A>
  static void stage1_forward(A... a) {
    cpu::nchw::stage1_forward<T>(a...);
  }
  template <typename T, typename... A>
  static void bn_stats(A... a) {
    cpu::nchw::bn_stats<T>(a...);
  }
  template <typename T, typename... A>
  static void bn_relu_dw_forward(A... a) {
    cpu::nchw::bn_relu_dw_forward<T>(a...);
  }
  // The scale pointers (device copies of the mixing weights) are null on CPU: values suffice.
  template <typename T>
  static void mix_forward(const T* const* z, const T* const* mean, const T* const* invstd,
                          const T* wk, const T* const* /*wk_ptr*/, int K, int64_t N, int64_t C,
                          int64_t HW, T* out) {
    cpu::nchw::mix_forward<T>(z, mean, invstd, wk, K, N, C, HW, out);
  }
  template <typename T>
  static void bn_backward(const T* g, const T* z, const T* mean, const T* invstd, T scale,
                          const T* /*scale_ptr*/, bool relu_mask, bool training, int64_t N,
                          int64_t C, int64_t HW, T* dz, double* sum_gy) {
    cpu::nchw::bn_backward<T>(g, z, mean, invstd, scale, relu_mask, training, N, C, HW, dz, sum_gy);
  }
  template <typename T, typename... A>
  static void bn_relu_dw_backward(A... a) {
    cpu::nchw::bn_relu_dw_backward<T>(a...);
  }
  template <typename T>
  static void stage1_backward(const T* x, const Dims& d, const T* const* dw_w, const T* const* g_dw,
                              const T* g_max, const T* g_avg, const T* g_fr0, const T* g_fr1,
                              const T* g_skip, T skip_w, const T* /*skip_w_ptr*/, T* gx,
                              T* const* dw_grad) {
    cpu::nchw::stage1_backward<T>(x, d, dw_w, g_dw, g_max, g_avg, g_fr0, g_fr1, g_skip, skip_w, gx,
                                  dw_grad);
  }
  template <typename T, typename... A>
  static void pointwise(A... a) {
    cpu::nchw::pointwise<T>(a...);
  }

  // The final BatchNorms one slot at a time (each dz written while its z is in cache), and the
  // skip's sum g * x for grad w_3.
  template <typename T>
  static void final_bn_backward(BackwardState<T>& s, const std::vector<FinalBn>& fin,
                                bool skip_gy) {
    if (skip_gy)
      *s.sum_gy(3) =
          cpu::nchw::dot<T>(s.g.template data_ptr<T>(), s.x.template data_ptr<T>(), s.g.numel());
    for (const FinalBn& f : fin) {
      const int slot = final_slot(f.k, s.d.s);
      if (f.propagate) s.dz[slot] = act_like<CpuNchwKernels>(s.zs.z[slot]);
      cpu::nchw::bn_backward<T>(s.g.template data_ptr<T>(), s.zs.z[slot].template data_ptr<T>(),
                                s.st.mean(slot), s.st.invstd(slot), s.wv.value(f.k), false,
                                s.training, s.d.N, s.d.C, s.HWo(), ptr<T>(s.dz[slot]),
                                s.sum_gy(f.k));
      s.release_final_input(slot);
    }
  }
};

}  // namespace nasfast::darts_edge

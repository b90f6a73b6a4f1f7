#pragma once
// The CPU kernel policy of the fused DARTS edge in the channels-last layout (darts_edge_forward.h,
// darts_edge_backward.h): activations are [N, C, H, W] tensors whose memory is [N, H, W, C], the
// kernels of darts_edge_nhwc.h vectorise over channels, and each 1x1 conv is one GEMM over all
// pixels (K's own up to 16 vectors of output channels, else ATen's). darts_edge.cpp runs it where
// darts_edge_layout.h picks channels-last.
//
// The backward keeps the input gradient of each BatchNorm that sits on a C x C 1x1 conv as
// per-channel coefficients and forms it chunk by chunk inside that conv's gradient GEMMs (sizes
// K's own GEMMs take, in_gemm), never written out; the input gradients of the pools' BatchNorms
// likewise, formed inside the pool-gradient scatter from the pool values it recomputes
// (cpu::nhwc::PoolBnGrads), so the recompute writes no pool either (cpu::nhwc::PoolGySums).
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "common/cpu_buffer_cache.h"
#include "ops/darts_edge/cpu/darts_edge_nchw.h"
#include "ops/darts_edge/cpu/darts_edge_nhwc.h"
#include "ops/darts_edge/darts_edge_backward_state.h"
#include "ops/darts_edge/darts_edge_forward.h"
#include "ops/darts_edge/darts_edge_tensors.h"

namespace nasfast::darts_edge {

// A small contiguous matrix transposed (ATen's general transposing copy moved one element per
// memcpy call: ~7 us for a 64 x 64 weight).
template <typename T>
at::Tensor transposed(const at::Tensor& m) {
  const int64_t R = m.size(0), S = m.size(1);
  at::Tensor t = at::empty({S, R}, m.options());
  const T* a = m.data_ptr<T>();
  T* b = t.data_ptr<T>();
  constexpr int64_t B = 8;  // 8 x 8 tiles: both sides touch a few cache lines per tile
  for (int64_t r0 = 0; r0 < R; r0 += B)
    for (int64_t s0 = 0; s0 < S; s0 += B) {
      const int64_t r1 = std::min(R, r0 + B), s1 = std::min(S, s0 + B);
      for (int64_t s = s0; s < s1; ++s)
        for (int64_t r = r0; r < r1; ++r) b[s * R + r] = a[r * S + s];
    }
  return t;
}

// A channels-last [N, C, H, W] tensor as the matrix [N * H * W, C] (a view).
inline at::Tensor pixel_rows(const at::Tensor& t) {
  return t.permute({0, 2, 3, 1}).reshape({-1, t.size(1)});
}

struct CpuNhwcKernels {
  static at::Tensor empty(at::IntArrayRef sizes, const at::TensorOptions& o) {
    return cached_empty(sizes, o);
  }
  template <typename T>
  using BnStats = BnStatsPerSlot<CpuNhwcKernels, T>;
  static at::TensorOptions act_options(const at::TensorOptions& o) {
    return o.memory_format(at::MemoryFormat::ChannelsLast);
  }

  // x (any strides) channels-last, and back to the memory format channels_last_io picks (own
  // layout changes: ATen's general strided copy is slower). With channels-last inputs neither
  // changes anything.
  static at::Tensor to_layout(const at::Tensor& t) {
    if (!t.is_contiguous() || t.dim() != 4) return t.contiguous(at::MemoryFormat::ChannelsLast);
    at::Tensor out =
        cached_empty(t.sizes(), t.options().memory_format(at::MemoryFormat::ChannelsLast));
    AT_DISPATCH_FLOATING_TYPES(t.scalar_type(), "darts_edge_to_nhwc", [&] {
      cpu::nhwc::to_nhwc<scalar_t>(t.data_ptr<scalar_t>(), t.size(0), t.size(1),
                                   t.size(2) * t.size(3), out.data_ptr<scalar_t>());
    });
    return out;
  }
  static at::Tensor from_layout(const at::Tensor& t, bool channels_last) {
    if (channels_last) return t;
    if (!t.is_contiguous(at::MemoryFormat::ChannelsLast) || t.dim() != 4) return t.contiguous();
    at::Tensor out = cached_empty(t.sizes(), t.options());
    AT_DISPATCH_FLOATING_TYPES(t.scalar_type(), "darts_edge_to_nchw", [&] {
      cpu::nhwc::to_nchw<scalar_t>(t.data_ptr<scalar_t>(), t.size(0), t.size(1),
                                   t.size(2) * t.size(3), out.data_ptr<scalar_t>());
    });
    return out;
  }

  // Tensor j of `saved` ([S, N, C, Ho, Wo], contiguous) as an activation whose memory holds
  // [N, Ho, Wo, C].
  static at::Tensor saved_slot(const at::Tensor& saved, int64_t j) {
    const int64_t N = saved.size(1), C = saved.size(2), H = saved.size(3), W = saved.size(4);
    const int64_t offset = saved.storage_offset() + j * N * C * H * W;
    return saved.as_strided({N, C, H, W}, {H * W * C, 1, W * C, C}, offset);
  }

  template <typename T, typename... A>
  static void stage1_forward(A... a) {
    cpu::nhwc::stage1_forward<T>(a...);
  }
  template <typename T, typename... A>
  static void bn_stats(A... a) {
    cpu::nhwc::bn_stats<T>(a...);
  }
  template <typename T, typename... A>
  static void bn_relu_dw_forward(A... a) {
    cpu::nhwc::bn_relu_dw_forward<T>(a...);
  }
  template <typename T>
  static void mix_forward(const T* const* z, const T* const* mean, const T* const* invstd,
                          const T* wk, const T* const* /*wk_ptr*/, int K, int64_t N, int64_t C,
                          int64_t HW, T* out) {
    cpu::nhwc::mix_forward<T>(z, mean, invstd, wk, K, N, C, HW, out);
  }
  template <typename T>
  static void bn_backward(const T* g, const T* z, const T* mean, const T* invstd, T scale,
                          const T* /*scale_ptr*/, bool relu_mask, bool training, int64_t N,
                          int64_t C, int64_t HW, T* dz, double* sum_gy) {
    cpu::nhwc::bn_backward<T>(g, z, mean, invstd, scale, relu_mask, training, N, C, HW, dz, sum_gy);
  }

  // Whether a BatchNorm's input gradient is formed inside the GEMMs of the C x C 1x1 conv that
  // reads it (cpu::nhwc::bn_gemm_grads) instead of written out: K's own GEMM sizes.
  template <typename T>
  static bool bn_in_gemm(int64_t C) {
    return cpu::nhwc::own_gemm_size<T>(C, C);
  }

  // 1x1 conv [Co, Ci] on in [N, Ci, H, W] (channel slice [c0, c0 + Ci) of a larger tensor
  // allowed through in_c0), written into channels [o0, o0 + Co) of out: one GEMM
  // [N * H * W, Ci] x [Ci, Co].
  template <typename T>
  static void conv1x1(const at::Tensor& w, const at::Tensor& in, int64_t in_c0, at::Tensor& out,
                      int64_t out_c0, bool transpose_w = false) {
    const int64_t co = transpose_w ? w.size(1) : w.size(0);
    const int64_t ci = transpose_w ? w.size(0) : w.size(1);
    const at::Tensor w2 = w.view({w.size(0), w.size(1)});
    const at::Tensor b = transpose_w ? w2 : transposed<T>(w2);  // [ci, co]
    const int64_t M = in.size(0) * in.size(2) * in.size(3);
    if (cpu::nhwc::gemm_rows<T>(in.data_ptr<T>() + in_c0, in.size(1), M, ci, b.data_ptr<T>(), co,
                                out.data_ptr<T>() + out_c0, out.size(1)))
      return;
    const at::Tensor a = pixel_rows(in).narrow(1, in_c0, ci);
    at::Tensor o = pixel_rows(out).narrow(1, out_c0, co);
    at::mm_out(o, a, b);
  }

  // (dW or undefined, din) of a 1x1 conv w: dW = dz^T in (when in is defined), din = W^T dz,
  // dz the written-out gradient (channels [dz_c0, dz_c0 + Co) of grad.dz) or formed from
  // grad.coef inside the GEMMs. Sizes K's own GEMMs take: one pass over dz for both.
  template <typename T>
  static std::pair<at::Tensor, at::Tensor> conv1x1_grads(const BnInputGrad<T>& grad, int64_t dz_c0,
                                                         const at::Tensor& in,
                                                         const at::Tensor& w) {
    const at::Tensor& dz = grad.coef.defined() ? grad.g : grad.dz;
    at::Tensor din =
        empty({dz.size(0), w.size(1), dz.size(2), dz.size(3)}, act_options(dz.options()));
    at::Tensor gw = in.defined() ? at::empty(w.sizes(), w.options()) : at::Tensor();
    const int64_t M = dz.size(0) * dz.size(2) * dz.size(3);
    const int64_t ldi = in.defined() ? in.size(1) : 0;
    if (grad.coef.defined()) {
      const bool taken = cpu::nhwc::bn_gemm_grads<T>(
          {grad.g.template data_ptr<T>(), grad.z.template data_ptr<T>(), grad.mean, grad.invstd,
           grad.coef.template data_ptr<T>(), grad.relu_mask},
          M, w.size(0), w.data_ptr<T>(), w.size(1), din.data_ptr<T>(), din.size(1), ptr<T>(in), ldi,
          ptr<T>(gw));
      TORCH_INTERNAL_ASSERT(taken, "conv1x1_grads: sizes that bn_in_gemm does not take");
      return {gw, din};
    }
    if (cpu::nhwc::gemm_grads<T>(dz.data_ptr<T>() + dz_c0, dz.size(1), M, w.size(0),
                                 w.data_ptr<T>(), w.size(1), din.data_ptr<T>(), din.size(1),
                                 ptr<T>(in), ldi, ptr<T>(gw)))
      return {gw, din};
    conv1x1<T>(w, dz, dz_c0, din, 0, /*transpose_w=*/true);  // sizes left to ATen
    if (!in.defined()) return {at::Tensor(), din};
    const at::Tensor a = pixel_rows(dz).narrow(1, dz_c0, w.size(0));
    return {at::mm(a.t(), pixel_rows(in)).reshape(w.sizes()), din};
  }

  // The backward's recompute of the first stage: instead of the pools, their BatchNorms' sums
  // of g * y (s.pool_gy), which is all final_bn_backward needs of them.
  template <typename T>
  static void recompute_stage1(BackwardState<T>& s, int64_t active) {
    cpu::nhwc::PoolGySums<T> ps{s.g.template data_ptr<T>(),
                                {s.st.mean(kMax), s.st.mean(kAvg)},
                                {s.st.invstd(kMax), s.st.invstd(kAvg)},
                                {nullptr, nullptr}};
    for (int p = 0; p < 2; ++p)
      if (is_active(s.active, 1 + p)) {
        s.pool_gy[p].assign(s.d.C, 0.0);
        ps.sums[p] = s.pool_gy[p].data();
      }
    s.b = alloc_stage1<CpuNhwcKernels>(s.x, s.d, active, /*pools=*/false);
    const Stage1Pointers<T> p = stage1_pointers<T>(s.b, s.cw);
    cpu::nhwc::stage1_forward_pool_sums<T>(s.x.template data_ptr<T>(), s.d, p.w.data(),
                                           p.out.data(), ptr<T>(s.b.fr0), ptr<T>(s.b.fr1), ps);
  }

  // The final BatchNorms in two passes over g (cpu::nhwc::bn_backward_final), and the skip's sum
  // g * x for grad w_3. The pools' input gradients, and where bn_in_gemm those of the slots
  // with a C x C 1x1 conv below, are kept as coefficients.
  template <typename T>
  static void final_bn_backward(BackwardState<T>& s, const std::vector<FinalBn>& fin,
                                bool skip_gy) {
    if (skip_gy)
      *s.sum_gy(3) =
          cpu::nchw::dot<T>(s.g.template data_ptr<T>(), s.x.template data_ptr<T>(), s.g.numel());
    const bool in_gemm = bn_in_gemm<T>(s.d.C);
    std::vector<const T*> z, mean, invstd;
    std::vector<T> scale;
    std::vector<T*> dzp, coefp;
    std::vector<double*> sgp;
    std::vector<const double*> gy;
    for (const FinalBn& f : fin) {
      const int slot = final_slot(f.k, s.d.s);
      const bool pool = slot == kMax || slot == kAvg;  // never written: the recompute's sums
      if (f.propagate && (pool || (in_gemm && slot != kFr))) {
        s.coef[slot] = at::empty({3, s.d.C}, s.x.options());
      } else if (f.propagate) {
        s.dz[slot] = act_like<CpuNhwcKernels>(s.zs.z[slot]);
      }
      z.push_back(pool ? nullptr : s.zs.z[slot].template data_ptr<T>());
      gy.push_back(pool ? s.pool_gy[slot == kMax ? 0 : 1].data() : nullptr);
      mean.push_back(s.st.mean(slot));
      invstd.push_back(s.st.invstd(slot));
      scale.push_back(s.wv.value(f.k));
      dzp.push_back(ptr<T>(s.dz[slot]));
      sgp.push_back(s.sum_gy(f.k));
      coefp.push_back(ptr<T>(s.coef[slot]));
    }
    cpu::nhwc::bn_backward_final<T>(s.g.template data_ptr<T>(), static_cast<int>(fin.size()),
                                    z.data(), mean.data(), invstd.data(), scale.data(), s.training,
                                    s.d.N, s.d.C, s.HWo(), dzp.data(), sgp.data(), coefp.data(),
                                    gy.data());
    for (const FinalBn& f : fin) {
      const int slot = final_slot(f.k, s.d.s);
      if (slot >= 0 && !s.coef[slot].defined()) s.release_final_input(slot);
    }
  }

  // The backward of the sep hidden conv dw(relu(BN(z))): ga, the depthwise weight gradient (dw,
  // null: not wanted) and, where bn_in_gemm, the BatchNorm's input-gradient coefficients from
  // the same pass (else undefined: left to the caller).
  template <typename T>
  static at::Tensor hidden_conv_backward(const at::Tensor& gh, const at::Tensor& z, const T* mean,
                                         const T* invstd, const Dims& d, const at::Tensor& w,
                                         DwSpec spec, bool training, at::Tensor& ga, T* dw) {
    if (!bn_in_gemm<T>(d.C)) {
      cpu::nhwc::bn_relu_dw_backward<T>(gh.data_ptr<T>(), z.data_ptr<T>(), mean, invstd, d.N, d.C,
                                        d.Ho, d.Wo, w.data_ptr<T>(), spec, ga.data_ptr<T>(), dw);
      return {};
    }
    at::Tensor coef = at::empty({3, d.C}, z.options());
    cpu::nhwc::bn_relu_dw_backward_coef<T>(gh.data_ptr<T>(), z.data_ptr<T>(), mean, invstd, d.N,
                                           d.C, d.Ho, d.Wo, w.data_ptr<T>(), spec, training,
                                           ga.data_ptr<T>(), dw, coef.data_ptr<T>());
    return coef;
  }

  // grad x in one pass from every branch's gradient at the first stage, the pools' gradients
  // formed from their BatchNorms' coefficients, and the skip (g_skip = g when `skip`).
  template <typename T>
  static void input_grad_pass(const BackwardState<T>& s, const T* const* w, const T* const* gd,
                              bool skip, at::Tensor& gx, T* const* gdw) {
    const T* g = s.g.template data_ptr<T>();
    const cpu::nhwc::PoolBnGrads<T> pools{g,
                                          {s.st.mean(kMax), s.st.mean(kAvg)},
                                          {s.st.invstd(kMax), s.st.invstd(kAvg)},
                                          {ptr<T>(s.coef[kMax]), ptr<T>(s.coef[kAvg])}};
    cpu::nhwc::stage1_backward_pool_bn<T>(s.x.template data_ptr<T>(), s.d, w, gd, pools,
                                          ptr<T>(s.g_fr0), ptr<T>(s.g_fr1), skip ? g : nullptr,
                                          s.wv.value(3), gx.data_ptr<T>(), gdw);
  }
};

}  // namespace nasfast::darts_edge

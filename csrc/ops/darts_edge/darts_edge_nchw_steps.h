#pragma once
// The tensor-level steps of the fused DARTS edge in the NCHW layout, shared by the CPU NCHW
// policy (cpu/darts_edge_nchw_policy.h) and the CUDA one (cuda/darts_edge_cuda_policy.h), which
// derive from NchwSteps<Their policy> and supply the kernels (K::pointwise, K::stage1_backward,
// ...): activations are contiguous [N, C, H, W], 1x1 convs are K's pointwise kernel, weight
// gradients ATen's bmm, and every BatchNorm input gradient is written out.
#include <ATen/ATen.h>

#include <utility>

#include "ops/darts_edge/darts_edge_backward_state.h"
#include "ops/darts_edge/darts_edge_forward.h"
#include "ops/darts_edge/darts_edge_tensors.h"

namespace nasfast::darts_edge {

template <typename K>
struct NchwSteps {
  static at::TensorOptions act_options(const at::TensorOptions& o) { return o; }

  // t in the kernels' layout, and an activation back in the memory format channels_last_io picks.
  static at::Tensor to_layout(const at::Tensor& t) { return t.contiguous(); }
  static at::Tensor from_layout(const at::Tensor& t, bool channels_last) {
    return channels_last ? t.contiguous(at::MemoryFormat::ChannelsLast) : t;
  }

  // Tensor j of `saved` ([S, N, C, Ho, Wo], contiguous) as an activation. One as_strided view
  // (select, view and permute were three dispatches, ~3 us per slot).
  static at::Tensor saved_slot(const at::Tensor& saved, int64_t j) {
    const int64_t N = saved.size(1), C = saved.size(2), H = saved.size(3), W = saved.size(4);
    const int64_t offset = saved.storage_offset() + j * N * C * H * W;
    return saved.as_strided({N, C, H, W}, {C * H * W, H * W, W, 1}, offset);
  }

  // 1x1 conv [Co, Ci] on in [N, Ci, H, W] (channel slice [c0, c0 + Ci) of a larger tensor
  // allowed through in_c0), written into channels [o0, o0 + Co) of out.
  template <typename T>
  static void conv1x1(const at::Tensor& w, const at::Tensor& in, int64_t in_c0, at::Tensor& out,
                      int64_t out_c0, bool transpose_w = false) {
    const int64_t co = transpose_w ? w.size(1) : w.size(0);
    const int64_t ci = transpose_w ? w.size(0) : w.size(1);
    const int64_t P = in.size(2) * in.size(3);
    const int64_t wco = transpose_w ? 1 : ci, wci = transpose_w ? co : 1;
    K::template pointwise<T>(w.data_ptr<T>(), wco, wci, in.data_ptr<T>() + in_c0 * P,
                             in.size(1) * P, in.size(0), co, ci, P, out.data_ptr<T>() + out_c0 * P,
                             out.size(1) * P);
  }

  // (dW or undefined, din) of a 1x1 conv w whose output gradient (channels [dz_c0, dz_c0 + Co)
  // of grad.dz) is written out: dW = sum_n dz[n] in[n]^T (one GEMM batched over samples and
  // summed; when in is defined), din = W^T dz.
  template <typename T>
  static std::pair<at::Tensor, at::Tensor> conv1x1_grads(const BnInputGrad<T>& grad, int64_t dz_c0,
                                                         const at::Tensor& in,
                                                         const at::Tensor& w) {
    TORCH_INTERNAL_ASSERT(!grad.coef.defined(), "NCHW: BatchNorm input gradients are written out");
    const at::Tensor& dz = grad.dz;
    at::Tensor gw;
    if (in.defined()) {
      const at::Tensor a = dz.narrow(1, dz_c0, w.size(0)).flatten(2);  // [N, Co, P]
      gw = at::bmm(a, in.flatten(2).transpose(1, 2)).sum(0).reshape(w.sizes());
    }
    at::Tensor din =
        K::empty({dz.size(0), w.size(1), dz.size(2), dz.size(3)}, act_options(dz.options()));
    conv1x1<T>(w, dz, dz_c0, din, 0, /*transpose_w=*/true);
    return {gw, din};
  }

  // The backward's recompute of the first stage for the primitives in `active`.
  template <typename T>
  static void recompute_stage1(BackwardState<T>& s, int64_t active) {
    s.b = stage1<K, T>(s.x, s.d, s.cw, active);
  }

  // The backward of the sep hidden conv dw(relu(BN(z))): ga and the depthwise weight gradient
  // (dw, null: not wanted). The BatchNorm's input gradient is left to the caller (undefined).
  template <typename T>
  static at::Tensor hidden_conv_backward(const at::Tensor& gh, const at::Tensor& z, const T* mean,
                                         const T* invstd, const Dims& d, const at::Tensor& w,
                                         DwSpec spec, bool /*training*/, at::Tensor& ga, T* dw) {
    K::template bn_relu_dw_backward<T>(gh.data_ptr<T>(), z.data_ptr<T>(), mean, invstd, d.N, d.C,
                                       d.Ho, d.Wo, w.data_ptr<T>(), spec, ga.data_ptr<T>(), dw);
    return {};
  }

  // grad x in one pass from every branch's gradient at the first stage, the pools' BatchNorm
  // input gradients and the skip (g_skip = g when `skip`).
  template <typename T>
  static void input_grad_pass(const BackwardState<T>& s, const T* const* w, const T* const* gd,
                              bool skip, at::Tensor& gx, T* const* gdw) {
    K::template stage1_backward<T>(s.x.template data_ptr<T>(), s.d, w, gd, ptr<T>(s.dz[kMax]),
                                   ptr<T>(s.dz[kAvg]), ptr<T>(s.g_fr0), ptr<T>(s.g_fr1),
                                   skip ? s.g.template data_ptr<T>() : nullptr, s.wv.value(3),
                                   s.wv.ptr(3), gx.data_ptr<T>(), gdw);
  }
};

}  // namespace nasfast::darts_edge

#pragma once
// The device-generic backward of the fused DARTS edge (policies: see darts_edge_forward.h), in
// phases over one BackwardState:
//  1. recompute: the first stage (K::recompute_stage1) and, from `saved` or from scratch, the
//     BatchNorm inputs; with `saved` the backward runs no forward GEMM again, and recomputes the
//     first depthwise stages and the sep hidden tensors only for the conv-weight gradients;
//  2. the final BatchNorms, folded with the weighted sum (grad w_k = <g, y_k> comes out of the
//     same reduction; K::final_bn_backward);
//  3. the branches below them: sep convs, dil convs, FactorizedReduce (1x1-conv and depthwise
//     gradients);
//  4. one pass that writes grad x from every branch (K::input_grad_pass).
// A policy may keep the gradient at a BatchNorm's input as coefficients formed inside the GEMMs
// that read it (BnInputGrad), never written out. Gradients autograd does not need (NeedGrad) are
// not computed: with frozen conv weights (the DARTS architect's alpha-only passes) no
// weight-gradient GEMM or depthwise weight reduction runs.
#include <ATen/ATen.h>

#include <tuple>
#include <utility>
#include <vector>

#include "ops/darts_edge/darts_edge_backward_state.h"
#include "ops/darts_edge/darts_edge_forward.h"
#include "ops/darts_edge/darts_edge_tensors.h"

namespace nasfast::darts_edge {

// Phase 1. Without `saved` every intermediate is recomputed from x.
template <typename K, typename T>
void recompute(BackwardState<T>& s, const at::Tensor& saved_in) {
  if (saved_in.numel() > 0) {
    const at::Tensor saved = saved_in.contiguous();
    // The pools always; the first depthwise stages (and FR's subsampled inputs) only for the
    // conv-weight gradients.
    constexpr int64_t kPools = (1 << 1) | (1 << 2);
    K::template recompute_stage1<T>(s, s.active & (s.need.conv ? ~int64_t{0} : kPools));
    s.zs = saved_outputs<K, T>(s.b, s.d, s.cw, s.active, s.st, saved, s.need.conv);
  } else {
    K::template recompute_stage1<T>(s, s.active);
    const at::Tensor none;
    s.zs = BranchForward<K, T>{s.b, s.d, s.cw, s.active, s.st, nullptr, false, none}.run();
  }
}

// Phase 2, the part every policy shares: which final BatchNorms to differentiate; the z of the
// others is dead. Returns them, and whether the skip's sum g * x for grad w_3 is wanted (stride
// 1: the skip has no BatchNorm).
template <typename T>
std::pair<std::vector<FinalBn>, bool> final_batchnorms(BackwardState<T>& s) {
  const bool below = s.need.x || s.need.conv;  // propagate below the final BatchNorms
  std::vector<FinalBn> fin;
  bool skip_gy = false;
  for (int k = 1; k < kOps; ++k) {
    if (!is_active(s.active, k)) continue;
    const int slot = final_slot(k, s.d.s);
    // w_k = 0: every gradient through branch k is exactly 0
    const bool prop = below && s.wv.maybe_nonzero(k);
    if (slot < 0) {
      skip_gy = s.need.weights;
    } else if (prop || s.need.weights) {
      fin.push_back({k, prop});
    } else {
      s.zs.z[slot].reset();
    }
  }
  return {fin, skip_gy};
}

// Phase 3, sep conv i (0: sep3, 1: sep5), upper half: the second 1x1 conv and the hidden
// depthwise conv. Returns the gradient at the first BatchNorm's ReLU output (ga) and, where the
// policy keeps it so, the coefficients of the first BatchNorm's input gradient.
template <typename K, typename T>
std::pair<at::Tensor, at::Tensor> sep_upper_backward(BackwardState<T>& s, int i) {
  const int slot2 = i == 0 ? kSep3Bn2 : kSep5Bn2, s1 = slot2 - 1;
  const int base = i == 0 ? kSep3Dw1 : kSep5Dw1;
  const int k = i == 0 ? 3 : 5;
  const at::Tensor h = s.need.conv ? s.zs.h[i] : at::Tensor();
  auto [gw2, gh] = K::template conv1x1_grads<T>(s.bn_grad(slot2, s.g, false), 0, h, s.cw[base + 3]);
  if (s.need.conv) s.gcw[base + 3] = gw2;
  s.zs.h[i].reset();
  s.zs.z[slot2].reset();
  s.dz[slot2].reset();
  at::Tensor ga = act_like<K>(gh);
  if (s.need.conv) s.gcw[base + 2] = at::empty_like(s.cw[base + 2]);
  at::Tensor c1 = K::template hidden_conv_backward<T>(
      gh, s.zs.z[s1], s.st.mean(s1), s.st.invstd(s1), s.d, s.cw[base + 2], DwSpec{k, k / 2, 1},
      s.training, ga, ptr<T>(s.need.conv ? s.gcw[base + 2] : at::Tensor()));
  return {ga, c1};
}

// Phase 3, sep conv i, lower half: the first BatchNorm (its input gradient from ga, written out
// unless the policy gave coefficients c1) and the first 1x1 conv.
template <typename K, typename T>
void sep_lower_backward(BackwardState<T>& s, int i, at::Tensor& ga, const at::Tensor& c1) {
  const int s1 = i == 0 ? kSep3Bn1 : kSep5Bn1;
  const int base = i == 0 ? kSep3Dw1 : kSep5Dw1;
  const at::Tensor dw1 = s.need.conv ? s.b.dw1[i] : at::Tensor();
  at::Tensor gw1;
  if (c1.defined()) {
    const at::Tensor none;
    std::tie(gw1, s.g_dw1[i]) = K::template conv1x1_grads<T>(
        {none, c1, ga, s.zs.z[s1], s.st.mean(s1), s.st.invstd(s1), true}, 0, dw1, s.cw[base + 1]);
  } else {
    at::Tensor dz1 = act_like<K>(ga);
    K::template bn_backward<T>(ga.data_ptr<T>(), s.zs.z[s1].template data_ptr<T>(), s.st.mean(s1),
                               s.st.invstd(s1), T(1), nullptr, true, s.training, s.d.N, s.d.C,
                               s.HWo(), dz1.data_ptr<T>(), nullptr);
    const at::Tensor none;
    std::tie(gw1, s.g_dw1[i]) = K::template conv1x1_grads<T>(
        {dz1, none, ga, s.zs.z[s1], s.st.mean(s1), s.st.invstd(s1), true}, 0, dw1, s.cw[base + 1]);
  }
  s.zs.z[s1].reset();
  ga.reset();
  if (s.need.conv) s.gcw[base + 1] = gw1;
  s.b.dw1[i].reset();
}

template <typename K, typename T>
void sep_backward(BackwardState<T>& s, int i) {
  auto [ga, c1] = sep_upper_backward<K, T>(s, i);
  sep_lower_backward<K, T>(s, i, ga, c1);
}

// Phase 3, dil conv i (2: dil3, 3: dil5): its 1x1 conv.
template <typename K, typename T>
void dil_backward(BackwardState<T>& s, int i) {
  const int slot = i == 2 ? kDil3 : kDil5;
  const at::Tensor dw1 = s.need.conv ? s.b.dw1[i] : at::Tensor();
  auto [gw, gin] =
      K::template conv1x1_grads<T>(s.bn_grad(slot, s.g, false), 0, dw1, s.cw[kStage1Pw[i]]);
  s.g_dw1[i] = gin;
  if (s.need.conv) s.gcw[kStage1Pw[i]] = gw;
  s.dz[slot].reset();
  s.zs.z[slot].reset();
  s.b.dw1[i].reset();
}

// Phase 3, FactorizedReduce: its two 1x1 convs (output channels [0, C/2) and [C/2, C)).
template <typename K, typename T>
void factorized_reduce_backward(BackwardState<T>& s) {
  const at::Tensor none;
  const BnInputGrad<T> g{s.dz[kFr], none, s.g, s.zs.z[kFr], nullptr, nullptr, false};
  auto [gw1, g0] =
      K::template conv1x1_grads<T>(g, 0, s.need.conv ? s.b.fr0 : at::Tensor(), s.cw[kFrConv1]);
  auto [gw2, g1] = K::template conv1x1_grads<T>(g, s.d.C / 2, s.need.conv ? s.b.fr1 : at::Tensor(),
                                                s.cw[kFrConv2]);
  s.g_fr0 = g0;
  s.g_fr1 = g1;
  if (s.need.conv) {
    s.gcw[kFrConv1] = gw1;
    s.gcw[kFrConv2] = gw2;
  }
}

// Phase 4: grad x from every branch (and the first depthwise stages' weight gradients).
template <typename K, typename T>
at::Tensor input_grad(BackwardState<T>& s) {
  std::array<const T*, 4> w{}, gd{};
  std::array<T*, 4> gdw{};
  for (int i = 0; i < 4; ++i) {
    if (!s.g_dw1[i].defined()) continue;
    w[i] = s.cw[kStage1Dw[i]].template data_ptr<T>();
    gd[i] = s.g_dw1[i].template data_ptr<T>();
    if (s.need.conv) {
      s.gcw[kStage1Dw[i]] = at::empty_like(s.cw[kStage1Dw[i]]);
      gdw[i] = s.gcw[kStage1Dw[i]].template data_ptr<T>();
    }
  }
  const bool skip = s.d.s == 1 && is_active(s.active, 3) && s.wv.maybe_nonzero(3);
  at::Tensor gx = act_like<K>(s.x);
  K::template input_grad_pass<T>(s, w.data(), gd.data(), skip, gx, gdw.data());
  return gx;
}

template <typename T>
BackwardState<T> backward_state(const at::Tensor& x, const at::Tensor& g,
                                const at::Tensor& stats_in, const std::vector<at::Tensor>& cw_in,
                                const MixWeights<T>& wv, int64_t s, bool training, int64_t active,
                                NeedGrad need) {
  const at::Tensor stats = stats_in.contiguous();
  std::vector<at::Tensor> cw;
  for (const auto& t : cw_in) cw.push_back(t.contiguous());
  const Dims d = dims_of(x, s);
  return BackwardState<T>{
      x,  g,        stats,  std::move(cw), d, Stats<T>{stats.data_ptr<T>(), d.C},
      wv, training, active, need};
}

// Returns (grad_x, grad_weights [8] in double, grad conv weights).
template <typename K, typename T>
std::tuple<at::Tensor, at::Tensor, std::vector<at::Tensor>> backward(
    const at::Tensor& grad, const at::Tensor& x_in, const MixWeights<T>& wv,
    const std::vector<at::Tensor>& cw_in, const at::Tensor& stats_in, const at::Tensor& saved_in,
    int64_t stride, bool training, int64_t active, NeedGrad need = {}) {
  const at::Tensor x = K::to_layout(x_in);
  const at::Tensor g = K::to_layout(grad);
  BackwardState<T> s = backward_state<T>(x, g, stats_in, cw_in, wv, stride, training, active, need);
  const auto dopts = s.x.options().dtype(at::kDouble);
  recompute<K, T>(s, saved_in);
  s.sgy = at::zeros({kOps, s.d.C}, dopts);
  s.gcw.resize(need.conv ? s.cw.size() : 0);
  auto finish = [&](const at::Tensor& gx) {
    for (size_t i = 0; i < s.gcw.size(); ++i)
      if (!s.gcw[i].defined()) s.gcw[i] = at::zeros_like(s.cw[i]);
    return std::make_tuple(gx, need.weights ? s.sgy.sum(1) : at::zeros({kOps}, dopts), s.gcw);
  };

  const auto [fin, skip_gy] = final_batchnorms(s);
  K::template final_bn_backward<T>(s, fin, skip_gy);
  s.b.maxp.reset();
  s.b.avgp.reset();
  const bool cl = channels_last_io(x_in);
  if (!need.x && !need.conv)
    return finish(
        at::empty(s.x.sizes(), s.x.options().memory_format(cl ? at::MemoryFormat::ChannelsLast
                                                              : at::MemoryFormat::Contiguous))
            .zero_());

  for (int i = 0; i < 2; ++i)
    if (s.has_grad(i == 0 ? kSep3Bn2 : kSep5Bn2)) sep_backward<K, T>(s, i);
  for (int i = 2; i < 4; ++i)
    if (s.has_grad(i == 2 ? kDil3 : kDil5)) dil_backward<K, T>(s, i);
  if (s.dz[kFr].defined()) factorized_reduce_backward<K, T>(s);
  return finish(K::from_layout(input_grad<K, T>(s), cl));
}

}  // namespace nasfast::darts_edge

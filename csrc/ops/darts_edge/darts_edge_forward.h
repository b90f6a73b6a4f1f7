#pragma once
// The device-generic forward of the fused DARTS edge, shared by the CPU op (darts_edge.cpp) and
// the CUDA glue (cuda/darts_edge_glue.cpp). `K` is a kernel policy (cpu::CpuNchwKernels,
// cpu::CpuNhwcKernels, CudaKernels): the primitive kernels of cpu/darts_edge_nchw.h as static
// members, and the tensor-level steps that depend on the layout or backend (K::conv1x1,
// K::to_layout, ...).
//
// One pass over x computes relu(x) once, the four first depthwise stages and both pools;
// pointwise convs are GEMMs; BN statistics per slot; the second sep-conv stage reads the first
// BN's normalised, rectified output on the fly; one epilogue pass forms sum_k w_k * BN_k(z_k).
// For backward it keeps x, the weights, the [3, 9, C] statistics and (with `save`) the pointwise
// outputs that feed a BatchNorm (`saved`, [S, N, C, Ho, Wo], S <= 7: FR, sep3 bn1/bn2, sep5
// bn1/bn2, dil3, dil5), so the backward (darts_edge_backward.h) runs no forward GEMM again.
#include <ATen/ATen.h>

#include <tuple>
#include <vector>

#include "ops/darts_edge/darts_edge_tensors.h"

namespace nasfast::darts_edge {

// The first stage's outputs for the primitives in `active`, allocated; the pools only with
// `pools`.
template <typename K>
Stage1Outputs alloc_stage1(const at::Tensor& x, const Dims& d, int64_t active, bool pools) {
  Stage1Outputs b;
  b.opts = K::act_options(x.options());
  for (int i = 0; i < 4; ++i)
    if (is_active(active, 4 + i)) b.dw1[i] = act_empty<K>(d, x.options());
  if (is_active(active, 1) && pools) b.maxp = act_empty<K>(d, x.options());
  if (is_active(active, 2) && pools) b.avgp = act_empty<K>(d, x.options());
  if (d.s == 2 && is_active(active, 3)) {
    b.fr0 = act_empty<K>(d, x.options());
    b.fr1 = act_empty<K>(d, x.options());
  }
  return b;
}

template <typename K, typename T>
Stage1Outputs stage1(const at::Tensor& x, const Dims& d, const std::vector<at::Tensor>& cw,
                     int64_t active) {
  Stage1Outputs b = alloc_stage1<K>(x, d, active, /*pools=*/true);
  const Stage1Pointers<T> p = stage1_pointers<T>(b, cw);
  K::template stage1_forward<T>(x.data_ptr<T>(), d, p.w.data(), p.out.data(), ptr<T>(b.maxp),
                                ptr<T>(b.avgp), ptr<T>(b.fr0), ptr<T>(b.fr1));
  return b;
}

// The pointwise convs and BatchNorm inputs below the first stage: z of every active slot and
// the sep hidden tensors. With `stats` the batch statistics are written as each slot's z
// appears (the second sep stage needs the first BN's statistics). With `forward_only` the
// tensors only backward needs (b.dw1, the first sep BN inputs, h) are released as soon as they
// are consumed, so later allocations reuse their pages. A defined `saved` receives the pointwise
// outputs (see kSavedSlots) instead of fresh tensors.
template <typename K, typename T>
struct BranchForward {
  Stage1Outputs& b;
  const Dims& d;
  const std::vector<at::Tensor>& cw;
  int64_t active;
  const Stats<T>& st;
  typename K::template BnStats<T>* stats;  // null: statistics given
  bool forward_only;
  const at::Tensor& saved;
  BranchOutputs zs;

  at::Tensor alloc(int slot) const {
    const int j = saved.defined() ? saved_index(slot, d.s, active) : -1;
    return j >= 0 ? K::saved_slot(saved, j) : act_empty<K>(d, b.opts);
  }
  at::Tensor conv1x1(int w, const at::Tensor& in, int slot) const {
    at::Tensor z = alloc(slot);
    K::template conv1x1<T>(cw[w], in, 0, z, 0);
    return z;
  }
  void bn(int slot, const at::Tensor& z) {
    zs.z[slot] = z;
    if (stats) stats->add(slot, z);
  }
  void flush() {
    if (stats) stats->flush();
  }

  void factorized_reduce() {
    at::Tensor z = alloc(kFr);
    K::template conv1x1<T>(cw[kFrConv1], b.fr0, 0, z, 0);
    K::template conv1x1<T>(cw[kFrConv2], b.fr1, 0, z, d.C / 2);
    bn(kFr, z);
  }

  void sep(int i) {
    const int base = i == 0 ? kSep3Dw1 : kSep5Dw1;
    const int s1 = i == 0 ? kSep3Bn1 : kSep5Bn1;
    at::Tensor z1 = conv1x1(base + 1, b.dw1[i], s1);
    if (forward_only) b.dw1[i].reset();
    bn(s1, z1);
    flush();  // the hidden conv reads BN s1's statistics
    const int k = i == 0 ? 3 : 5;
    at::Tensor h = act_like<K>(z1);
    K::template bn_relu_dw_forward<T>(z1.data_ptr<T>(), st.mean(s1), st.invstd(s1), d.N, d.C, d.Ho,
                                      d.Wo, cw[base + 2].data_ptr<T>(), DwSpec{k, k / 2, 1},
                                      h.data_ptr<T>());
    bn(s1 + 1, conv1x1(base + 3, h, s1 + 1));
    if (forward_only) {
      zs.z[s1].reset();
    } else {
      zs.h[i] = h;
    }
  }

  void dil(int i) {
    const int slot = i == 2 ? kDil3 : kDil5;
    bn(slot, conv1x1(i == 2 ? kDil3Pw : kDil5Pw, b.dw1[i], slot));
    if (forward_only) b.dw1[i].reset();
  }

  BranchOutputs run() {
    if (b.maxp.defined()) bn(kMax, b.maxp);
    if (b.avgp.defined()) bn(kAvg, b.avgp);
    if (b.fr0.defined()) factorized_reduce();
    for (int i = 0; i < 2; ++i)
      if (b.dw1[i].defined()) sep(i);
    for (int i = 2; i < 4; ++i)
      if (b.dw1[i].defined()) dil(i);
    flush();
    return zs;
  }
};

// The z (and, with `hidden`, h) of BranchForward from the saved pointwise outputs: pools from b,
// h recomputed from the saved first sep BN input.
template <typename K, typename T>
BranchOutputs saved_outputs(const Stage1Outputs& b, const Dims& d,
                            const std::vector<at::Tensor>& cw, int64_t active, const Stats<T>& st,
                            const at::Tensor& saved, bool hidden) {
  BranchOutputs zs;
  if (b.maxp.defined()) zs.z[kMax] = b.maxp;
  if (b.avgp.defined()) zs.z[kAvg] = b.avgp;
  for (int t : kSavedSlots) {
    const int j = saved_index(t, d.s, active);
    if (j >= 0) zs.z[t] = K::saved_slot(saved, j);
  }
  for (int i = 0; hidden && i < 2; ++i) {
    const int s1 = i == 0 ? kSep3Bn1 : kSep5Bn1;
    if (!zs.z[s1].defined()) continue;
    const int k = i == 0 ? 3 : 5;
    zs.h[i] = act_like<K>(zs.z[s1]);
    K::template bn_relu_dw_forward<T>(zs.z[s1].data_ptr<T>(), st.mean(s1), st.invstd(s1), d.N, d.C,
                                      d.Ho, d.Wo,
                                      cw[(i == 0 ? kSep3Dw1 : kSep5Dw1) + 2].data_ptr<T>(),
                                      DwSpec{k, k / 2, 1}, zs.h[i].data_ptr<T>());
  }
  return zs;
}

// [3, kSlots, C]: zeros to be filled (training; inactive slots stay 0), or from the running
// statistics [2, kSlots, C] (eval).
inline at::Tensor initial_stats(const at::Tensor& running, const Dims& d, bool training, double eps,
                                const at::TensorOptions& o) {
  if (training) return at::zeros({3, kSlots, d.C}, o);
  at::Tensor stats = at::empty({3, kSlots, d.C}, o);
  stats[0].copy_(running[0]);
  stats[1].copy_(at::reciprocal(at::sqrt(running[1] + eps)));
  stats[2].copy_(running[1]);
  return stats;
}

// out = sum_k w_k * BN_k(z_k) over the active primitives (the skip's z is x itself).
template <typename K, typename T>
at::Tensor mix(const at::Tensor& x, const BranchOutputs& zs, const Stats<T>& st,
               const MixWeights<T>& wv, const Dims& d, int64_t active) {
  std::vector<const T*> z, mean, invstd, wp;
  std::vector<T> w;
  for (int k = 1; k < kOps; ++k) {
    if (!is_active(active, k)) continue;
    const int slot = final_slot(k, d.s);
    const bool skip = slot < 0;
    z.push_back(skip ? x.data_ptr<T>() : zs.z[slot].data_ptr<T>());
    mean.push_back(skip ? nullptr : st.mean(slot));
    invstd.push_back(skip ? nullptr : st.invstd(slot));
    w.push_back(wv.value(k));
    wp.push_back(wv.ptr(k));
  }
  at::Tensor out = act_empty<K>(d, x.options());
  K::template mix_forward<T>(z.data(), mean.data(), invstd.data(), w.data(), wp.data(),
                             static_cast<int>(z.size()), d.N, d.C, d.Ho * d.Wo, out.data_ptr<T>());
  return out;
}

// Returns (out, stats, saved). `running` is [2, kSlots, C] (mean, var) in eval mode, unused in
// training. `saved` holds the kept pointwise outputs with `save`, else it is empty.
template <typename K, typename T>
std::tuple<at::Tensor, at::Tensor, at::Tensor> forward(
    const at::Tensor& x_in, const MixWeights<T>& wv, const std::vector<at::Tensor>& cw_in,
    const at::Tensor& running, int64_t s, bool training, double eps, int64_t active, bool save) {
  const at::Tensor x = K::to_layout(x_in);
  std::vector<at::Tensor> cw;
  for (const auto& t : cw_in) cw.push_back(t.contiguous());
  const Dims d = dims_of(x, s);
  const at::Tensor stats = initial_stats(running, d, training, eps, x.options());
  const Stats<T> st{stats.data_ptr<T>(), d.C};
  const at::Tensor saved =
      save ? K::empty({saved_count(s, active), d.N, d.C, d.Ho, d.Wo}, x.options())
           : at::empty({0}, x.options());
  Stage1Outputs b = stage1<K, T>(x, d, cw, active);
  typename K::template BnStats<T> batch_stats{d, st, eps};
  const at::Tensor keep = save ? saved : at::Tensor();
  const BranchOutputs zs = BranchForward<K, T>{b,
                                               d,
                                               cw,
                                               active,
                                               st,
                                               training ? &batch_stats : nullptr,
                                               /*forward_only=*/true,
                                               keep}
                               .run();
  const at::Tensor out = mix<K, T>(x, zs, st, wv, d, active);
  return {K::from_layout(out, channels_last_io(x_in)), stats, saved};
}

}  // namespace nasfast::darts_edge

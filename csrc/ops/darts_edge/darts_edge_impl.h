#pragma once
// The device-generic body of the fused DARTS edge, shared by the CPU op (darts_edge.cpp) and the
// CUDA glue (cuda/darts_edge_glue.cpp). `K` is a kernel policy (CpuKernels, CudaKernels) with the
// primitive kernels of cpu/darts_edge_cpu.h as static members; GEMMs (pointwise convs) and small
// bookkeeping go through ATen.
//
// Forward: one pass over x computes relu(x) once, the four first depthwise stages and both pools;
// pointwise convs are GEMMs; BN statistics per slot; the second sep-conv stage reads the first
// BN's normalised, rectified output on the fly; one epilogue pass forms sum_k w_k * BN_k(z_k).
// For backward it keeps x, the weights, the [3, 9, C] statistics and (with `save`) the pointwise
// outputs that feed a BatchNorm (`saved`, [S, N, C, Ho, Wo], S <= 7: FR, sep3 bn1/bn2, sep5
// bn1/bn2, dil3, dil5), so the backward runs no forward GEMM again; it recomputes only the pools
// and, when conv-weight gradients are needed, the first depthwise stages and the sep hidden
// tensors (per-plane passes, cheap next to keeping them). Without `saved` the backward recomputes
// every intermediate from x.
// The backward folds the final BatchNorm backward with the weighted sum (grad w_k = <g, y_k>
// comes out of the same reduction), and ends with one pass that writes grad x from every branch.
// Channels-last, the input gradient of each BatchNorm that sits on a C x C 1x1 conv is kept as
// per-channel coefficients and formed chunk by chunk inside that conv's gradient GEMMs
// (bn_in_gemm), never written out; the input gradients of the pools' BatchNorms likewise, formed
// inside the pool-gradient scatter from the pool values it recomputes (PoolBnGrads).
// Gradients autograd does not need (NeedGrad) are not computed: with frozen conv weights (the
// DARTS architect's alpha-only passes) no weight-gradient GEMM or depthwise weight reduction runs.
#include <ATen/ATen.h>

#include <algorithm>
#include <array>
#include <tuple>
#include <utility>
#include <vector>

#include "ops/darts_edge/cpu/darts_edge_cpu.h"
#include "ops/darts_edge/cpu/darts_edge_nhwc.h"
#include "ops/darts_edge/darts_edge.h"

namespace nasfast::darts_edge {

using cpu::Dims;
using cpu::DwSpec;
using cpu::kStage1;

inline Dims dims_of(const at::Tensor& x, int64_t s) {
  return Dims{x.size(0), x.size(1), x.size(2), x.size(3), s, (x.size(2) - 1) / s + 1,
              (x.size(3) - 1) / s + 1};
}

inline bool is_active(int64_t active, int k) { return (active >> k) & 1; }

// Activations are [N, C, H, W] tensors in the kernels' layout: contiguous, or channels-last
// contiguous when K::kChannelsLast (the kernels then read [N, H, W, C] memory).
template <typename K>
at::TensorOptions act_options(const at::TensorOptions& o) {
  return K::kChannelsLast ? o.memory_format(at::MemoryFormat::ChannelsLast) : o;
}

// Intermediates come from K::empty (on CPU a cache of freed buffers, common/cpu_buffer_cache.h).
template <typename K>
at::Tensor act_empty(const Dims& d, const at::TensorOptions& o) {
  return K::empty({d.N, d.C, d.Ho, d.Wo}, act_options<K>(o));
}

// An uninitialised activation of t's shape.
template <typename K>
at::Tensor act_like(const at::Tensor& t) {
  return K::empty(t.sizes(), act_options<K>(t.options()));
}

// Whether the edge's outputs on x (out, and grad x) are channels-last: exactly when x is
// channels-last contiguous and not also contiguous (as conv2d, the output follows the input's
// memory format; the fake implementations in nasfast/ops/darts_edge.py apply the same rule).
inline bool channels_last_io(const at::Tensor& x) {
  return x.dim() == 4 && x.is_contiguous(at::MemoryFormat::ChannelsLast) && !x.is_contiguous();
}

// t in the kernels' layout, and an activation back in the memory format channels_last_io picks
// (K's own layout changes where it has them: ATen's general strided copy is slower). With
// channels-last kernels and channels-last inputs neither changes anything.
template <typename K>
at::Tensor in_layout(const at::Tensor& t) {
  if constexpr (K::kChannelsLast) return K::channels_last(t);
  return t.contiguous();
}

template <typename K>
at::Tensor out_of_layout(const at::Tensor& t, bool channels_last) {
  if constexpr (K::kChannelsLast) {
    return channels_last ? t : K::channels_first(t);
  } else {
    return channels_last ? t.contiguous(at::MemoryFormat::ChannelsLast) : t;
  }
}

// Tensor j of `saved` ([S, N, C, Ho, Wo], contiguous; what each slot holds is opaque to callers)
// as an activation: with K::kChannelsLast its memory holds [N, Ho, Wo, C].
// One as_strided view (select, view and permute were three dispatches, ~3 us per slot).
template <typename K>
at::Tensor saved_slot(const at::Tensor& saved, int64_t j) {
  const int64_t N = saved.size(1), C = saved.size(2), H = saved.size(3), W = saved.size(4);
  const int64_t offset = saved.storage_offset() + j * N * C * H * W;
  if constexpr (K::kChannelsLast)
    return saved.as_strided({N, C, H, W}, {H * W * C, 1, W * C, C}, offset);
  else
    return saved.as_strided({N, C, H, W}, {C * H * W, H * W, W, 1}, offset);
}

// A channels-last [N, C, H, W] tensor as the matrix [N * H * W, C] (a view).
inline at::Tensor pixel_rows(const at::Tensor& t) {
  return t.permute({0, 2, 3, 1}).reshape({-1, t.size(1)});
}

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

// 1x1 conv [Co, Ci] on in [N, Ci, H, W] (channel slice [c0, c0 + Ci) of a larger tensor allowed
// through in_c0/in_ctot), written into channels [o0, o0 + Co) of out (out_ctot channels).
// Channels-last: one GEMM [N * H * W, Ci] x [Ci, Co], by K's own kernel up to 16 vectors of
// output channels (K::gemm_rows), else through ATen (the vendor BLAS).
template <typename K, typename T>
void pointwise(const at::Tensor& w, const at::Tensor& in, int64_t in_c0, at::Tensor& out,
               int64_t out_c0, bool transpose_w = false) {
  const int64_t co = transpose_w ? w.size(1) : w.size(0), ci = transpose_w ? w.size(0) : w.size(1);
  if constexpr (K::kChannelsLast) {
    const at::Tensor w2 = w.view({w.size(0), w.size(1)});
    const at::Tensor b = transpose_w ? w2 : transposed<T>(w2);  // [ci, co]
    const int64_t M = in.size(0) * in.size(2) * in.size(3);
    if (K::template gemm_rows<T>(in.data_ptr<T>() + in_c0, in.size(1), M, ci, b.data_ptr<T>(),
                                 co, out.data_ptr<T>() + out_c0, out.size(1)))
      return;
    const at::Tensor a = pixel_rows(in).narrow(1, in_c0, ci);
    at::Tensor o = pixel_rows(out).narrow(1, out_c0, co);
    at::mm_out(o, a, b);
  } else {
    const int64_t P = in.size(2) * in.size(3);
    const int64_t wco = transpose_w ? 1 : ci, wci = transpose_w ? co : 1;
    K::template pointwise<T>(w.data_ptr<T>(), wco, wci, in.data_ptr<T>() + in_c0 * P,
                             in.size(1) * P, in.size(0), co, ci, P,
                             out.data_ptr<T>() + out_c0 * P, out.size(1) * P);
  }
}

// dW = sum_n dz[n] in[n]^T (dz channels [dz_c0, dz_c0 + Co)) through ATen: one GEMM batched
// over samples and summed (NCHW), or over all pixels at once (channels-last, for the sizes K's
// own GEMMs do not take: see pointwise_grads).
template <typename K, typename T>
at::Tensor pointwise_grad_w(const at::Tensor& dz, int64_t dz_c0, const at::Tensor& in,
                            const at::Tensor& w) {
  if constexpr (K::kChannelsLast) {
    return at::mm(pixel_rows(dz).narrow(1, dz_c0, w.size(0)).t(), pixel_rows(in))
        .reshape(w.sizes());
  } else {
    const at::Tensor a = dz.narrow(1, dz_c0, w.size(0)).flatten(2);  // [N, Co, P]
    const at::Tensor b = in.flatten(2);                               // [N, Ci, P]
    return at::bmm(a, b.transpose(1, 2)).sum(0).reshape(w.sizes());
  }
}

// din = W^T dz (dz channels [dz_c0, dz_c0 + Co)).
template <typename K, typename T>
at::Tensor pointwise_grad_in(const at::Tensor& dz, int64_t dz_c0, const at::Tensor& w) {
  at::Tensor din =
      K::empty({dz.size(0), w.size(1), dz.size(2), dz.size(3)}, act_options<K>(dz.options()));
  pointwise<K, T>(w, dz, dz_c0, din, 0, /*transpose_w=*/true);
  return din;
}

template <typename T>
T* ptr(const at::Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

// (dW or undefined, din) of a 1x1 conv: dW = dz^T in (when in is defined), din = W^T dz (dz
// channels [dz_c0, dz_c0 + Co)). Channels-last sizes K's own GEMMs take: one pass over dz for
// both.
template <typename K, typename T>
std::pair<at::Tensor, at::Tensor> pointwise_grads(const at::Tensor& dz, int64_t dz_c0,
                                                  const at::Tensor& in, const at::Tensor& w) {
  if constexpr (K::kChannelsLast) {
    at::Tensor din =
        K::empty({dz.size(0), w.size(1), dz.size(2), dz.size(3)}, act_options<K>(dz.options()));
    at::Tensor gw = in.defined() ? at::empty(w.sizes(), w.options()) : at::Tensor();
    const int64_t M = dz.size(0) * dz.size(2) * dz.size(3);
    if (K::template gemm_grads<T>(dz.data_ptr<T>() + dz_c0, dz.size(1), M, w.size(0),
                                  w.data_ptr<T>(), w.size(1), din.data_ptr<T>(), din.size(1),
                                  in.defined() ? in.data_ptr<T>() : nullptr,
                                  in.defined() ? in.size(1) : 0, ptr<T>(gw)))
      return {gw, din};
    pointwise<K, T>(w, dz, dz_c0, din, 0, /*transpose_w=*/true);  // sizes left to ATen
    return {in.defined() ? pointwise_grad_w<K, T>(dz, dz_c0, in, w) : at::Tensor(), din};
  } else {
    at::Tensor gw = in.defined() ? pointwise_grad_w<K, T>(dz, dz_c0, in, w) : at::Tensor();
    return {gw, pointwise_grad_in<K, T>(dz, dz_c0, w)};
  }
}

struct Branches {
  std::array<at::Tensor, 4> dw1;  // first depthwise stage of sep3, sep5, dil3, dil5
  at::Tensor maxp, avgp, fr0, fr1;
  at::TensorOptions opts;
};

// With pool_sums (channels-last only), the pools are not written: their BatchNorms' sums of
// g * y instead (cpu::nhwc::PoolGySums).
template <typename K, typename T>
Branches stage1(const at::Tensor& x, const Dims& d, const std::vector<at::Tensor>& cw,
                int64_t active, const cpu::nhwc::PoolGySums<T>* pool_sums = nullptr) {
  Branches b;
  b.opts = act_options<K>(x.options());
  static constexpr int kDwIdx[4] = {kSep3Dw1, kSep5Dw1, kDil3Dw, kDil5Dw};
  std::array<const T*, 4> w{};
  std::array<T*, 4> out{};
  for (int i = 0; i < 4; ++i) {
    if (!is_active(active, 4 + i)) continue;
    b.dw1[i] = act_empty<K>(d, x.options());
    w[i] = cw[kDwIdx[i]].data_ptr<T>();
    out[i] = b.dw1[i].data_ptr<T>();
  }
  if (is_active(active, 1) && !pool_sums) b.maxp = act_empty<K>(d, x.options());
  if (is_active(active, 2) && !pool_sums) b.avgp = act_empty<K>(d, x.options());
  if (d.s == 2 && is_active(active, 3)) {
    b.fr0 = act_empty<K>(d, x.options());
    b.fr1 = act_empty<K>(d, x.options());
  }
  if constexpr (K::kChannelsLast) {
    if (pool_sums) {
      K::template stage1_forward_pool_sums<T>(x.data_ptr<T>(), d, w.data(), out.data(),
                                              ptr<T>(b.fr0), ptr<T>(b.fr1), *pool_sums);
      return b;
    }
  }
  K::template stage1_forward<T>(x.data_ptr<T>(), d, w.data(), out.data(), ptr<T>(b.maxp),
                                ptr<T>(b.avgp), ptr<T>(b.fr0), ptr<T>(b.fr1));
  return b;
}

// Pre-BN outputs of every slot (z) and the sep-conv hidden tensors (h = dw2 output).
struct Zs {
  std::array<at::Tensor, kSlots> z;
  std::array<at::Tensor, 2> h;
};

// Statistics accessor: st[0]=mean, st[1]=invstd, st[2]=unbiased var, each [kSlots, C].
template <typename T>
struct Stats {
  T* base;
  int64_t C;
  T* mean(int s) const { return base + (0 * kSlots + s) * C; }
  T* invstd(int s) const { return base + (1 * kSlots + s) * C; }
  T* var(int s) const { return base + (2 * kSlots + s) * C; }
};

// Whether the channels-last backward forms the input gradient of a BatchNorm inside the GEMMs of
// the C x C 1x1 conv that feeds it (K::bn_gemm_grads, from the coefficients of
// K::bn_relu_dw_backward_coef or bn_backward_final) instead of writing it out: K's own GEMM
// sizes.
template <typename K, typename T>
bool bn_in_gemm(int64_t C) {
  if constexpr (K::kChannelsLast) {
    return K::template own_gemm_size<T>(C, C);
  } else {
    return false;
  }
}

// pointwise_grads of the 1x1 conv w whose output gradient is the input gradient of the
// BatchNorm of `slot` (input z, coefficients coef) for the output gradient g; bn_in_gemm sizes.
template <typename K, typename T>
std::pair<at::Tensor, at::Tensor> bn_pointwise_grads(const at::Tensor& g, const at::Tensor& z,
                                                     const Stats<T>& st, int slot,
                                                     const at::Tensor& coef, bool relu_mask,
                                                     const at::Tensor& in, const at::Tensor& w) {
  at::Tensor din =
      K::empty({g.size(0), w.size(1), g.size(2), g.size(3)}, act_options<K>(g.options()));
  at::Tensor gw = in.defined() ? at::empty(w.sizes(), w.options()) : at::Tensor();
  if constexpr (K::kChannelsLast) {
    const bool taken = K::template bn_gemm_grads<T>(
        g.data_ptr<T>(), z.data_ptr<T>(), st.mean(slot), st.invstd(slot), coef.data_ptr<T>(),
        relu_mask, g.size(0) * g.size(2) * g.size(3), w.size(0), w.data_ptr<T>(), w.size(1),
        din.data_ptr<T>(), din.size(1), ptr<T>(in), in.defined() ? in.size(1) : 0, ptr<T>(gw));
    TORCH_INTERNAL_ASSERT(taken, "bn_pointwise_grads: sizes that bn_in_gemm does not take");
  }
  return {gw, din};
}

// Computes z for every active slot; with `compute_stats` the batch statistics are written into
// st as each slot's z appears (the second sep stage needs the first BN's statistics).
// With `forward_only` the tensors only backward needs (b.dw1, the first sep BN inputs, h) are
// released as soon as they are consumed, so later allocations reuse their pages. A defined
// `saved` receives the pointwise outputs (see kSavedSlots) instead of fresh tensors.
template <typename K, typename T>
Zs branch_outputs(Branches& b, const Dims& d, const std::vector<at::Tensor>& cw, int64_t active,
                  const Stats<T>& st, bool compute_stats, double eps, bool forward_only,
                  const at::Tensor& saved = {}) {
  Zs zs;
  const int64_t HWo = d.Ho * d.Wo;
  auto alloc = [&](int slot) {
    const int j = saved.defined() ? saved_index(slot, d.s, active) : -1;
    return j >= 0 ? saved_slot<K>(saved, j) : act_empty<K>(d, b.opts);
  };
  auto pw = [&](int w, const at::Tensor& in, int slot) {
    at::Tensor z = alloc(slot);
    pointwise<K, T>(cw[w], in, 0, z, 0);
    return z;
  };
  // With K::kBatchBn the statistics wait in `pending` until a kernel needs them (flush).
  std::vector<int> pending;
  auto bn = [&](int slot, const at::Tensor& z) {
    zs.z[slot] = z;
    if (!compute_stats) return;
    if constexpr (K::kBatchBn) {
      pending.push_back(slot);
    } else {
      K::template bn_stats<T>(z.data_ptr<T>(), d.N, d.C, HWo, eps, st.mean(slot), st.invstd(slot),
                              st.var(slot));
    }
  };
  auto flush = [&] {
    if constexpr (K::kBatchBn) {
      if (pending.empty()) return;
      std::vector<const T*> z;
      std::vector<T*> mean, invstd, var;
      for (int slot : pending) {
        z.push_back(zs.z[slot].data_ptr<T>());
        mean.push_back(st.mean(slot));
        invstd.push_back(st.invstd(slot));
        var.push_back(st.var(slot));
      }
      K::template bn_stats_batch<T>(z.data(), static_cast<int>(pending.size()), d.N, d.C, HWo,
                                    eps, mean.data(), invstd.data(), var.data());
      pending.clear();
    }
  };
  if (b.maxp.defined()) bn(kMax, b.maxp);
  if (b.avgp.defined()) bn(kAvg, b.avgp);
  if (b.fr0.defined()) {
    at::Tensor z = alloc(kFr);
    pointwise<K, T>(cw[kFrConv1], b.fr0, 0, z, 0);
    pointwise<K, T>(cw[kFrConv2], b.fr1, 0, z, d.C / 2);
    bn(kFr, z);
  }
  for (int i = 0; i < 2; ++i) {
    if (!b.dw1[i].defined()) continue;
    const int base = i == 0 ? kSep3Dw1 : kSep5Dw1;
    const int s1 = i == 0 ? kSep3Bn1 : kSep5Bn1;
    at::Tensor z1 = pw(base + 1, b.dw1[i], s1);
    if (forward_only) b.dw1[i].reset();
    bn(s1, z1);
    flush();  // the hidden conv reads BN s1's statistics
    const int k = i == 0 ? 3 : 5;
    at::Tensor h = act_like<K>(z1);
    K::template bn_relu_dw_forward<T>(z1.data_ptr<T>(), st.mean(s1), st.invstd(s1), d.N, d.C,
                                      d.Ho, d.Wo, cw[base + 2].data_ptr<T>(),
                                      DwSpec{k, k / 2, 1}, h.data_ptr<T>());
    bn(s1 + 1, pw(base + 3, h, s1 + 1));
    if (forward_only) {
      zs.z[s1].reset();
    } else {
      zs.h[i] = h;
    }
  }
  for (int i = 2; i < 4; ++i) {
    if (!b.dw1[i].defined()) continue;
    const int slot = i == 2 ? kDil3 : kDil5;
    bn(slot, pw(i == 2 ? kDil3Pw : kDil5Pw, b.dw1[i], slot));
    if (forward_only) b.dw1[i].reset();
  }
  flush();
  return zs;
}

// The z (and, with `hidden`, h) of branch_outputs from the saved pointwise outputs: pools from b,
// h recomputed from the saved first sep BN input.
template <typename K, typename T>
Zs saved_outputs(const Branches& b, const Dims& d, const std::vector<at::Tensor>& cw,
                 int64_t active, const Stats<T>& st, const at::Tensor& saved, bool hidden) {
  Zs zs;
  if (b.maxp.defined()) zs.z[kMax] = b.maxp;
  if (b.avgp.defined()) zs.z[kAvg] = b.avgp;
  for (int t : kSavedSlots) {
    const int j = saved_index(t, d.s, active);
    if (j >= 0) zs.z[t] = saved_slot<K>(saved, j);
  }
  for (int i = 0; hidden && i < 2; ++i) {
    const int s1 = i == 0 ? kSep3Bn1 : kSep5Bn1;
    if (!zs.z[s1].defined()) continue;
    const int k = i == 0 ? 3 : 5;
    zs.h[i] = act_like<K>(zs.z[s1]);
    K::template bn_relu_dw_forward<T>(zs.z[s1].data_ptr<T>(), st.mean(s1), st.invstd(s1), d.N,
                                      d.C, d.Ho, d.Wo,
                                      cw[(i == 0 ? kSep3Dw1 : kSep5Dw1) + 2].data_ptr<T>(),
                                      DwSpec{k, k / 2, 1}, zs.h[i].data_ptr<T>());
  }
  return zs;
}

// The final slot of primitive k (-1: none / identity skip).
inline int final_slot(int k, int64_t s) {
  switch (k) {
    case 1: return kMax;
    case 2: return kAvg;
    case 3: return s == 2 ? kFr : -1;
    case 4: return kSep3Bn2;
    case 5: return kSep5Bn2;
    case 6: return kDil3;
    case 7: return kDil5;
    default: return -1;
  }
}

// The mixing weights as the kernels see them. On CPU `host` holds their values. On CUDA reading
// them would make the host wait for the GPU, so `host` holds 1.0 placeholders (every branch is
// propagated; a zero weight then gives exact zeros) and `dev` points at the device copy, from
// which the kernels read each scale.
template <typename T>
struct MixWeights {
  std::vector<double> host;
  const T* dev = nullptr;
  T value(int k) const { return static_cast<T>(host[k]); }
  const T* ptr(int k) const { return dev ? dev + k : nullptr; }
  bool maybe_nonzero(int k) const { return host[k] != 0.0; }
};

// Returns (out, stats, saved). `running` is [2, kSlots, C] (mean, var) in eval mode, unused in
// training. `saved` holds the kept pointwise outputs with `save`, else it is empty.
template <typename K, typename T>
std::tuple<at::Tensor, at::Tensor, at::Tensor> forward(
    const at::Tensor& x_in, const MixWeights<T>& wv, const std::vector<at::Tensor>& cw_in,
    const at::Tensor& running, int64_t s, bool training, double eps, int64_t active, bool save) {
  const at::Tensor x = in_layout<K>(x_in);
  std::vector<at::Tensor> cw;
  for (const auto& t : cw_in) cw.push_back(t.contiguous());
  const Dims d = dims_of(x, s);
  at::Tensor stats;
  if (training) {
    stats = at::zeros({3, kSlots, d.C}, x.options());  // inactive slots stay 0
  } else {
    stats = at::empty({3, kSlots, d.C}, x.options());
    stats[0].copy_(running[0]);
    stats[1].copy_(at::reciprocal(at::sqrt(running[1] + eps)));
    stats[2].copy_(running[1]);
  }
  const Stats<T> st{stats.data_ptr<T>(), d.C};
  const at::Tensor saved =
      save ? K::empty({saved_count(s, active), d.N, d.C, d.Ho, d.Wo}, x.options())
           : at::empty({0}, x.options());
  Branches b = stage1<K, T>(x, d, cw, active);
  const Zs zs = branch_outputs<K, T>(b, d, cw, active, st, training, eps, /*forward_only=*/true,
                                     save ? saved : at::Tensor());
  std::vector<const T*> z, mean, invstd, wp;
  std::vector<T> w;
  for (int k = 1; k < kOps; ++k) {
    if (!is_active(active, k)) continue;
    const int slot = final_slot(k, s);
    if (slot < 0) {
      z.push_back(x.data_ptr<T>());
      mean.push_back(nullptr);
      invstd.push_back(nullptr);
    } else {
      z.push_back(zs.z[slot].data_ptr<T>());
      mean.push_back(st.mean(slot));
      invstd.push_back(st.invstd(slot));
    }
    w.push_back(wv.value(k));
    wp.push_back(wv.ptr(k));
  }
  at::Tensor out = act_empty<K>(d, x.options());
  K::template mix_forward<T>(z.data(), mean.data(), invstd.data(), w.data(), wp.data(),
                             static_cast<int>(z.size()), d.N, d.C, d.Ho * d.Wo,
                             out.data_ptr<T>());
  return {out_of_layout<K>(out, channels_last_io(x_in)), stats, saved};
}

// Which gradients the caller needs (autograd's needs_input_grad). Work that only feeds an
// unneeded gradient is skipped: without need_conv no conv-weight gradient is computed (the
// architect's alpha-only passes freeze the weights) and the returned list is empty; without
// need_weights grad_weights is all zeros; without need_x grad_x is meaningless (zeros, or
// computed anyway when the conv weights need gradients). When neither x nor
// the conv weights need a gradient, nothing below the final BatchNorms is propagated.
struct NeedGrad {
  bool x = true, weights = true, conv = true;
};

// Returns (grad_x, grad_weights [8] in double, grad conv weights).
template <typename K, typename T>
std::tuple<at::Tensor, at::Tensor, std::vector<at::Tensor>> backward(
    const at::Tensor& grad, const at::Tensor& x_in, const MixWeights<T>& wv,
    const std::vector<at::Tensor>& cw_in, const at::Tensor& stats_in, const at::Tensor& saved_in,
    int64_t s, bool training, int64_t active, NeedGrad need = {}) {
  const at::Tensor x = in_layout<K>(x_in);
  const at::Tensor g = in_layout<K>(grad);
  const at::Tensor stats = stats_in.contiguous();
  std::vector<at::Tensor> cw;
  for (const auto& t : cw_in) cw.push_back(t.contiguous());
  const Dims d = dims_of(x, s);
  const int64_t HWo = d.Ho * d.Wo;
  const Stats<T> st{stats.data_ptr<T>(), d.C};
  const auto opts = x.options();
  const auto dopts = opts.dtype(at::kDouble);

  // Intermediates are released as soon as they are dead (reset()), so later allocations of the
  // same size reuse their pages instead of faulting in fresh ones.
  Branches b;
  Zs zs;
  // channels-last: the pools' BatchNorm sums of g * y from the recompute, which then writes no
  // pool (PoolGySums)
  std::array<std::vector<double>, 2> pool_gy;
  cpu::nhwc::PoolGySums<T> ps{g.data_ptr<T>(),
                              {st.mean(kMax), st.mean(kAvg)},
                              {st.invstd(kMax), st.invstd(kAvg)},
                              {nullptr, nullptr}};
  for (int p = 0; p < 2; ++p)
    if (K::kChannelsLast && is_active(active, 1 + p)) {
      pool_gy[p].assign(d.C, 0.0);
      ps.sums[p] = pool_gy[p].data();
    }
  const cpu::nhwc::PoolGySums<T>* pool_sums = K::kChannelsLast ? &ps : nullptr;
  if (saved_in.numel() > 0) {
    const at::Tensor saved = saved_in.contiguous();
    // The pools always; the first depthwise stages (and FR's subsampled inputs) only for the
    // conv-weight gradients.
    constexpr int64_t kPools = (1 << 1) | (1 << 2);
    b = stage1<K, T>(x, d, cw, active & (need.conv ? ~int64_t{0} : kPools), pool_sums);
    zs = saved_outputs<K, T>(b, d, cw, active, st, saved, need.conv);
  } else {
    b = stage1<K, T>(x, d, cw, active, pool_sums);
    zs = branch_outputs<K, T>(b, d, cw, active, st, false, 0.0, /*forward_only=*/false);
  }

  // Per-channel terms of each grad w_k (summed once at the end); conv-weight gradients are
  // allocated as their branch is reached, and those of branches that get none are zeros.
  at::Tensor sgy = at::zeros({kOps, d.C}, dopts);
  std::vector<at::Tensor> gcw(need.conv ? cw.size() : 0);
  auto finish = [&](at::Tensor gx) {
    for (size_t i = 0; i < gcw.size(); ++i)
      if (!gcw[i].defined()) gcw[i] = at::zeros_like(cw[i]);
    return std::make_tuple(gx, need.weights ? sgy.sum(1) : at::zeros({kOps}, dopts), gcw);
  };
  const bool below = need.x || need.conv;  // propagate below the final BatchNorms

  // Final BatchNorms folded with the weighted sum: grad w_k = <g, y_k>, dz_k = BN^T(w_k g). Where
  // bn_in_gemm, the slots with a 1x1 conv below keep coefficients (coef) instead of dz.
  std::array<at::Tensor, kSlots> dz, coef;
  const bool in_gemm = bn_in_gemm<K, T>(d.C);
  std::vector<std::pair<int, bool>> fin;  // (primitive k, propagate below its final BatchNorm)
  [[maybe_unused]] bool skip_gy = false;  // K::kBatchBn: the skip's sum g * x still to do
  for (int k = 1; k < kOps; ++k) {
    if (!is_active(active, k)) continue;
    const int slot = final_slot(k, s);
    // w_k = 0: every gradient through branch k is exactly 0
    const bool prop = below && wv.maybe_nonzero(k);
    if (slot < 0) {
      if constexpr (K::kBatchBn) {
        skip_gy = need.weights;  // an identity item of the batched BatchNorm backward below
      } else if (need.weights) {
        K::template dot<T>(g.data_ptr<T>(), x.data_ptr<T>(), g.numel(),
                           sgy.data_ptr<double>() + k * d.C);
      }
    } else if (prop || need.weights) {
      fin.emplace_back(k, prop);
    } else {
      zs.z[slot].reset();
    }
  }
  auto sum_gy = [&](int k) { return need.weights ? sgy.data_ptr<double>() + k * d.C : nullptr; };
  // z of the first sep stages stays for the hidden conv's backward; the others are dead after
  auto release = [&](int slot) {
    if (slot != kSep3Bn2 && slot != kSep5Bn2) zs.z[slot].reset();  // also b.maxp / b.avgp
  };
  if constexpr (K::kChannelsLast) {  // all of them in two passes over g
    std::vector<const T*> z, mean, invstd;
    std::vector<T> scale;
    std::vector<T*> dzp, coefp;
    std::vector<double*> sgp;
    std::vector<const double*> gy;
    for (auto [k, prop] : fin) {
      const int slot = final_slot(k, s);
      // the pools' input gradients are formed where their gradient scatters read them
      // (stage1_backward_pool_bn), as those of the slots with a 1x1 conv below where bn_in_gemm
      if (prop && (slot == kMax || slot == kAvg || (in_gemm && slot != kFr))) {
        coef[slot] = at::empty({3, d.C}, opts);
      } else if (prop) {
        dz[slot] = act_like<K>(zs.z[slot]);
      }
      if (slot == kMax || slot == kAvg) {  // never written: the recompute's PoolGySums
        z.push_back(nullptr);
        gy.push_back(pool_gy[slot == kMax ? 0 : 1].data());
      } else {
        z.push_back(zs.z[slot].data_ptr<T>());
        gy.push_back(nullptr);
      }
      mean.push_back(st.mean(slot));
      invstd.push_back(st.invstd(slot));
      scale.push_back(wv.value(k));
      dzp.push_back(ptr<T>(dz[slot]));
      sgp.push_back(sum_gy(k));
      coefp.push_back(ptr<T>(coef[slot]));
    }
    K::template bn_backward_final<T>(g.data_ptr<T>(), static_cast<int>(fin.size()), z.data(),
                                     mean.data(), invstd.data(), scale.data(), training, d.N, d.C,
                                     HWo, dzp.data(), sgp.data(), coefp.data(), gy.data());
    for (auto [k, prop] : fin) {
      const int slot = final_slot(k, s);
      if (slot >= 0 && !coef[slot].defined()) release(slot);
    }
  } else if constexpr (K::kBatchBn) {  // all of them, and the skip's sums, in one launch pair
    std::vector<cpu::BnBackwardItem<T>> items;
    for (auto [k, prop] : fin) {
      const int slot = final_slot(k, s);
      if (prop) dz[slot] = act_like<K>(zs.z[slot]);
      items.push_back({zs.z[slot].data_ptr<T>(), st.mean(slot), st.invstd(slot), wv.value(k),
                       wv.ptr(k), ptr<T>(dz[slot]), sum_gy(k)});
    }
    if (skip_gy) items.push_back({x.data_ptr<T>(), nullptr, nullptr, T(0), nullptr, nullptr,
                                  sum_gy(3)});
    if (!items.empty())
      K::template bn_backward_batch<T>(g.data_ptr<T>(), items.data(),
                                       static_cast<int>(items.size()), false, training, d.N, d.C,
                                       HWo);
    for (auto [k, prop] : fin) release(final_slot(k, s));
  } else {
    for (auto [k, prop] : fin) {
      const int slot = final_slot(k, s);
      if (prop) dz[slot] = act_like<K>(zs.z[slot]);
      K::template bn_backward<T>(g.data_ptr<T>(), zs.z[slot].data_ptr<T>(), st.mean(slot),
                                 st.invstd(slot), wv.value(k), wv.ptr(k), false, training, d.N,
                                 d.C, HWo, ptr<T>(dz[slot]), sum_gy(k));
      release(slot);
    }
  }
  b.maxp.reset();
  b.avgp.reset();
  if (!below)
    return finish(at::empty(x.sizes(), x.options().memory_format(
                                           channels_last_io(x_in) ? at::MemoryFormat::ChannelsLast
                                                                  : at::MemoryFormat::Contiguous))
                      .zero_());

  std::array<at::Tensor, 4> g_dw1;
  static constexpr int kPwIdx[4] = {kSep3Pw1, kSep5Pw1, kDil3Pw, kDil5Pw};
  for (int i = 0; i < 2; ++i) {
    const int slot2 = i == 0 ? kSep3Bn2 : kSep5Bn2;
    if (!dz[slot2].defined() && !coef[slot2].defined()) continue;
    const int base = i == 0 ? kSep3Dw1 : kSep5Dw1;
    const int s1 = slot2 - 1;
    const int k = i == 0 ? 3 : 5;
    const at::Tensor h = need.conv ? zs.h[i] : at::Tensor();
    at::Tensor gw2, gh;
    std::tie(gw2, gh) = coef[slot2].defined()
                            ? bn_pointwise_grads<K, T>(g, zs.z[slot2], st, slot2, coef[slot2],
                                                       false, h, cw[base + 3])
                            : pointwise_grads<K, T>(dz[slot2], 0, h, cw[base + 3]);
    if (need.conv) gcw[base + 3] = gw2;
    zs.h[i].reset();
    zs.z[slot2].reset();
    dz[slot2].reset();
    at::Tensor ga = act_like<K>(gh);
    if (need.conv) gcw[base + 2] = at::empty_like(cw[base + 2]);
    T* const gdw2 = need.conv ? gcw[base + 2].data_ptr<T>() : nullptr;
    const DwSpec spec{k, k / 2, 1};
    at::Tensor c1;  // in_gemm: the first BatchNorm's coefficients, from the same pass
    if constexpr (K::kChannelsLast) {
      if (in_gemm) {
        c1 = at::empty({3, d.C}, opts);
        K::template bn_relu_dw_backward_coef<T>(
            gh.data_ptr<T>(), zs.z[s1].data_ptr<T>(), st.mean(s1), st.invstd(s1), d.N, d.C, d.Ho,
            d.Wo, cw[base + 2].data_ptr<T>(), spec, training, ga.data_ptr<T>(), gdw2,
            c1.data_ptr<T>());
      }
    }
    if (!c1.defined())
      K::template bn_relu_dw_backward<T>(gh.data_ptr<T>(), zs.z[s1].data_ptr<T>(), st.mean(s1),
                                         st.invstd(s1), d.N, d.C, d.Ho, d.Wo,
                                         cw[base + 2].data_ptr<T>(), spec, ga.data_ptr<T>(),
                                         gdw2);
    gh.reset();
    const at::Tensor dw1 = need.conv ? b.dw1[i] : at::Tensor();
    at::Tensor gw1;
    if (in_gemm) {
      std::tie(gw1, g_dw1[i]) =
          bn_pointwise_grads<K, T>(ga, zs.z[s1], st, s1, c1, true, dw1, cw[base + 1]);
    } else {
      at::Tensor dz1 = act_like<K>(ga);
      K::template bn_backward<T>(ga.data_ptr<T>(), zs.z[s1].data_ptr<T>(), st.mean(s1),
                                 st.invstd(s1), T(1), nullptr, true, training, d.N, d.C, HWo,
                                 dz1.data_ptr<T>(), nullptr);
      std::tie(gw1, g_dw1[i]) = pointwise_grads<K, T>(dz1, 0, dw1, cw[base + 1]);
    }
    zs.z[s1].reset();
    ga.reset();
    if (need.conv) gcw[base + 1] = gw1;
    b.dw1[i].reset();
  }
  for (int i = 2; i < 4; ++i) {
    const int slot = i == 2 ? kDil3 : kDil5;
    if (!dz[slot].defined() && !coef[slot].defined()) continue;
    const at::Tensor dw1 = need.conv ? b.dw1[i] : at::Tensor();
    at::Tensor gw;
    std::tie(gw, g_dw1[i]) =
        coef[slot].defined()
            ? bn_pointwise_grads<K, T>(g, zs.z[slot], st, slot, coef[slot], false, dw1,
                                       cw[kPwIdx[i]])
            : pointwise_grads<K, T>(dz[slot], 0, dw1, cw[kPwIdx[i]]);
    if (need.conv) gcw[kPwIdx[i]] = gw;
    dz[slot].reset();
    zs.z[slot].reset();
    b.dw1[i].reset();
  }
  at::Tensor g_fr0, g_fr1;
  if (dz[kFr].defined()) {
    const int64_t h = d.C / 2;
    at::Tensor gw1, gw2;
    std::tie(gw1, g_fr0) =
        pointwise_grads<K, T>(dz[kFr], 0, need.conv ? b.fr0 : at::Tensor(), cw[kFrConv1]);
    std::tie(gw2, g_fr1) =
        pointwise_grads<K, T>(dz[kFr], h, need.conv ? b.fr1 : at::Tensor(), cw[kFrConv2]);
    if (need.conv) {
      gcw[kFrConv1] = gw1;
      gcw[kFrConv2] = gw2;
    }
  }

  static constexpr int kDwIdx[4] = {kSep3Dw1, kSep5Dw1, kDil3Dw, kDil5Dw};
  std::array<const T*, 4> w{}, gd{};
  std::array<T*, 4> gdw{};
  for (int i = 0; i < 4; ++i) {
    if (!g_dw1[i].defined()) continue;
    w[i] = cw[kDwIdx[i]].data_ptr<T>();
    gd[i] = g_dw1[i].data_ptr<T>();
    if (need.conv) {
      gcw[kDwIdx[i]] = at::empty_like(cw[kDwIdx[i]]);
      gdw[i] = gcw[kDwIdx[i]].data_ptr<T>();
    }
  }
  const bool skip = s == 1 && is_active(active, 3) && wv.maybe_nonzero(3);
  at::Tensor gx = act_like<K>(x);
  if constexpr (K::kChannelsLast) {
    const cpu::nhwc::PoolBnGrads<T> pools{g.data_ptr<T>(),
                                          {st.mean(kMax), st.mean(kAvg)},
                                          {st.invstd(kMax), st.invstd(kAvg)},
                                          {ptr<T>(coef[kMax]), ptr<T>(coef[kAvg])}};
    K::template stage1_backward_pool_bn<T>(x.data_ptr<T>(), d, w.data(), gd.data(), pools,
                                           ptr<T>(g_fr0), ptr<T>(g_fr1),
                                           skip ? g.data_ptr<T>() : nullptr, wv.value(3),
                                           gx.data_ptr<T>(), gdw.data());
  } else {
    K::template stage1_backward<T>(x.data_ptr<T>(), d, w.data(), gd.data(), ptr<T>(dz[kMax]),
                                   ptr<T>(dz[kAvg]), ptr<T>(g_fr0), ptr<T>(g_fr1),
                                   skip ? g.data_ptr<T>() : nullptr, wv.value(3), wv.ptr(3),
                                   gx.data_ptr<T>(), gdw.data());
  }
  return finish(out_of_layout<K>(gx, channels_last_io(x_in)));
}

}  // namespace nasfast::darts_edge

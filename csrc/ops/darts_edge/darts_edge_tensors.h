#pragma once
// Tensors and small facts the fused DARTS edge's generic body (darts_edge_forward.h,
// darts_edge_backward.h) and its kernel policies share. Nothing here depends on a layout or a
// backend: those live in the policies (cpu/darts_edge_nchw_policy.h, cpu/darts_edge_nhwc_policy.h,
// cuda/darts_edge_cuda_policy.h).
#include <ATen/ATen.h>

#include <array>
#include <vector>

#include "ops/darts_edge/cpu/darts_edge_kernel_types.h"
#include "ops/darts_edge/darts_edge.h"

namespace nasfast::darts_edge {

using cpu::Dims;
using cpu::DwSpec;
using cpu::kStage1;

inline Dims dims_of(const at::Tensor& x, int64_t s) {
  return Dims{x.size(0),
              x.size(1),
              x.size(2),
              x.size(3),
              s,
              (x.size(2) - 1) / s + 1,
              (x.size(3) - 1) / s + 1};
}

inline bool is_active(int64_t active, int k) { return (active >> k) & 1; }

// Whether the edge's outputs on x (out, and grad x) are channels-last: exactly when x is
// channels-last contiguous and not also contiguous (as conv2d, the output follows the input's
// memory format; the fake implementations in nasfast/ops/darts_edge.py apply the same rule).
inline bool channels_last_io(const at::Tensor& x) {
  return x.dim() == 4 && x.is_contiguous(at::MemoryFormat::ChannelsLast) && !x.is_contiguous();
}

template <typename T>
T* ptr(const at::Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

// Activations are [N, C, H, W] tensors in the policy's layout (K::act_options). Intermediates
// come from K::empty (on CPU a cache of freed buffers, common/cpu_buffer_cache.h).
template <typename K>
at::Tensor act_empty(const Dims& d, const at::TensorOptions& o) {
  return K::empty({d.N, d.C, d.Ho, d.Wo}, K::act_options(o));
}

// An uninitialised activation of t's shape.
template <typename K>
at::Tensor act_like(const at::Tensor& t) {
  return K::empty(t.sizes(), K::act_options(t.options()));
}

// Statistics accessor: st[0]=mean, st[1]=invstd, st[2]=unbiased var, each [kSlots, C].
template <typename T>
struct Stats {
  T* base;
  int64_t C;
  T* mean(int s) const { return base + (0 * kSlots + s) * C; }
  T* invstd(int s) const { return base + (1 * kSlots + s) * C; }
  T* var(int s) const { return base + (2 * kSlots + s) * C; }
};

// The conv weights of the first depthwise stage of sep3, sep5, dil3, dil5 (the four branches of
// the first stage), and the 1x1 conv that follows each.
inline constexpr int kStage1Dw[4] = {kSep3Dw1, kSep5Dw1, kDil3Dw, kDil5Dw};
inline constexpr int kStage1Pw[4] = {kSep3Pw1, kSep5Pw1, kDil3Pw, kDil5Pw};

// The first stage's outputs: the four first depthwise stages, both pools, FactorizedReduce's
// subsampled inputs (stride 2). Undefined: not computed.
struct Stage1Outputs {
  std::array<at::Tensor, 4> dw1;
  at::Tensor maxp, avgp, fr0, fr1;
  at::TensorOptions opts;
};

// The kernels' pointer arguments for the first stage's depthwise branches.
template <typename T>
struct Stage1Pointers {
  std::array<const T*, 4> w{};
  std::array<T*, 4> out{};
};

template <typename T>
Stage1Pointers<T> stage1_pointers(const Stage1Outputs& b, const std::vector<at::Tensor>& cw) {
  Stage1Pointers<T> p;
  for (int i = 0; i < 4; ++i) {
    if (!b.dw1[i].defined()) continue;
    p.w[i] = cw[kStage1Dw[i]].data_ptr<T>();
    p.out[i] = b.dw1[i].data_ptr<T>();
  }
  return p;
}

// Pre-BN outputs of every slot (z) and the sep-conv hidden tensors (h = dw2 output).
struct BranchOutputs {
  std::array<at::Tensor, kSlots> z;
  std::array<at::Tensor, 2> h;
};

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

// Which gradients the caller needs (autograd's needs_input_grad). Work that only feeds an
// unneeded gradient is skipped: without need_conv no conv-weight gradient is computed (the
// architect's alpha-only passes freeze the weights) and the returned list is empty; without
// need_weights grad_weights is all zeros; without need_x grad_x is meaningless (zeros, or
// computed anyway when the conv weights need gradients). When neither x nor
// the conv weights need a gradient, nothing below the final BatchNorms is propagated.
struct NeedGrad {
  bool x = true, weights = true, conv = true;
};

// The gradient at the input z of a BatchNorm (slot's statistics): written out (dz), or, where a
// policy forms it inside the GEMMs of the 1x1 conv that reads it, as per-channel coefficients
// [3, C] of the BatchNorm's output gradient g (coef; see cpu::nhwc::BnGrad), with relu_mask when
// the BatchNorm feeds a ReLU. A view: the tensors belong to the caller.
template <typename T>
struct BnInputGrad {
  const at::Tensor& dz;
  const at::Tensor& coef;
  const at::Tensor& g;
  const at::Tensor& z;
  const T* mean;
  const T* invstd;
  bool relu_mask;
};

// BatchNorm statistics written one slot at a time, as each slot's input appears (CPU: the
// kernel then reads z from cache).
template <typename K, typename T>
struct BnStatsPerSlot {
  const Dims& d;
  const Stats<T>& st;
  double eps;
  void add(int slot, const at::Tensor& z) {
    K::template bn_stats<T>(z.data_ptr<T>(), d.N, d.C, d.Ho * d.Wo, eps, st.mean(slot),
                            st.invstd(slot), st.var(slot));
  }
  void flush() {}
};

}  // namespace nasfast::darts_edge

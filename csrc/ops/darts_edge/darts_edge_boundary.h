#pragma once
// Boundary checks of the darts_edge ops, shared by the CPU op and the CUDA glue. Messages name
// the argument (the Python layer validates first; these keep direct torch.ops calls safe).
#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "common/check.h"
#include "ops/darts_edge/darts_edge.h"

namespace nasfast::darts_edge {

// Shape of conv weight i for C channels.
inline std::vector<int64_t> conv_shape(int i, int64_t C) {
  switch (i) {
    case kSep3Dw1:
    case kSep3Dw2:
    case kDil3Dw: return {C, 1, 3, 3};
    case kSep5Dw1:
    case kSep5Dw2:
    case kDil5Dw: return {C, 1, 5, 5};
    case kFrConv1:
    case kFrConv2: return {C / 2, C, 1, 1};
    default: return {C, C, 1, 1};
  }
}

inline void check_args(const at::Tensor& x, const at::Tensor& weights, at::TensorList cw, int64_t s,
                       int64_t active) {
  check_floating(x, "x");
  TORCH_CHECK_VALUE(x.dim() == 4, "x: expected a 4-D [N, C, H, W] tensor, got ", x.sizes());
  TORCH_CHECK_VALUE(s == 1 || s == 2, "stride: expected 1 or 2, got ", s);
  TORCH_CHECK_VALUE(active > 0 && active < (1 << kOps), "active: expected a non-empty bit mask of ",
                    kOps, " ops, got ", active);
  const int64_t C = x.size(1);
  TORCH_CHECK_VALUE(x.size(0) > 0 && C > 0 && x.size(2) > 0 && x.size(3) > 0,
                    "x: expected non-empty dimensions, got ", x.sizes());
  if (s == 2)
    TORCH_CHECK_VALUE(x.size(2) % 2 == 0 && x.size(3) % 2 == 0 && C % 2 == 0,
                      "x: a stride-2 edge (FactorizedReduce) needs even C, H and W, got ",
                      x.sizes());
  TORCH_CHECK_VALUE(weights.dim() == 1 && weights.size(0) == kOps, "weights: expected shape [",
                    kOps, "], got ", weights.sizes());
  check_same_device_dtype(weights, x, "weights", "x");
  const size_t n = s == 2 ? 14 : 12;
  TORCH_CHECK_VALUE(cw.size() == n, "conv_weights: expected ", n, " tensors at stride ", s,
                    ", got ", cw.size());
  for (size_t i = 0; i < n; ++i) {
    const std::string name = "conv_weights[" + std::to_string(i) + "]";
    check_same_device_dtype(cw[i], x, name.c_str(), "x");
    TORCH_CHECK_VALUE(cw[i].sizes() == at::IntArrayRef(conv_shape(static_cast<int>(i), C)), name,
                      ": expected shape ", conv_shape(static_cast<int>(i), C), ", got ",
                      cw[i].sizes());
  }
}

// Checks darts_edge_running_update's arguments (for every impl). Returns whether stats and every
// running buffer are contiguous and of stats' dtype (what the raw kernels need).
inline bool check_running_update_args(at::TensorList mean, at::TensorList var, at::TensorList count,
                                      const at::Tensor& stats, at::IntArrayRef slots) {
  const size_t n = slots.size();
  TORCH_CHECK_VALUE(mean.size() == n && var.size() == n && count.size() == n,
                    "running_mean, running_var, num_batches_tracked: expected ", n,
                    " tensors each (one per slot)");
  TORCH_CHECK_VALUE(stats.dim() == 3 && stats.size(0) == 3 && stats.size(1) == kSlots,
                    "stats: expected shape [3, ", kSlots, ", C], got ", stats.sizes());
  const int64_t C = stats.size(2);
  bool raw = stats.is_contiguous();
  for (size_t j = 0; j < n; ++j) {
    TORCH_CHECK_VALUE(slots[j] >= 0 && slots[j] < kSlots, "slots: expected values in [0, ", kSlots,
                      "), got ", slots[j]);
    for (const at::Tensor& t : {mean[j], var[j]}) {
      TORCH_CHECK_VALUE(t.numel() == C && t.device() == stats.device(),
                        "running_mean/running_var: expected ", C, " values on ", stats.device(),
                        ", got ", t.sizes(), " on ", t.device());
      raw = raw && t.is_contiguous() && t.scalar_type() == stats.scalar_type();
    }
  }
  return raw;
}

// The ATen form of the running-statistics update: any device, layout and dtype.
inline void running_update_aten(at::TensorList mean, at::TensorList var, at::TensorList count,
                                const at::Tensor& stats, at::IntArrayRef slots, double momentum) {
  for (size_t j = 0; j < slots.size(); ++j) {
    count[j].add_(1);
    mean[j].mul_(1 - momentum).add_(stats[0][slots[j]], momentum);
    var[j].mul_(1 - momentum).add_(stats[2][slots[j]], momentum);
  }
}

inline std::vector<double> weight_values(const at::Tensor& weights) {
  const at::Tensor w = weights.detach().to(at::kCPU, at::kDouble).contiguous();
  return std::vector<double>(w.data_ptr<double>(), w.data_ptr<double>() + kOps);
}

inline void check_forward_args(const at::Tensor& x, const at::Tensor& weights, at::TensorList cw,
                               const at::Tensor& running, int64_t stride, bool training,
                               int64_t active) {
  check_args(x, weights, cw, stride, active);
  if (!training) {
    TORCH_CHECK_VALUE(running.dim() == 3 && running.size(0) == 2 && running.size(1) == kSlots &&
                          running.size(2) == x.size(1),
                      "running: expected shape [2, ", kSlots, ", ", x.size(1), "], got ",
                      running.sizes());
    check_same_device_dtype(running, x, "running", "x");
  }
}

inline void check_backward_args(const at::Tensor& grad, const at::Tensor& x,
                                const at::Tensor& weights, at::TensorList cw,
                                const at::Tensor& stats, const at::Tensor& saved, int64_t stride,
                                int64_t active) {
  check_args(x, weights, cw, stride, active);
  check_same_device_dtype(grad, x, "grad", "x");
  const int64_t Ho = (x.size(2) - 1) / stride + 1, Wo = (x.size(3) - 1) / stride + 1;
  TORCH_CHECK_VALUE(grad.dim() == 4 && grad.size(0) == x.size(0) && grad.size(1) == x.size(1) &&
                        grad.size(2) == Ho && grad.size(3) == Wo,
                    "grad: expected shape [", x.size(0), ", ", x.size(1), ", ", Ho, ", ", Wo,
                    "], got ", grad.sizes());
  check_same_device_dtype(stats, x, "stats", "x");
  TORCH_CHECK_VALUE(stats.dim() == 3 && stats.size(0) == 3 && stats.size(1) == kSlots &&
                        stats.size(2) == x.size(1),
                    "stats: expected shape [3, ", kSlots, ", ", x.size(1), "], got ",
                    stats.sizes());
  if (saved.numel() == 0) return;  // nothing kept: the backward recomputes from x
  check_same_device_dtype(saved, x, "saved", "x");
  const std::vector<int64_t> want = {saved_count(stride, active), grad.size(0), grad.size(1),
                                     grad.size(2), grad.size(3)};
  TORCH_CHECK_VALUE(saved.sizes() == at::IntArrayRef(want), "saved: expected shape ", want,
                    " (or an empty tensor), got ", saved.sizes());
}

}  // namespace nasfast::darts_edge

// nasfast::darts_edge_forward / darts_edge_backward: schemas, boundary checks, CPU dispatch.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <torch/library.h>

#include "common/check.h"
#include "ops/darts_edge/darts_edge_boundary.h"
#include "ops/darts_edge/darts_edge_impl.h"

namespace nasfast::darts_edge {
namespace {

struct CpuKernels {
  template <typename T, typename... A>
  static void stage1_forward(A... a) { cpu::stage1_forward<T>(a...); }
  template <typename T, typename... A>
  static void bn_stats(A... a) { cpu::bn_stats<T>(a...); }
  template <typename T, typename... A>
  static void bn_relu_dw_forward(A... a) { cpu::bn_relu_dw_forward<T>(a...); }
  template <typename T, typename... A>
  static void mix_forward(A... a) { cpu::mix_forward<T>(a...); }
  template <typename T, typename... A>
  static void bn_backward(A... a) { cpu::bn_backward<T>(a...); }
  template <typename T, typename... A>
  static void bn_relu_dw_backward(A... a) { cpu::bn_relu_dw_backward<T>(a...); }
  template <typename T, typename... A>
  static void stage1_backward(A... a) { cpu::stage1_backward<T>(a...); }
  template <typename T, typename... A>
  static void pointwise(A... a) { cpu::pointwise<T>(a...); }
  template <typename T, typename... A>
  static void pointwise_grad_w(A... a) { cpu::pointwise_grad_w<T>(a...); }
  template <typename T>
  static void dot(const T* a, const T* b, int64_t n, double* out) { *out = cpu::dot<T>(a, b, n); }
};

std::tuple<at::Tensor, at::Tensor, at::Tensor> forward_cpu(
    const at::Tensor& x, const at::Tensor& weights, at::TensorList conv_weights,
    const at::Tensor& running, int64_t stride, bool training, double eps, int64_t active,
    bool save) {
  check_forward_args(x, weights, conv_weights, running, stride, training, active);
  const std::vector<at::Tensor> cw(conv_weights.begin(), conv_weights.end());
  const auto wv = weight_values(weights);
  std::tuple<at::Tensor, at::Tensor, at::Tensor> r;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "darts_edge_forward_cpu", [&] {
    r = forward<CpuKernels, scalar_t>(x, wv, cw, running, stride, training, eps, active, save);
  });
  return r;
}

std::tuple<at::Tensor, at::Tensor, std::vector<at::Tensor>> backward_cpu(
    const at::Tensor& grad, const at::Tensor& x, const at::Tensor& weights,
    at::TensorList conv_weights, const at::Tensor& stats, const at::Tensor& saved, int64_t stride,
    bool training, int64_t active, bool need_x, bool need_weights, bool need_conv) {
  check_backward_args(grad, x, weights, conv_weights, stats, saved, stride, active);
  const std::vector<at::Tensor> cw(conv_weights.begin(), conv_weights.end());
  const auto wv = weight_values(weights);
  std::tuple<at::Tensor, at::Tensor, std::vector<at::Tensor>> r;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "darts_edge_backward_cpu", [&] {
    r = backward<CpuKernels, scalar_t>(grad, x, wv, cw, stats, saved, stride, training, active,
                                       NeedGrad{need_x, need_weights, need_conv});
  });
  std::get<1>(r) = std::get<1>(r).to(weights.scalar_type());
  return r;
}

}  // namespace
}  // namespace nasfast::darts_edge

TORCH_LIBRARY_FRAGMENT(nasfast, m) {
  m.def(
      "darts_edge_forward(Tensor x, Tensor weights, Tensor[] conv_weights, Tensor running, "
      "int stride, bool training, float eps, int active, bool save) -> (Tensor out, Tensor stats, "
      "Tensor saved)");
  m.def(
      "darts_edge_backward(Tensor grad, Tensor x, Tensor weights, Tensor[] conv_weights, "
      "Tensor stats, Tensor saved, int stride, bool training, int active, bool need_x, "
      "bool need_weights, bool need_conv) -> (Tensor grad_x, Tensor grad_weights, "
      "Tensor[] grad_conv_weights)");
}

TORCH_LIBRARY_IMPL(nasfast, CPU, m) {
  m.impl("darts_edge_forward", &nasfast::darts_edge::forward_cpu);
  m.impl("darts_edge_backward", &nasfast::darts_edge::backward_cpu);
}

namespace nasfast::darts_edge {
namespace {

// running = (1 - m) * running + m * batch statistic, for the BatchNorm slots `slots`; one call
// per edge instead of a few dozen tiny tensor ops. Any device (ATen ops), raw loops on CPU.
void update_running(at::TensorList mean, at::TensorList var, at::TensorList count,
                    const at::Tensor& stats, at::IntArrayRef slots, double momentum) {
  const size_t n = slots.size();
  TORCH_CHECK_VALUE(mean.size() == n && var.size() == n && count.size() == n,
                    "running_mean, running_var, num_batches_tracked: expected ", n,
                    " tensors each (one per slot)");
  TORCH_CHECK_VALUE(stats.dim() == 3 && stats.size(0) == 3 && stats.size(1) == kSlots,
                    "stats: expected shape [3, ", kSlots, ", C], got ", stats.sizes());
  const int64_t C = stats.size(2);
  bool raw = stats.device().is_cpu() && stats.is_contiguous();
  for (size_t j = 0; j < n; ++j) {
    TORCH_CHECK_VALUE(slots[j] >= 0 && slots[j] < kSlots, "slots: expected values in [0, ",
                      kSlots, "), got ", slots[j]);
    for (const at::Tensor& t : {mean[j], var[j]}) {
      TORCH_CHECK_VALUE(t.numel() == C && t.device() == stats.device(),
                        "running_mean/running_var: expected ", C, " values on ",
                        stats.device(), ", got ", t.sizes(), " on ", t.device());
      raw = raw && t.is_contiguous() && t.scalar_type() == stats.scalar_type();
    }
  }
  for (size_t j = 0; j < n; ++j) count[j].add_(1);
  if (!raw) {
    for (size_t j = 0; j < n; ++j) {
      mean[j].mul_(1 - momentum).add_(stats[0][slots[j]], momentum);
      var[j].mul_(1 - momentum).add_(stats[2][slots[j]], momentum);
    }
    return;
  }
  AT_DISPATCH_FLOATING_TYPES(stats.scalar_type(), "darts_edge_running_update", [&] {
    const scalar_t m = static_cast<scalar_t>(momentum), keep = static_cast<scalar_t>(1 - momentum);
    const scalar_t* st = stats.data_ptr<scalar_t>();
    for (size_t j = 0; j < n; ++j) {
      scalar_t* rm = mean[j].data_ptr<scalar_t>();
      scalar_t* rv = var[j].data_ptr<scalar_t>();
      const scalar_t* bm = st + slots[j] * C;
      const scalar_t* bv = st + (2 * kSlots + slots[j]) * C;
      for (int64_t c = 0; c < C; ++c) {
        rm[c] = keep * rm[c] + m * bm[c];
        rv[c] = keep * rv[c] + m * bv[c];
      }
    }
  });
}

}  // namespace
}  // namespace nasfast::darts_edge

TORCH_LIBRARY_FRAGMENT(nasfast, m) {
  m.def(
      "darts_edge_running_update(Tensor(a!)[] running_mean, Tensor(b!)[] running_var, "
      "Tensor(c!)[] num_batches_tracked, Tensor stats, int[] slots, float momentum) -> ()");
}

TORCH_LIBRARY_IMPL(nasfast, CompositeExplicitAutograd, m) {
  m.impl("darts_edge_running_update", &nasfast::darts_edge::update_running);
}

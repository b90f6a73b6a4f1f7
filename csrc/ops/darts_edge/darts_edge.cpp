// nasfast::darts_edge_forward / darts_edge_backward: schemas, boundary checks, CPU dispatch.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <torch/library.h>

#include "common/check.h"
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

// Shape of conv weight i for C channels.
std::vector<int64_t> conv_shape(int i, int64_t C) {
  switch (i) {
    case kSep3Dw1: case kSep3Dw2: case kDil3Dw: return {C, 1, 3, 3};
    case kSep5Dw1: case kSep5Dw2: case kDil5Dw: return {C, 1, 5, 5};
    case kFrConv1: case kFrConv2: return {C / 2, C, 1, 1};
    default: return {C, C, 1, 1};
  }
}

void check_args(const at::Tensor& x, const at::Tensor& weights, at::TensorList cw, int64_t s,
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

std::vector<double> weight_values(const at::Tensor& weights) {
  const at::Tensor w = weights.detach().to(at::kCPU, at::kDouble).contiguous();
  return std::vector<double>(w.data_ptr<double>(), w.data_ptr<double>() + kOps);
}

std::tuple<at::Tensor, at::Tensor> forward_cpu(const at::Tensor& x, const at::Tensor& weights,
                                               at::TensorList conv_weights,
                                               const at::Tensor& running, int64_t stride,
                                               bool training, double eps, int64_t active) {
  check_args(x, weights, conv_weights, stride, active);
  if (!training) {
    TORCH_CHECK_VALUE(running.dim() == 3 && running.size(0) == 2 && running.size(1) == kSlots &&
                          running.size(2) == x.size(1),
                      "running: expected shape [2, ", kSlots, ", ", x.size(1), "], got ",
                      running.sizes());
    check_same_device_dtype(running, x, "running", "x");
  }
  const std::vector<at::Tensor> cw(conv_weights.begin(), conv_weights.end());
  const auto wv = weight_values(weights);
  std::tuple<at::Tensor, at::Tensor> r;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "darts_edge_forward_cpu", [&] {
    r = forward<CpuKernels, scalar_t>(x, wv, cw, running, stride, training, eps, active);
  });
  return r;
}

std::tuple<at::Tensor, at::Tensor, std::vector<at::Tensor>> backward_cpu(
    const at::Tensor& grad, const at::Tensor& x, const at::Tensor& weights,
    at::TensorList conv_weights, const at::Tensor& stats, int64_t stride, bool training,
    int64_t active) {
  check_args(x, weights, conv_weights, stride, active);
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
  const std::vector<at::Tensor> cw(conv_weights.begin(), conv_weights.end());
  const auto wv = weight_values(weights);
  std::tuple<at::Tensor, at::Tensor, std::vector<at::Tensor>> r;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "darts_edge_backward_cpu", [&] {
    r = backward<CpuKernels, scalar_t>(grad, x, wv, cw, stats, stride, training, active);
  });
  std::get<1>(r) = std::get<1>(r).to(weights.scalar_type());
  return r;
}

}  // namespace
}  // namespace nasfast::darts_edge

TORCH_LIBRARY_FRAGMENT(nasfast, m) {
  m.def(
      "darts_edge_forward(Tensor x, Tensor weights, Tensor[] conv_weights, Tensor running, "
      "int stride, bool training, float eps, int active) -> (Tensor out, Tensor stats)");
  m.def(
      "darts_edge_backward(Tensor grad, Tensor x, Tensor weights, Tensor[] conv_weights, "
      "Tensor stats, int stride, bool training, int active) -> (Tensor grad_x, Tensor "
      "grad_weights, Tensor[] grad_conv_weights)");
}

TORCH_LIBRARY_IMPL(nasfast, CPU, m) {
  m.impl("darts_edge_forward", &nasfast::darts_edge::forward_cpu);
  m.impl("darts_edge_backward", &nasfast::darts_edge::backward_cpu);
}

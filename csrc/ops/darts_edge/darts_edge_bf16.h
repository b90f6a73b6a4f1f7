#pragma once
// bfloat16 edges: bfloat16 in and out (x, weights, conv weights, out, every gradient), float32
// inside. The op converts its inputs once, runs the float32 kernels of its device, and rounds
// the outputs; the BatchNorm statistics and the tensors kept for backward stay float32, so a
// bfloat16 edge computes exactly what the float32 edge computes on the same (bfloat16) values.
#include <ATen/ATen.h>

#include <tuple>
#include <vector>

#include "common/check.h"

namespace nasfast::darts_edge {

inline std::vector<at::Tensor> to_float(at::TensorList ts) {
  std::vector<at::Tensor> out;
  out.reserve(ts.size());
  for (const at::Tensor& t : ts) out.push_back(t.to(at::kFloat));
  return out;
}

inline void check_bf16_inputs(const at::Tensor& x, const at::Tensor& weights, at::TensorList cw) {
  check_same_device_dtype(weights, x, "weights", "x");
  for (size_t i = 0; i < cw.size(); ++i) {
    const std::string name = "conv_weights[" + std::to_string(i) + "]";
    check_same_device_dtype(cw[i], x, name.c_str(), "x");
  }
}

// float_forward: the device's darts_edge_forward (called with float32 tensors).
template <typename F>
std::tuple<at::Tensor, at::Tensor, at::Tensor> forward_bf16(F float_forward, const at::Tensor& x,
                                                            const at::Tensor& weights,
                                                            at::TensorList cw,
                                                            const at::Tensor& running,
                                                            int64_t stride, bool training,
                                                            double eps, int64_t active, bool save) {
  check_bf16_inputs(x, weights, cw);
  auto r = float_forward(x.to(at::kFloat), weights.to(at::kFloat), to_float(cw),
                         running.to(at::kFloat), stride, training, eps, active, save);
  std::get<0>(r) = std::get<0>(r).to(at::kBFloat16);
  return r;
}

// float_backward: the device's darts_edge_backward; stats and saved are float32 already.
template <typename F>
std::tuple<at::Tensor, at::Tensor, std::vector<at::Tensor>> backward_bf16(
    F float_backward, const at::Tensor& grad, const at::Tensor& x, const at::Tensor& weights,
    at::TensorList cw, const at::Tensor& stats, const at::Tensor& saved, int64_t stride,
    bool training, int64_t active, bool need_x, bool need_weights, bool need_conv) {
  check_bf16_inputs(x, weights, cw);
  check_same_device_dtype(grad, x, "grad", "x");
  auto r =
      float_backward(grad.to(at::kFloat), x.to(at::kFloat), weights.to(at::kFloat), to_float(cw),
                     stats, saved, stride, training, active, need_x, need_weights, need_conv);
  std::get<0>(r) = std::get<0>(r).to(at::kBFloat16);
  std::get<1>(r) = std::get<1>(r).to(at::kBFloat16);
  for (at::Tensor& g : std::get<2>(r)) g = g.to(at::kBFloat16);
  return r;
}

}  // namespace nasfast::darts_edge

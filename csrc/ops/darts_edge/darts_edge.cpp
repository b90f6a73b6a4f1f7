// nasfast::darts_edge_forward / darts_edge_backward: schemas, boundary checks, CPU dispatch.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <torch/library.h>

#include "common/check.h"
#include "common/cpu_buffer_cache.h"
#include "ops/darts_edge/cpu/darts_edge_nchw_policy.h"
#include "ops/darts_edge/cpu/darts_edge_nhwc_policy.h"
#include "ops/darts_edge/darts_edge_backward.h"
#include "ops/darts_edge/darts_edge_bf16.h"
#include "ops/darts_edge/darts_edge_boundary.h"
#include "ops/darts_edge/darts_edge_forward.h"
#include "ops/darts_edge/darts_edge_layout.h"

namespace nasfast::darts_edge {
namespace {

std::tuple<at::Tensor, at::Tensor, at::Tensor> forward_cpu(const at::Tensor& x,
                                                           const at::Tensor& weights,
                                                           at::TensorList conv_weights,
                                                           const at::Tensor& running,
                                                           int64_t stride, bool training,
                                                           double eps, int64_t active, bool save) {
  if (x.scalar_type() == at::kBFloat16)
    return forward_bf16(forward_cpu, x, weights, conv_weights, running, stride, training, eps,
                        active, save);
  check_forward_args(x, weights, conv_weights, running, stride, training, active);
  const std::vector<at::Tensor> cw(conv_weights.begin(), conv_weights.end());
  std::tuple<at::Tensor, at::Tensor, at::Tensor> r;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "darts_edge_forward_cpu", [&] {
    const MixWeights<scalar_t> wv{weight_values(weights)};
    r = cpu_channels_last(x, scalar_t{})
            ? forward<CpuNhwcKernels, scalar_t>(x, wv, cw, running, stride, training, eps, active,
                                                save)
            : forward<CpuNchwKernels, scalar_t>(x, wv, cw, running, stride, training, eps, active,
                                                save);
  });
  return r;
}

std::tuple<at::Tensor, at::Tensor, std::vector<at::Tensor>> backward_cpu(
    const at::Tensor& grad, const at::Tensor& x, const at::Tensor& weights,
    at::TensorList conv_weights, const at::Tensor& stats, const at::Tensor& saved, int64_t stride,
    bool training, int64_t active, bool need_x, bool need_weights, bool need_conv) {
  if (x.scalar_type() == at::kBFloat16)
    return backward_bf16(backward_cpu, grad, x, weights, conv_weights, stats, saved, stride,
                         training, active, need_x, need_weights, need_conv);
  check_backward_args(grad, x, weights, conv_weights, stats, saved, stride, active);
  const std::vector<at::Tensor> cw(conv_weights.begin(), conv_weights.end());
  std::tuple<at::Tensor, at::Tensor, std::vector<at::Tensor>> r;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "darts_edge_backward_cpu", [&] {
    const MixWeights<scalar_t> wv{weight_values(weights)};
    const NeedGrad need{need_x, need_weights, need_conv};
    r = cpu_channels_last(x, scalar_t{})
            ? backward<CpuNhwcKernels, scalar_t>(grad, x, wv, cw, stats, saved, stride, training,
                                                 active, need)
            : backward<CpuNchwKernels, scalar_t>(grad, x, wv, cw, stats, saved, stride, training,
                                                 active, need);
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
// per edge instead of a few dozen tiny tensor ops. Raw loops on CPU, ATen ops on other devices
// without their own kernel (CUDA has one, in cuda/darts_edge_glue.cpp).
void update_running(at::TensorList mean, at::TensorList var, at::TensorList count,
                    const at::Tensor& stats, at::IntArrayRef slots, double momentum) {
  const bool raw =
      check_running_update_args(mean, var, count, stats, slots) && stats.device().is_cpu();
  if (!raw) return running_update_aten(mean, var, count, stats, slots, momentum);
  const size_t n = slots.size();
  const int64_t C = stats.size(2);
  for (size_t j = 0; j < n; ++j) {
    // a CPU int64 counter directly: nine ATen add_ calls were most of this op's ~30 us
    if (count[j].is_cpu() && count[j].scalar_type() == at::kLong && count[j].numel() == 1)
      ++*count[j].data_ptr<int64_t>();
    else
      count[j].add_(1);
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

// Autograd of nasfast::darts_edge_forward, registered in C++ so a DARTS step (hundreds of edge
// calls) pays no Python per call: forward keeps x, the weights, the statistics, the saved
// pointwise outputs and the conv weights; backward asks darts_edge_backward for just the
// gradients autograd needs. Conv weights of primitives that did not run (GDAS single path) get
// no gradient, as in the reference, where they are not part of the graph.
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/autograd.h>
#include <torch/library.h>

#include <tuple>
#include <vector>

#include "ops/darts_edge/darts_edge.h"

namespace nasfast::darts_edge {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

std::tuple<at::Tensor, at::Tensor, at::Tensor> call_forward(
    const at::Tensor& x, const at::Tensor& weights, at::TensorList cw, const at::Tensor& running,
    int64_t stride, bool training, double eps, int64_t active, bool save) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("nasfast::darts_edge_forward", "")
                       .typed<std::tuple<at::Tensor, at::Tensor, at::Tensor>(
                           const at::Tensor&, const at::Tensor&, at::TensorList, const at::Tensor&,
                           int64_t, bool, double, int64_t, bool)>();
  return op.call(x, weights, cw, running, stride, training, eps, active, save);
}

std::tuple<at::Tensor, at::Tensor, std::vector<at::Tensor>> call_backward(
    const at::Tensor& grad, const at::Tensor& x, const at::Tensor& weights, at::TensorList cw,
    const at::Tensor& stats, const at::Tensor& saved, int64_t stride, bool training, int64_t active,
    bool need_x, bool need_weights, bool need_conv) {
  static auto op =
      c10::Dispatcher::singleton()
          .findSchemaOrThrow("nasfast::darts_edge_backward", "")
          .typed<std::tuple<at::Tensor, at::Tensor, std::vector<at::Tensor>>(
              const at::Tensor&, const at::Tensor&, const at::Tensor&, at::TensorList,
              const at::Tensor&, const at::Tensor&, int64_t, bool, int64_t, bool, bool, bool)>();
  return op.call(grad, x, weights, cw, stats, saved, stride, training, active, need_x, need_weights,
                 need_conv);
}

class DartsEdgeFunction : public torch::autograd::Function<DartsEdgeFunction> {
 public:
  static variable_list forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weights,
                               at::TensorList cw, const at::Tensor& running, int64_t stride,
                               bool training, double eps, int64_t active, bool save) {
    at::AutoDispatchBelowADInplaceOrView guard;
    auto [out, stats, saved] =
        call_forward(x, weights, cw, running, stride, training, eps, active, save);
    ctx->mark_non_differentiable({stats, saved});
    // Left on, autograd would hand backward a zero-filled gradient for stats and for saved (six
    // tensors of the output's size) on every step: ~10% of a CPU step at (32,16,32,32).
    ctx->set_materialize_grads(false);
    std::vector<at::Tensor> keep = {x, weights, stats, saved};
    keep.insert(keep.end(), cw.begin(), cw.end());
    ctx->save_for_backward(keep);
    ctx->saved_data["stride"] = stride;
    ctx->saved_data["training"] = training;
    ctx->saved_data["active"] = active;
    return {out, stats, saved};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    TORCH_CHECK(!at::GradMode::is_enabled(),
                "darts_edge: double backward (create_graph=True) is not supported");
    const auto keep = ctx->get_saved_variables();
    const at::Tensor &x = keep[0], &weights = keep[1], &stats = keep[2], &saved = keep[3];
    const std::vector<at::Tensor> cw(keep.begin() + 4, keep.end());
    const int64_t n = static_cast<int64_t>(cw.size());
    const int64_t active = ctx->saved_data["active"].toInt();
    // gradients for: x, weights, each conv weight, running, and the 5 non-tensor arguments
    variable_list out(2 + n + 1 + 5);
    if (!grads[0].defined()) return out;
    const bool need_x = ctx->needs_input_grad(0), need_w = ctx->needs_input_grad(1);
    bool need_conv = false;
    for (int64_t i = 0; i < n; ++i) need_conv = need_conv || ctx->needs_input_grad(2 + i);
    // straight to the backend kernel: no autograd fallback for the backward op, and its inner
    // ATen calls (views, allocations) skip the autograd kernels
    at::AutoDispatchBelowADInplaceOrView guard;
    auto [gx, gw, gcw] =
        call_backward(grads[0], x, weights, cw, stats, saved, ctx->saved_data["stride"].toInt(),
                      ctx->saved_data["training"].toBool(), active, need_x, need_w, need_conv);
    if (need_x) out[0] = gx;
    if (need_w) out[1] = gw;
    for (int64_t i = 0; need_conv && i < n; ++i)
      if (((active >> kConvOp[i]) & 1) && ctx->needs_input_grad(2 + i)) out[2 + i] = gcw[i];
    return out;
  }
};

std::tuple<at::Tensor, at::Tensor, at::Tensor> forward_autograd(
    const at::Tensor& x, const at::Tensor& weights, at::TensorList cw, const at::Tensor& running,
    int64_t stride, bool training, double eps, int64_t active, bool save) {
  const auto r =
      DartsEdgeFunction::apply(x, weights, cw, running, stride, training, eps, active, save);
  return {r[0], r[1], r[2]};
}

}  // namespace
}  // namespace nasfast::darts_edge

TORCH_LIBRARY_IMPL(nasfast, Autograd, m) {
  m.impl("darts_edge_forward", &nasfast::darts_edge::forward_autograd);
}

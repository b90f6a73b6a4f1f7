// nasfast::mixed_op — out = sum_k weights[k] * outputs[k], and its fused backward.
#include "ops/mixed_op/mixed_op.h"

#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <torch/library.h>

#include "common/check.h"
#include "ops/mixed_op/cpu/mixed_op_cpu.h"

namespace nasfast::mixed_op {

std::vector<at::Tensor> checked_contiguous(at::TensorList outputs, const at::Tensor& weights) {
  TORCH_CHECK_VALUE(!outputs.empty(), "outputs: expected a non-empty list of tensors");
  const at::Tensor& first = outputs[0];
  check_floating(first, "outputs[0]");
  TORCH_CHECK_VALUE(weights.dim() == 1 && weights.size(0) == static_cast<int64_t>(outputs.size()),
                    "weights: expected shape [", outputs.size(), "], got ", weights.sizes());
  check_same_device_dtype(weights, first, "weights", "outputs[0]");
  std::vector<at::Tensor> contig;
  contig.reserve(outputs.size());
  for (size_t k = 0; k < outputs.size(); ++k) {
    const at::Tensor& o = outputs[k];
    const std::string name = "outputs[" + std::to_string(k) + "]";
    check_same_device_dtype(o, first, name.c_str(), "outputs[0]");
    TORCH_CHECK_VALUE(o.sizes() == first.sizes(), name, ": expected shape ", first.sizes(),
                      " (as outputs[0]), got ", o.sizes());
    contig.push_back(o.contiguous());
  }
  return contig;
}

namespace {

at::Tensor forward_cpu(at::TensorList outputs, const at::Tensor& weights) {
  auto in = checked_contiguous(outputs, weights);
  at::Tensor out = at::empty_like(in[0], at::MemoryFormat::Contiguous);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, out.scalar_type(), "mixed_op_cpu", [&] {
    using acc_t = at::opmath_type<scalar_t>;
    const at::Tensor w = weights.to(c10::CppTypeToScalarType<acc_t>::value).contiguous();
    std::vector<const scalar_t*> ptrs;
    for (const auto& t : in) ptrs.push_back(t.const_data_ptr<scalar_t>());
    cpu::forward<scalar_t>(ptrs.data(), w.const_data_ptr(), ptrs.size(), out.numel(),
                           out.mutable_data_ptr<scalar_t>());
  });
  return out;
}

std::tuple<std::vector<at::Tensor>, at::Tensor> backward_cpu(const at::Tensor& grad,
                                                             at::TensorList outputs,
                                                             const at::Tensor& weights,
                                                             bool outputs_requires_grad,
                                                             bool weights_requires_grad) {
  auto in = checked_contiguous(outputs, weights);
  check_same_device_dtype(grad, in[0], "grad", "outputs[0]");
  TORCH_CHECK_VALUE(grad.sizes() == in[0].sizes(), "grad: expected shape ", in[0].sizes(), ", got ",
                    grad.sizes());
  const at::Tensor g = grad.contiguous();
  const int64_t K = static_cast<int64_t>(in.size());
  std::vector<at::Tensor> grad_outputs;
  if (outputs_requires_grad) {
    for (int64_t k = 0; k < K; ++k) grad_outputs.push_back(at::empty_like(g));
  }
  at::Tensor grad_weights = at::zeros_like(weights);
  AT_DISPATCH_FLOATING_TYPES_AND2(
      at::kBFloat16, at::kHalf, g.scalar_type(), "mixed_op_backward_cpu", [&] {
        using acc_t = at::opmath_type<scalar_t>;
        const at::Tensor w = weights.to(c10::CppTypeToScalarType<acc_t>::value).contiguous();
        std::vector<const scalar_t*> ptrs;
        for (const auto& t : in) ptrs.push_back(t.const_data_ptr<scalar_t>());
        std::vector<scalar_t*> gptrs;
        for (auto& t : grad_outputs) gptrs.push_back(t.mutable_data_ptr<scalar_t>());
        std::vector<double> dots(weights_requires_grad ? K : 0);
        cpu::backward<scalar_t>(g.const_data_ptr<scalar_t>(), ptrs.data(), w.const_data_ptr(), K,
                                g.numel(), outputs_requires_grad ? gptrs.data() : nullptr,
                                weights_requires_grad ? dots.data() : nullptr);
        if (weights_requires_grad) {
          grad_weights.copy_(at::tensor(dots, at::kDouble));
        }
      });
  return {grad_outputs, grad_weights};
}

}  // namespace
}  // namespace nasfast::mixed_op

TORCH_LIBRARY_FRAGMENT(nasfast, m) {
  m.def("mixed_op(Tensor[] outputs, Tensor weights) -> Tensor");
  m.def(
      "mixed_op_backward(Tensor grad, Tensor[] outputs, Tensor weights, bool "
      "outputs_requires_grad, "
      "bool weights_requires_grad) -> (Tensor[], Tensor)");
}

TORCH_LIBRARY_IMPL(nasfast, CPU, m) {
  m.impl("mixed_op", &nasfast::mixed_op::forward_cpu);
  m.impl("mixed_op_backward", &nasfast::mixed_op::backward_cpu);
}

// CUDA dispatch of nasfast::mixed_op: checks and allocation here, arithmetic in mixed_op_kernel.cu.
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include "common/check.h"
#include "ops/mixed_op/cuda/mixed_op_kernel.h"
#include "ops/mixed_op/mixed_op.h"

namespace nasfast::mixed_op {
namespace {

template <typename F>
void dispatch_cuda(at::ScalarType t, F&& f) {
  switch (t) {
    case at::kFloat: f(float{}, at::kFloat); break;
    case at::kDouble: f(double{}, at::kDouble); break;
    case at::kBFloat16: f(__nv_bfloat16{}, at::kFloat); break;
    default:
      TORCH_CHECK_VALUE(false,
                        "outputs: CUDA mixed_op supports float32, float64 and bfloat16, got ", t);
  }
}

at::Tensor forward_cuda(at::TensorList outputs, const at::Tensor& weights) {
  auto in = checked_contiguous(outputs, weights);
  TORCH_CHECK_VALUE(in.size() <= static_cast<size_t>(cuda::kMaxK),
                    "outputs: CUDA mixed_op takes at most ", cuda::kMaxK, " tensors, got ",
                    in.size());
  c10::cuda::CUDAGuard guard(in[0].device());
  at::Tensor out = at::empty_like(in[0], at::MemoryFormat::Contiguous);
  dispatch_cuda(out.scalar_type(), [&](auto tag, at::ScalarType acc) {
    using T = decltype(tag);
    const at::Tensor w = weights.to(acc).contiguous();
    std::vector<const T*> ptrs;
    for (const auto& t : in) ptrs.push_back(reinterpret_cast<const T*>(t.const_data_ptr()));
    const cudaError_t err = cuda::forward<T>(
        ptrs.data(), w.const_data_ptr(), static_cast<int>(ptrs.size()), out.numel(),
        reinterpret_cast<T*>(out.mutable_data_ptr()), at::cuda::getCurrentCUDAStream());
    TORCH_CHECK(err == cudaSuccess,
                "nasfast::mixed_op CUDA launch failed: ", cudaGetErrorString(err));
  });
  return out;
}

std::tuple<std::vector<at::Tensor>, at::Tensor> backward_cuda(const at::Tensor& grad,
                                                              at::TensorList outputs,
                                                              const at::Tensor& weights,
                                                              bool outputs_requires_grad,
                                                              bool weights_requires_grad) {
  auto in = checked_contiguous(outputs, weights);
  check_same_device_dtype(grad, in[0], "grad", "outputs[0]");
  TORCH_CHECK_VALUE(grad.sizes() == in[0].sizes(), "grad: expected shape ", in[0].sizes(), ", got ",
                    grad.sizes());
  c10::cuda::CUDAGuard guard(grad.device());
  const at::Tensor g = grad.contiguous();
  const int K = static_cast<int>(in.size());
  std::vector<at::Tensor> grad_outputs;
  if (outputs_requires_grad)
    for (int k = 0; k < K; ++k) grad_outputs.push_back(at::empty_like(g));
  at::Tensor grad_weights = at::zeros_like(weights);
  dispatch_cuda(g.scalar_type(), [&](auto tag, at::ScalarType acc) {
    using T = decltype(tag);
    const at::Tensor w = weights.to(acc).contiguous();
    std::vector<const T*> ptrs;
    for (const auto& t : in) ptrs.push_back(reinterpret_cast<const T*>(t.const_data_ptr()));
    std::vector<T*> gptrs;
    for (auto& t : grad_outputs) gptrs.push_back(reinterpret_cast<T*>(t.mutable_data_ptr()));
    at::Tensor dots = at::zeros({K}, w.options());
    at::Tensor ws = at::empty({cuda::backward_workspace_elems(K, g.numel())}, w.options());
    const cudaError_t err = cuda::backward<T>(
        reinterpret_cast<const T*>(g.const_data_ptr()), ptrs.data(), w.const_data_ptr(), K,
        g.numel(), outputs_requires_grad ? gptrs.data() : nullptr,
        weights_requires_grad ? dots.mutable_data_ptr() : nullptr, ws.mutable_data_ptr(),
        at::cuda::getCurrentCUDAStream());
    TORCH_CHECK(err == cudaSuccess,
                "nasfast::mixed_op_backward CUDA launch failed: ", cudaGetErrorString(err));
    if (weights_requires_grad) grad_weights.copy_(dots);
  });
  return {grad_outputs, grad_weights};
}

}  // namespace
}  // namespace nasfast::mixed_op

TORCH_LIBRARY_IMPL(nasfast, CUDA, m) {
  m.impl("mixed_op", &nasfast::mixed_op::forward_cuda);
  m.impl("mixed_op_backward", &nasfast::mixed_op::backward_cuda);
}

// CUDA dispatch of nasfast::darts_edge_forward / _backward: the device-generic body
// (darts_edge_forward.h, darts_edge_backward.h) with the CUDA kernel policy (launchers in
// darts_edge_kernel.cu).
// Compiled only with a CUDA torch (here, in ctest, a syntax check against stub headers; built and
// run on an H100, 2026-11-22: benchmarks/results/gpu_darts_edge_2026-11-22_h100.md).
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include "common/check.h"
#include "ops/darts_edge/cuda/darts_edge_cuda_policy.h"
#include "ops/darts_edge/cuda/darts_edge_kernel.h"
#include "ops/darts_edge/darts_edge_backward.h"
#include "ops/darts_edge/darts_edge_bf16.h"
#include "ops/darts_edge/darts_edge_boundary.h"
#include "ops/darts_edge/darts_edge_forward.h"

namespace nasfast::darts_edge {
namespace {

// The kernels' scratch (partial sums) comes from torch's caching allocator: no allocator of its
// own, and it shows in torch.cuda.memory_stats.
void* scratch_alloc(size_t bytes, cudaStream_t st) {
  return c10::cuda::CUDACachingAllocator::raw_alloc_with_stream(bytes, st);
}
void scratch_free(void* p, cudaStream_t) { c10::cuda::CUDACachingAllocator::raw_delete(p); }
const bool kScratchSet = (cuda::set_scratch_allocator({scratch_alloc, scratch_free}), true);

struct TorchStream {
  static cudaStream_t get() { return at::cuda::getCurrentCUDAStream(); }
};
using TorchCudaKernels = CudaKernels<TorchStream>;

std::tuple<at::Tensor, at::Tensor, at::Tensor> forward_cuda(const at::Tensor& x,
                                                            const at::Tensor& weights,
                                                            at::TensorList conv_weights,
                                                            const at::Tensor& running,
                                                            int64_t stride, bool training,
                                                            double eps, int64_t active, bool save) {
  if (x.scalar_type() == at::kBFloat16)
    return forward_bf16(forward_cuda, x, weights, conv_weights, running, stride, training, eps,
                        active, save);
  check_forward_args(x, weights, conv_weights, running, stride, training, active);
  c10::cuda::CUDAGuard guard(x.device());
  const std::vector<at::Tensor> cw(conv_weights.begin(), conv_weights.end());
  const at::Tensor wt = weights.to(x.scalar_type()).contiguous();
  std::tuple<at::Tensor, at::Tensor, at::Tensor> r;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "darts_edge_forward_cuda", [&] {
    const MixWeights<scalar_t> wv{std::vector<double>(kOps, 1.0), wt.data_ptr<scalar_t>()};
    r = forward<TorchCudaKernels, scalar_t>(x, wv, cw, running, stride, training, eps, active,
                                            save);
  });
  return r;
}

std::tuple<at::Tensor, at::Tensor, std::vector<at::Tensor>> backward_cuda(
    const at::Tensor& grad, const at::Tensor& x, const at::Tensor& weights,
    at::TensorList conv_weights, const at::Tensor& stats, const at::Tensor& saved, int64_t stride,
    bool training, int64_t active, bool need_x, bool need_weights, bool need_conv) {
  if (x.scalar_type() == at::kBFloat16)
    return backward_bf16(backward_cuda, grad, x, weights, conv_weights, stats, saved, stride,
                         training, active, need_x, need_weights, need_conv);
  check_backward_args(grad, x, weights, conv_weights, stats, saved, stride, active);
  c10::cuda::CUDAGuard guard(x.device());
  const std::vector<at::Tensor> cw(conv_weights.begin(), conv_weights.end());
  const at::Tensor wt = weights.to(x.scalar_type()).contiguous();
  std::tuple<at::Tensor, at::Tensor, std::vector<at::Tensor>> r;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "darts_edge_backward_cuda", [&] {
    const MixWeights<scalar_t> wv{std::vector<double>(kOps, 1.0), wt.data_ptr<scalar_t>()};
    r = backward<TorchCudaKernels, scalar_t>(grad, x, wv, cw, stats, saved, stride, training,
                                             active, NeedGrad{need_x, need_weights, need_conv});
  });
  std::get<1>(r) = std::get<1>(r).to(weights.scalar_type());
  return r;
}

// One kernel launch for every slot (the ATen form costs ~5 small launches per slot).
void running_update_cuda(at::TensorList mean, at::TensorList var, at::TensorList count,
                         const at::Tensor& stats, at::IntArrayRef slots, double momentum) {
  bool raw = check_running_update_args(mean, var, count, stats, slots);
  for (const at::Tensor& t : count)
    raw = raw && t.device() == stats.device() && t.scalar_type() == at::kLong && t.numel() == 1;
  if (!raw) return running_update_aten(mean, var, count, stats, slots, momentum);
  c10::cuda::CUDAGuard guard(stats.device());
  const int n = static_cast<int>(slots.size());
  AT_DISPATCH_FLOATING_TYPES(stats.scalar_type(), "darts_edge_running_update_cuda", [&] {
    std::vector<scalar_t*> m(n), v(n);
    std::vector<int64_t*> c(n);
    for (int j = 0; j < n; ++j) {
      m[j] = mean[j].data_ptr<scalar_t>();
      v[j] = var[j].data_ptr<scalar_t>();
      c[j] = count[j].data_ptr<int64_t>();
    }
    NASFAST_CUDA_CALL(cuda::running_update<scalar_t>(
        m.data(), v.data(), c.data(), stats.data_ptr<scalar_t>(), slots.data(), n, stats.size(2),
        kSlots, momentum, TorchCudaKernels::stream()));
  });
}

}  // namespace
}  // namespace nasfast::darts_edge

TORCH_LIBRARY_IMPL(nasfast, CUDA, m) {
  m.impl("darts_edge_forward", &nasfast::darts_edge::forward_cuda);
  m.impl("darts_edge_backward", &nasfast::darts_edge::backward_cuda);
  m.impl("darts_edge_running_update", &nasfast::darts_edge::running_update_cuda);
}

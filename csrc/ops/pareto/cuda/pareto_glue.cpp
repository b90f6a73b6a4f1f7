// CUDA dispatch of nasfast::pareto_rank: checks and allocation here, the kernels in
// non_dominated_sort_kernel.cu. Crowding and hypervolume run on the CPU (the Python layer moves the
// data).
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include "ops/pareto/cuda/non_dominated_sort_kernel.h"
#include "ops/pareto/pareto.h"

namespace nasfast::pareto {
namespace {

at::Tensor rank_cuda(const at::Tensor& F) {
  const at::Tensor f = checked_matrix(F, "F");
  c10::cuda::CUDAGuard guard(f.device());
  TORCH_CHECK_VALUE(at::isfinite(f).all().item<bool>(),
                    "F: expected finite values, found NaN or inf");
  const int64_t n = f.size(0);
  at::Tensor rank = at::empty({n}, f.options().dtype(at::kLong));
  at::Tensor ws = at::empty({static_cast<int64_t>(cuda::rank_workspace_bytes(n))},
                            f.options().dtype(at::kByte));
  const cudaError_t err = cuda::rank(f.const_data_ptr<double>(), n, static_cast<int>(f.size(1)),
                                     rank.mutable_data_ptr<int64_t>(), ws.mutable_data_ptr(),
                                     at::cuda::getCurrentCUDAStream());
  TORCH_CHECK(err == cudaSuccess, "nasfast::pareto_rank CUDA failed: ", cudaGetErrorString(err));
  return rank;
}

}  // namespace
}  // namespace nasfast::pareto

TORCH_LIBRARY_IMPL(nasfast, CUDA, m) { m.impl("pareto_rank", &nasfast::pareto::rank_cuda); }

// CUDA dispatch of the row gather/scatter ops: checks, allocation and index bookkeeping here,
// arithmetic in row_gather_kernel.cu. Index ranges are not checked on the device (that would
// sync); the Python entry points validate them.
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include "common/check.h"
#include "ops/row_gather/cuda/row_gather_kernel.h"
#include "ops/row_gather/row_gather.h"

namespace nasfast::row_gather {
namespace {

template <typename F>
void dispatch_cuda(at::ScalarType t, const char* name, F&& f) {
  switch (t) {
    case at::kFloat: f(float{}); break;
    case at::kDouble: f(double{}); break;
    case at::kBFloat16: f(__nv_bfloat16{}); break;
    default:
      TORCH_CHECK_VALUE(false, name, ": CUDA supports float32, float64 and bfloat16, got ", t);
  }
}

std::vector<int64_t> shape_with_rows(const at::Tensor& t, int64_t rows) {
  std::vector<int64_t> s(t.sizes().begin(), t.sizes().end());
  s[0] = rows;
  return s;
}

void check_launch(cudaError_t err, const char* op) {
  TORCH_CHECK(err == cudaSuccess, "nasfast::", op,
              " CUDA launch failed: ", cudaGetErrorString(err));
}

at::Tensor gather_rows_cuda(const at::Tensor& x, const at::Tensor& index, bool relu) {
  check_gather(x, index, "x", 0, x.dim() >= 1 ? x.size(0) : 0, false);
  c10::cuda::CUDAGuard guard(x.device());
  const at::Tensor xc = x.contiguous(), ic = index.contiguous();
  at::Tensor out = at::empty(shape_with_rows(xc, ic.numel()), xc.options());
  dispatch_cuda(xc.scalar_type(), "x", [&](auto tag) {
    using T = decltype(tag);
    check_launch(cuda::gather_rows<T>(reinterpret_cast<const T*>(xc.const_data_ptr()),
                                      ic.const_data_ptr<int64_t>(), ic.numel(), row_elems(xc), relu,
                                      reinterpret_cast<T*>(out.mutable_data_ptr()),
                                      at::cuda::getCurrentCUDAStream()),
                 "gather_rows");
  });
  return out;
}

at::Tensor gather_sum_cuda(at::TensorList srcs, const at::Tensor& maps) {
  auto in = check_gather_sum(srcs, maps, false);
  c10::cuda::CUDAGuard guard(in[0].device());
  const at::Tensor mc = maps.contiguous();
  const int64_t R = mc.size(1);
  at::Tensor out = at::empty(shape_with_rows(in[0], R), in[0].options());
  std::vector<int64_t> ptrs;
  for (const auto& t : in) ptrs.push_back(reinterpret_cast<int64_t>(t.const_data_ptr()));
  const at::Tensor table = at::tensor(ptrs, at::kLong).to(in[0].device(), /*non_blocking=*/false);
  dispatch_cuda(out.scalar_type(), "srcs", [&](auto tag) {
    using T = decltype(tag);
    check_launch(cuda::gather_sum<T>(reinterpret_cast<const T* const*>(table.const_data_ptr()),
                                     mc.const_data_ptr<int64_t>(), static_cast<int>(in.size()), R,
                                     row_elems(out), reinterpret_cast<T*>(out.mutable_data_ptr()),
                                     at::cuda::getCurrentCUDAStream()),
                 "gather_sum");
  });
  return out;
}

at::Tensor scatter_rows_cuda(const at::Tensor& src, const at::Tensor& index, int64_t rows) {
  TORCH_CHECK_VALUE(rows >= 0, "rows: expected a non-negative count, got ", rows);
  check_gather(src, index, "src", -1, rows, false);
  TORCH_CHECK_VALUE(index.numel() == src.size(0), "index: expected ", src.size(0),
                    " entries (rows of src), got ", index.numel());
  c10::cuda::CUDAGuard guard(src.device());
  const at::Tensor sc = src.contiguous();
  // CSR of the sources by destination row; index -1 goes to a dropped bucket at the front.
  const at::Tensor shifted = index + 1;
  const at::Tensor order = std::get<1>(at::sort(shifted, /*stable=*/true, /*dim=*/0, false));
  const at::Tensor counts = at::bincount(shifted, {}, rows + 1);
  const at::Tensor start =
      at::cat({at::zeros({1}, counts.options()), counts.cumsum(0)}).slice(0, 1);
  at::Tensor out = at::empty(shape_with_rows(sc, rows), sc.options());
  dispatch_cuda(sc.scalar_type(), "src", [&](auto tag) {
    using T = decltype(tag);
    check_launch(
        cuda::scatter_rows<T>(reinterpret_cast<const T*>(sc.const_data_ptr()),
                              order.const_data_ptr<int64_t>(), start.const_data_ptr<int64_t>(),
                              rows, row_elems(sc), reinterpret_cast<T*>(out.mutable_data_ptr()),
                              at::cuda::getCurrentCUDAStream()),
        "scatter_rows");
  });
  return out;
}

}  // namespace
}  // namespace nasfast::row_gather

TORCH_LIBRARY_IMPL(nasfast, CUDA, m) {
  m.impl("gather_rows", &nasfast::row_gather::gather_rows_cuda);
  m.impl("gather_sum", &nasfast::row_gather::gather_sum_cuda);
  m.impl("scatter_rows", &nasfast::row_gather::scatter_rows_cuda);
}

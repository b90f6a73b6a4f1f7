// nasfast::gather_rows / gather_sum / scatter_rows: moving rows between stacked per-candidate
// tensors, the gather and scatter-add steps of batched candidate evaluation.
#include "ops/row_gather/row_gather.h"

#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <torch/library.h>

#include <algorithm>

#include "common/check.h"
#include "ops/row_gather/cpu/row_gather_cpu.h"

namespace nasfast::row_gather {

int64_t row_elems(const at::Tensor& t) {
  int64_t m = 1;
  for (int64_t d = 1; d < t.dim(); ++d) m *= t.size(d);
  return m;
}

void check_gather(const at::Tensor& x, const at::Tensor& index, const char* x_name, int64_t lo,
                  int64_t rows, bool check_range) {
  check_floating(x, x_name);
  TORCH_CHECK_VALUE(x.dim() >= 1, x_name, ": expected at least 1 dimension, got a scalar");
  TORCH_CHECK_VALUE(index.dim() == 1 && index.scalar_type() == at::kLong,
                    "index: expected a 1-D int64 tensor, got ", index.scalar_type(), " of shape ",
                    index.sizes());
  TORCH_CHECK_VALUE(index.device() == x.device(), "index: expected device ", x.device(), " (as ",
                    x_name, "), got ", index.device());
  if (check_range && index.numel() > 0) {
    const at::Tensor ic = index.cpu().contiguous();
    const int64_t* p = ic.const_data_ptr<int64_t>();
    int64_t mn = p[0], mx = p[0];
    for (int64_t i = 1; i < ic.numel(); ++i) {
      mn = std::min(mn, p[i]);
      mx = std::max(mx, p[i]);
    }
    TORCH_CHECK_VALUE(mn >= lo && mx < rows, "index: expected values in [", lo, ", ", rows,
                      "), got min ", mn, " max ", mx);
  }
}

std::vector<at::Tensor> check_gather_sum(at::TensorList srcs, const at::Tensor& maps,
                                         bool check_range) {
  TORCH_CHECK_VALUE(!srcs.empty(), "srcs: expected a non-empty list of tensors");
  const at::Tensor& first = srcs[0];
  check_floating(first, "srcs[0]");
  TORCH_CHECK_VALUE(first.dim() >= 1, "srcs[0]: expected at least 1 dimension, got a scalar");
  const int64_t K = static_cast<int64_t>(srcs.size());
  TORCH_CHECK_VALUE(maps.dim() == 2 && maps.size(0) == K && maps.scalar_type() == at::kLong,
                    "maps: expected an int64 tensor of shape [", K, ", R], got ",
                    maps.scalar_type(), " of shape ", maps.sizes());
  TORCH_CHECK_VALUE(maps.device() == first.device(), "maps: expected device ", first.device(),
                    " (as srcs[0]), got ", maps.device());
  std::vector<at::Tensor> contig;
  for (int64_t k = 0; k < K; ++k) {
    const at::Tensor& s = srcs[k];
    const std::string name = "srcs[" + std::to_string(k) + "]";
    check_same_device_dtype(s, first, name.c_str(), "srcs[0]");
    TORCH_CHECK_VALUE(s.dim() == first.dim() && s.sizes().slice(1) == first.sizes().slice(1), name,
                      ": expected rows of shape ", first.sizes().slice(1),
                      " (as srcs[0]), got shape ", s.sizes());
    contig.push_back(s.contiguous());
  }
  if (check_range && maps.numel() > 0) {
    const at::Tensor m = maps.cpu();
    const int64_t* p = m.const_data_ptr<int64_t>();
    const int64_t R = maps.size(1);
    for (int64_t k = 0; k < K; ++k)
      for (int64_t r = 0; r < R; ++r)
        TORCH_CHECK_VALUE(p[k * R + r] >= -1 && p[k * R + r] < srcs[k].size(0), "maps: row ", k,
                          " expected values in [-1, ", srcs[k].size(0), "), got ", p[k * R + r]);
  }
  return contig;
}

namespace {

std::vector<int64_t> shape_with_rows(const at::Tensor& t, int64_t rows) {
  std::vector<int64_t> s(t.sizes().begin(), t.sizes().end());
  s[0] = rows;
  return s;
}

at::Tensor gather_rows_cpu(const at::Tensor& x, const at::Tensor& index, bool relu) {
  check_gather(x, index, "x", 0, x.dim() >= 1 ? x.size(0) : 0, true);
  const at::Tensor xc = x.contiguous(), ic = index.contiguous();
  at::Tensor out = at::empty(shape_with_rows(xc, index.numel()), xc.options());
  AT_DISPATCH_FLOATING_TYPES_AND2(
      at::kBFloat16, at::kHalf, xc.scalar_type(), "gather_rows_cpu", [&] {
        cpu::gather_rows<scalar_t>(xc.const_data_ptr<scalar_t>(), ic.const_data_ptr<int64_t>(),
                                   ic.numel(), row_elems(xc), relu,
                                   out.mutable_data_ptr<scalar_t>());
      });
  return out;
}

at::Tensor gather_sum_cpu(at::TensorList srcs, const at::Tensor& maps) {
  auto in = check_gather_sum(srcs, maps, true);
  const at::Tensor mc = maps.contiguous();
  const int64_t R = mc.size(1);
  at::Tensor out = at::empty(shape_with_rows(in[0], R), in[0].options());
  AT_DISPATCH_FLOATING_TYPES_AND2(
      at::kBFloat16, at::kHalf, out.scalar_type(), "gather_sum_cpu", [&] {
        std::vector<const scalar_t*> ptrs;
        for (const auto& t : in) ptrs.push_back(t.const_data_ptr<scalar_t>());
        cpu::gather_sum<scalar_t>(ptrs.data(), mc.const_data_ptr<int64_t>(), mc.size(0), R,
                                  row_elems(out), out.mutable_data_ptr<scalar_t>());
      });
  return out;
}

at::Tensor scatter_rows_cpu(const at::Tensor& src, const at::Tensor& index, int64_t rows) {
  TORCH_CHECK_VALUE(rows >= 0, "rows: expected a non-negative count, got ", rows);
  check_gather(src, index, "src", -1, rows, true);
  TORCH_CHECK_VALUE(index.numel() == src.size(0), "index: expected ", src.size(0),
                    " entries (rows of src), got ", index.numel());
  const at::Tensor sc = src.contiguous(), ic = index.contiguous();
  at::Tensor out = at::empty(shape_with_rows(sc, rows), sc.options());
  AT_DISPATCH_FLOATING_TYPES_AND2(
      at::kBFloat16, at::kHalf, sc.scalar_type(), "scatter_rows_cpu", [&] {
        cpu::scatter_rows<scalar_t>(sc.const_data_ptr<scalar_t>(), ic.const_data_ptr<int64_t>(),
                                    ic.numel(), rows, row_elems(sc),
                                    out.mutable_data_ptr<scalar_t>());
      });
  return out;
}

}  // namespace
}  // namespace nasfast::row_gather

TORCH_LIBRARY_FRAGMENT(nasfast, m) {
  m.def("gather_rows(Tensor x, Tensor index, bool relu=False) -> Tensor");
  m.def("gather_sum(Tensor[] srcs, Tensor maps) -> Tensor");
  m.def("scatter_rows(Tensor src, Tensor index, SymInt rows) -> Tensor");
}

TORCH_LIBRARY_IMPL(nasfast, CPU, m) {
  m.impl("gather_rows", &nasfast::row_gather::gather_rows_cpu);
  m.impl("gather_sum", &nasfast::row_gather::gather_sum_cpu);
  m.impl("scatter_rows", &nasfast::row_gather::scatter_rows_cpu);
}

// nasfast::pareto_* ops: non-dominated ranks, crowding distance, hypervolume (schemas, checks,
// CPU dispatch). The algorithms are in cpu/*.cpp on raw buffers; the CUDA rank is in cuda/.
#include "ops/pareto/pareto.h"

#include <ATen/ATen.h>
#include <torch/library.h>

#include <cmath>

#include "ops/pareto/cpu/pareto_cpu.h"

namespace nasfast::pareto {

at::Tensor checked_matrix(const at::Tensor& F, const char* name) {
  TORCH_CHECK_VALUE(F.dim() == 2, name, ": expected a 2-D [N, M] tensor, got shape ", F.sizes());
  TORCH_CHECK_VALUE(F.size(1) >= 1, name, ": expected at least one objective (M >= 1), got shape ",
                    F.sizes());
  TORCH_CHECK_VALUE(F.scalar_type() == at::kDouble, name, ": expected dtype float64, got ",
                    F.scalar_type());
  return F.contiguous();
}

void check_finite_cpu(const at::Tensor& t, const char* name) {
  const double* p = t.const_data_ptr<double>();
  const int64_t n = t.numel();
  bool ok = true;
  for (int64_t i = 0; i < n; ++i) ok &= std::isfinite(p[i]);
  TORCH_CHECK_VALUE(ok, name, ": expected finite values, found NaN or inf");
}

namespace {

at::Tensor checked_cpu_matrix(const at::Tensor& F, const char* name) {
  at::Tensor f = checked_matrix(F, name);
  check_finite_cpu(f, name);
  return f;
}

at::Tensor rank_cpu(const at::Tensor& F) {
  const at::Tensor f = checked_cpu_matrix(F, "F");
  at::Tensor rank = at::empty({f.size(0)}, f.options().dtype(at::kLong));
  cpu::non_dominated_rank(f.const_data_ptr<double>(), f.size(0), f.size(1),
                          rank.mutable_data_ptr<int64_t>());
  return rank;
}

at::Tensor crowding_cpu(const at::Tensor& F, const at::Tensor& rank) {
  const at::Tensor f = checked_cpu_matrix(F, "F");
  TORCH_CHECK_VALUE(rank.dim() == 1 && rank.size(0) == f.size(0), "rank: expected shape [",
                    f.size(0), "], got ", rank.sizes());
  TORCH_CHECK_VALUE(rank.scalar_type() == at::kLong, "rank: expected dtype int64, got ",
                    rank.scalar_type());
  const at::Tensor r = rank.contiguous();
  const int64_t* rp = r.const_data_ptr<int64_t>();
  for (int64_t i = 0; i < r.numel(); ++i)
    TORCH_CHECK_VALUE(rp[i] >= 0 && rp[i] < r.numel(), "rank: expected values in [0, N), got ",
                      rp[i]);
  at::Tensor out = at::empty({f.size(0)}, f.options());
  cpu::crowding_distance(f.const_data_ptr<double>(), rp, f.size(0), f.size(1),
                         out.mutable_data_ptr<double>());
  return out;
}

at::Tensor hypervolume_cpu(const at::Tensor& F, const at::Tensor& ref) {
  const at::Tensor f = checked_cpu_matrix(F, "F");
  TORCH_CHECK_VALUE(ref.dim() == 1 && ref.size(0) == f.size(1), "ref: expected shape [", f.size(1),
                    "], got ", ref.sizes());
  TORCH_CHECK_VALUE(ref.scalar_type() == at::kDouble, "ref: expected dtype float64, got ",
                    ref.scalar_type());
  const at::Tensor r = ref.contiguous();
  check_finite_cpu(r, "ref");
  const double hv = cpu::hypervolume(f.const_data_ptr<double>(), f.size(0), f.size(1),
                                     r.const_data_ptr<double>());
  return at::scalar_tensor(hv, f.options());
}

}  // namespace
}  // namespace nasfast::pareto

TORCH_LIBRARY_FRAGMENT(nasfast, m) {
  m.def("pareto_rank(Tensor F) -> Tensor");
  m.def("pareto_crowding(Tensor F, Tensor rank) -> Tensor");
  m.def("pareto_hypervolume(Tensor F, Tensor ref) -> Tensor");
}

TORCH_LIBRARY_IMPL(nasfast, CPU, m) {
  m.impl("pareto_rank", &nasfast::pareto::rank_cpu);
  m.impl("pareto_crowding", &nasfast::pareto::crowding_cpu);
  m.impl("pareto_hypervolume", &nasfast::pareto::hypervolume_cpu);
}

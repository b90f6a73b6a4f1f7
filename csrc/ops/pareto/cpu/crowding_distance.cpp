// Crowding distance per front (NSGA-II, pymoo's normalisation), see pareto_cpu.h.
#include <algorithm>
#include <limits>
#include <vector>

#include "ops/pareto/cpu/pareto_cpu.h"

namespace nasfast::pareto::cpu {

void crowding_distance(const double* F, const int64_t* rank, int64_t n, int64_t m, double* out) {
  if (n == 0) return;
  constexpr double kInf = std::numeric_limits<double>::infinity();
  // Rows grouped by front, ascending row order inside each front (a counting sort by rank).
  const int64_t n_fronts = *std::max_element(rank, rank + n) + 1;
  std::vector<int64_t> start(n_fronts + 1, 0);
  for (int64_t i = 0; i < n; ++i) ++start[rank[i] + 1];
  for (int64_t f = 0; f < n_fronts; ++f) start[f + 1] += start[f];
  std::vector<int64_t> rows(n);
  {
    std::vector<int64_t> fill(start.begin(), start.end() - 1);
    for (int64_t i = 0; i < n; ++i) rows[fill[rank[i]]++] = i;
  }
  std::vector<int64_t> idx;
  for (int64_t f = 0; f < n_fronts; ++f) {
    const int64_t* fr = rows.data() + start[f];
    const int64_t s = start[f + 1] - start[f];
    if (s <= 2) {
      for (int64_t t = 0; t < s; ++t) out[fr[t]] = kInf;
      continue;
    }
    for (int64_t t = 0; t < s; ++t) out[fr[t]] = 0.0;
    for (int64_t j = 0; j < m; ++j) {
      idx.assign(fr, fr + s);
      // Stable order by objective j (rows are ascending, so ties keep row order).
      std::stable_sort(idx.begin(), idx.end(),
                       [F, m, j](int64_t a, int64_t b) { return F[a * m + j] < F[b * m + j]; });
      const double lo = F[idx.front() * m + j];
      const double norm = F[idx.back() * m + j] - lo;
      if (norm == 0.0) continue;  // constant objective: adds nothing (pymoo: NaN -> 0)
      for (int64_t t = 0; t < s; ++t) {
        const double v = F[idx[t] * m + j];
        const double to_last = t == 0 ? kInf : (v - F[idx[t - 1] * m + j]) / norm;
        const double to_next = t == s - 1 ? kInf : (F[idx[t + 1] * m + j] - v) / norm;
        out[idx[t]] += to_last + to_next;
      }
    }
    for (int64_t t = 0; t < s; ++t) out[fr[t]] /= static_cast<double>(m);
  }
}

}  // namespace nasfast::pareto::cpu

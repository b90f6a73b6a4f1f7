// Exact hypervolume, see pareto_cpu.h.
//
// M = 2: sort by f0, sweep. M = 3: sweep along f2 keeping the 2-D staircase of (f0, f1) in a
// std::map with its area updated per insertion (O(n log n) overall). M >= 4: sort by the last
// objective, worst first; the exclusive contribution of point k against the later points is
// (ref_d - p_d) * (box_{d-1}(p) - HV_{d-1}(limit set)), because every later point is at least as
// good in objective d (While, Bradstreet and Barone 2012, WFG), recursing down to the 3-D sweep.
#include <algorithm>
#include <map>
#include <numeric>
#include <vector>

#include "pareto/cpu/pareto_cpu.h"

namespace nasfast::pareto::cpu {
namespace {

// Points as a flat row-major array of n rows of d values, all strictly better than ref.
using Pts = std::vector<double>;

double hv2(const double* P, int64_t n, int64_t d, const double* ref) {
  std::vector<int64_t> o(n);
  std::iota(o.begin(), o.end(), int64_t{0});
  std::sort(o.begin(), o.end(), [P, d](int64_t a, int64_t b) {
    return P[a * d] < P[b * d] || (P[a * d] == P[b * d] && P[a * d + 1] < P[b * d + 1]);
  });
  double hv = 0.0, y_min = ref[1];
  for (int64_t i : o) {
    const double x = P[i * d], y = P[i * d + 1];
    if (y < y_min) {
      hv += (ref[0] - x) * (y_min - y);
      y_min = y;
    }
  }
  return hv;
}

double hv3(const double* P, int64_t n, int64_t d, const double* ref) {
  std::vector<int64_t> o(n);
  std::iota(o.begin(), o.end(), int64_t{0});
  std::sort(o.begin(), o.end(), [P, d](int64_t a, int64_t b) { return P[a * d + 2] < P[b * d + 2]; });
  std::map<double, double> stair;  // f0 -> f1, f1 strictly decreasing as f0 grows
  double area = 0.0, hv = 0.0, z_prev = 0.0;
  bool first = true;
  for (int64_t i : o) {
    const double x = P[i * d], y = P[i * d + 1], z = P[i * d + 2];
    if (!first) hv += area * (z - z_prev);
    first = false;
    z_prev = z;
    auto it = stair.upper_bound(x);  // first key > x
    double h = ref[1];               // current height of the staircase at x
    if (it != stair.begin()) {
      const auto pred = std::prev(it);
      if (pred->second <= y) continue;  // weakly dominated in (f0, f1)
      h = pred->second;
      if (pred->first == x) it = pred;  // same f0, worse f1: replaced below
    }
    double cx = x, added = 0.0;
    while (it != stair.end() && it->second >= y) {
      added += (it->first - cx) * (h - y);
      cx = it->first;
      h = it->second;
      it = stair.erase(it);
    }
    const double next_x = it == stair.end() ? ref[0] : it->first;
    added += (next_x - cx) * (h - y);
    area += added;
    stair.emplace_hint(it, x, y);
  }
  if (!first) hv += area * (ref[2] - z_prev);
  return hv;
}

// Drops rows weakly dominated by another row (keeps one copy of identical rows).
Pts nondominated(const Pts& P, int64_t d) {
  const int64_t n = static_cast<int64_t>(P.size()) / d;
  std::vector<int64_t> o(n);
  std::iota(o.begin(), o.end(), int64_t{0});
  // Sum order: a dominator has a strictly smaller sum (or equal for identical rows).
  std::vector<double> sum(n, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) sum[i] += P[i * d + j];
  std::sort(o.begin(), o.end(), [&](int64_t a, int64_t b) {
    if (sum[a] != sum[b]) return sum[a] < sum[b];
    return std::lexicographical_compare(&P[a * d], &P[a * d] + d, &P[b * d], &P[b * d] + d);
  });
  Pts out;
  std::vector<int64_t> kept;
  for (int64_t i : o) {
    const double* p = &P[i * d];
    bool dominated = false;
    for (int64_t k : kept) {
      const double* q = &out[k * d];
      bool le = true;
      for (int64_t j = 0; j < d && le; ++j) le = q[j] <= p[j];
      if (le) {
        dominated = true;
        break;
      }
    }
    if (!dominated) {
      kept.push_back(static_cast<int64_t>(kept.size()));
      out.insert(out.end(), p, p + d);
    }
  }
  return out;
}

double hv_rec(const Pts& P, int64_t d, const double* ref) {
  const int64_t n = static_cast<int64_t>(P.size()) / d;
  if (n == 0) return 0.0;
  if (n == 1) {
    double v = 1.0;
    for (int64_t j = 0; j < d; ++j) v *= ref[j] - P[j];
    return v;
  }
  if (d == 2) return hv2(P.data(), n, d, ref);
  if (d == 3) return hv3(P.data(), n, d, ref);
  std::vector<int64_t> o(n);
  std::iota(o.begin(), o.end(), int64_t{0});
  std::sort(o.begin(), o.end(), [&](int64_t a, int64_t b) { return P[a * d + d - 1] > P[b * d + d - 1]; });
  const int64_t e = d - 1;  // dimension of the slices
  double hv = 0.0;
  Pts limit;
  for (int64_t k = 0; k < n; ++k) {
    const double* p = &P[o[k] * d];
    const double depth = ref[e] - p[e];
    double box = 1.0;
    for (int64_t j = 0; j < e; ++j) box *= ref[j] - p[j];
    limit.clear();
    for (int64_t t = k + 1; t < n; ++t) {
      const double* q = &P[o[t] * d];
      for (int64_t j = 0; j < e; ++j) limit.push_back(std::max(p[j], q[j]));
    }
    const double inner = e >= 4 ? hv_rec(nondominated(limit, e), e, ref) : hv_rec(limit, e, ref);
    hv += depth * (box - inner);
  }
  return hv;
}

}  // namespace

double hypervolume(const double* F, int64_t n, int64_t m, const double* ref) {
  Pts P;
  P.reserve(n * m);
  for (int64_t i = 0; i < n; ++i) {
    const double* p = F + i * m;
    bool inside = true;
    for (int64_t j = 0; j < m && inside; ++j) inside = p[j] < ref[j];
    if (inside) P.insert(P.end(), p, p + m);
  }
  if (P.empty()) return 0.0;
  if (m == 1) {
    double best = P[0];
    for (double v : P) best = std::min(best, v);
    return ref[0] - best;
  }
  if (m >= 5) P = nondominated(P, m);
  return hv_rec(P, m, ref);
}

}  // namespace nasfast::pareto::cpu

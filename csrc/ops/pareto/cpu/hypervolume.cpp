// Exact hypervolume, see pareto_cpu.h.
//
// M = 2: sort by f0, sweep. M = 3: sweep along f2 keeping the 2-D staircase of (f0, f1) in a
// std::map with its area updated per insertion (O(n log n) overall). M >= 4: sweep along the
// last objective adding each row's exclusive (M-1)-dimensional contribution against the current
// front (hv_sweep), recursing down to the 3-D sweep.
#include <algorithm>
#include <map>
#include <memory>
#include <numeric>
#include <utility>
#include <vector>

#include "ops/pareto/cpu/pareto_cpu.h"
#include "ops/pareto/cpu/sort_util.h"

namespace nasfast::pareto::cpu {
namespace {

// Points as a flat row-major array of n rows of d values, all strictly better than ref.
using Pts = std::vector<double>;

// Row order by column j (stable): an insertion sort for the small sets of the M >= 4 recursion
// (a stable_sort allocated a buffer each time), a sort of (value, row) pairs below 512 rows, a
// radix sort from there.
void order_by(const double* P, int64_t n, int64_t d, int64_t j, std::vector<int64_t>& o) {
  if (n >= 512) {
    std::vector<uint64_t> key(n);
    for (int64_t i = 0; i < n; ++i) key[i] = order_key(P[i * d + j]);
    o = radix_order(key);
    return;
  }
  o.resize(n);
  if (n <= 32) {
    for (int64_t i = 0; i < n; ++i) {
      const double v = P[i * d + j];
      int64_t s = i;
      for (; s > 0 && P[o[s - 1] * d + j] > v; --s) o[s] = o[s - 1];
      o[s] = i;
    }
    return;
  }
  std::vector<std::pair<double, int64_t>> vi(n);
  for (int64_t i = 0; i < n; ++i) vi[i] = {P[i * d + j], i};
  std::sort(vi.begin(), vi.end());
  for (int64_t i = 0; i < n; ++i) o[i] = vi[i].second;
}

// Scratch of one level of the recursion (one dimension d), kept per thread between calls: a
// level is active once at a time, and the sweeps at M >= 4 call the lower levels once per
// inserted row (their allocations were 0.2 of the time at M = 5, N = 200).
struct Level {
  std::vector<int64_t> order;
  Pts front, limit, kept;
  std::vector<std::pair<double, double>> stair;
};

std::vector<std::unique_ptr<Level>>& levels() {
  thread_local std::vector<std::unique_ptr<Level>> l;
  return l;
}

Level& level(int64_t d) {
  auto& l = levels();
  if (static_cast<int64_t>(l.size()) <= d) l.resize(d + 1);
  if (!l[d]) l[d] = std::make_unique<Level>();
  return *l[d];
}

// Frees the scratch of large inputs (kept: at most a few MiB per thread).
void trim_levels() {
  for (auto& lv : levels())
    if (lv && (lv->order.capacity() > (1 << 18) || lv->front.capacity() > (1 << 18) ||
               lv->limit.capacity() > (1 << 18) || lv->kept.capacity() > (1 << 18) ||
               lv->stair.capacity() > (1 << 18)))
      lv.reset();
}

double hv2(const double* P, int64_t n, int64_t d, const double* ref) {
  // By f0 (ties in any order: the sweep below only adds area for a strictly lower f1).
  std::vector<int64_t>& o = level(2).order;
  order_by(P, n, d, 0, o);
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

// The 2-D staircase of the 3-D sweep: (f0, f1) pairs by f0, f1 strictly decreasing as f0 grows.
// Small inputs (the limit sets of the M >= 4 sweep) keep it in a sorted vector (no node
// allocations; O(n^2) moves at worst, so only up to kFlatMax points), larger ones in a std::map.
constexpr int64_t kFlatMax = 1024;

struct FlatStair {
  std::vector<std::pair<double, double>>& v = level(3).stair;
  using It = std::vector<std::pair<double, double>>::iterator;
  FlatStair() { v.clear(); }
  It begin() { return v.begin(); }
  It end() { return v.end(); }
  It upper(double x) {  // first entry with f0 > x
    return std::upper_bound(
        v.begin(), v.end(), x,
        [](double a, const std::pair<double, double>& e) { return a < e.first; });
  }
  void replace(It it, It e, double x, double y) {  // entries [it, e) -> (x, y)
    if (it == e) {
      v.insert(it, {x, y});
    } else {
      *it = {x, y};
      v.erase(it + 1, e);
    }
  }
};

struct MapStair {
  std::map<double, double> m;
  using It = std::map<double, double>::iterator;
  It begin() { return m.begin(); }
  It end() { return m.end(); }
  It upper(double x) { return m.upper_bound(x); }
  void replace(It it, It e, double x, double y) {
    m.erase(it, e);
    m.emplace_hint(e, x, y);
  }
};

// Sweep along f2 (ascending) keeping the staircase of (f0, f1) and its area; hv += area * dz.
template <typename Stair>
double hv3_sweep(const double* P, int64_t n, int64_t d, const double* ref) {
  std::vector<int64_t>& o = level(3).order;
  order_by(P, n, d, 2, o);
  Stair st;
  double area = 0.0, hv = 0.0, z_prev = 0.0;
  bool first = true;
  for (int64_t i : o) {
    const double x = P[i * d], y = P[i * d + 1], z = P[i * d + 2];
    if (!first) hv += area * (z - z_prev);
    first = false;
    z_prev = z;
    auto it = st.upper(x);  // first entry with f0 > x
    double h = ref[1];      // current height of the staircase at x
    if (it != st.begin()) {
      const auto pred = std::prev(it);
      if (pred->second <= y) continue;  // weakly dominated in (f0, f1)
      h = pred->second;
      if (pred->first == x) it = pred;  // same f0, worse f1: replaced below
    }
    double cx = x, added = 0.0;
    auto e = it;  // entries [it, e) are covered by (x, y)
    while (e != st.end() && e->second >= y) {
      added += (e->first - cx) * (h - y);
      cx = e->first;
      h = e->second;
      ++e;
    }
    const double next_x = e == st.end() ? ref[0] : e->first;
    added += (next_x - cx) * (h - y);
    area += added;
    st.replace(it, e, x, y);
  }
  if (!first) hv += area * (ref[2] - z_prev);
  return hv;
}

double hv3(const double* P, int64_t n, int64_t d, const double* ref) {
  return n <= kFlatMax ? hv3_sweep<FlatStair>(P, n, d, ref) : hv3_sweep<MapStair>(P, n, d, ref);
}

// d >= 4: sweep along the last objective (ascending). V = the (d-1)-volume of the rows seen so
// far, projected; hv += V * (next z - z). Inserting row p raises V by its exclusive contribution
// against the non-dominated (d-1)-front of the rows seen: box(p) - HV_{d-1}(front limited by p),
// recursing (the 3-D and 2-D sweeps at the bottom). Rows weakly dominated in (d-1) dimensions
// add nothing. For random data the front stays small, so this is far below WFG's cost; the
// worst case (every row on the front) is O(n^2 log n) at d = 4.
double hv_rec(const Pts& P, int64_t d, const double* ref);

double hv_sweep(const Pts& P, int64_t d, const double* ref) {
  const int64_t n = static_cast<int64_t>(P.size()) / d;
  const int64_t e = d - 1;
  Level& lv = level(d);
  std::vector<int64_t>& o = lv.order;
  order_by(P.data(), n, d, e, o);
  Pts& front = lv.front;
  Pts& limit = lv.limit;
  Pts& kept = lv.kept;
  front.clear();
  double V = 0.0, hv = 0.0, z_prev = 0.0;
  bool first = true;
  for (int64_t i : o) {
    const double* p = &P[i * d];
    if (!first) hv += V * (p[e] - z_prev);
    first = false;
    z_prev = p[e];
    const int64_t nf = static_cast<int64_t>(front.size()) / e;
    bool dominated = false;
    for (int64_t k = 0; k < nf && !dominated; ++k) {
      const double* q = &front[k * e];
      bool le = true;
      for (int64_t j = 0; j < e && le; ++j) le = q[j] <= p[j];
      dominated = le;
    }
    if (dominated) continue;
    double box = 1.0;
    for (int64_t j = 0; j < e; ++j) box *= ref[j] - p[j];
    limit.clear();
    kept.clear();
    for (int64_t k = 0; k < nf; ++k) {
      const double* q = &front[k * e];
      bool covered = true;  // p weakly dominates q: q leaves the front
      for (int64_t j = 0; j < e; ++j) {
        limit.push_back(std::max(p[j], q[j]));
        covered &= p[j] <= q[j];
      }
      if (!covered) kept.insert(kept.end(), q, q + e);
    }
    V += box - hv_rec(limit, e, ref);
    kept.insert(kept.end(), p, p + e);
    front.swap(kept);
  }
  if (!first) hv += V * (ref[e] - z_prev);
  return hv;
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
  return hv_sweep(P, d, ref);
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
  const double hv = hv_rec(P, m, ref);
  trim_levels();
  return hv;
}

}  // namespace nasfast::pareto::cpu

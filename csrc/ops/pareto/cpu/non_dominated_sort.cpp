// Non-dominated sorting (ranks of the Pareto fronts) on the CPU.
//
// All M: rows are sorted lexicographically and identical rows merged, so a row q can only dominate
// a row p that comes after it, and then q dominates p iff q_j <= p_j for every j >= 1 (objective
// 0 is the order itself; distinct rows make one inequality strict). rank(p) = 1 + max rank of its
// dominators. M = 2 places each row by binary search over the fronts' smallest f1; M = 3 does the
// same with a staircase per front (rank_three); M >= 4 scans dominator bitsets (rank_bitset) while
// they fit in memory, else runs the divide and conquer of Jensen / Fortin et al. / Buzdalov and
// Shalyto over objectives 1..M-1 (helper_a: ranks within a set; helper_b: ranks of H raised by a
// finished set L).
#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <numeric>
#include <vector>

#include "ops/pareto/cpu/non_dominated_sort_bitset.h"
#include "ops/pareto/cpu/pareto_cpu.h"
#include "ops/pareto/cpu/sort_util.h"

namespace nasfast::pareto::cpu {
namespace {

// Max-Fenwick tree over the dense ranks of objective 1: query(x) = max value inserted at <= x.
class MaxFenwick {
 public:
  explicit MaxFenwick(int size) : t_(size + 1, -1) {}
  void update(int x, int v) {
    for (++x; x < static_cast<int>(t_.size()); x += x & -x)
      if (t_[x] < v) t_[x] = v;
  }
  int query(int x) const {
    int r = -1;
    for (++x; x > 0; x -= x & -x) r = std::max(r, t_[x]);
    return r;
  }
  void clear(int x) {
    for (++x; x < static_cast<int>(t_.size()); x += x & -x) t_[x] = -1;
  }

 private:
  std::vector<int> t_;
};

class DivideAndConquer {
 public:
  // cols: m-1 columns (objectives 1..m-1) of u distinct rows in lexicographic order.
  DivideAndConquer(std::vector<std::vector<double>> cols, int u)
      : cols_(std::move(cols)),
        u_(u),
        d_(static_cast<int>(cols_.size())),
        rank_(u, 0),
        fen_(u),
        c1_(u),
        scratch_(u),
        vals_(u),
        rows_(static_cast<int64_t>(u) * d_) {
    for (int i = 0; i < u; ++i)
      for (int j = 0; j < d_; ++j) rows_[static_cast<int64_t>(i) * d_ + j] = cols_[j][i];
    // Dense ranks of objective 1 for the Fenwick sweeps.
    std::vector<int> order(u);
    std::iota(order.begin(), order.end(), 0);
    const double* c = cols_[0].data();
    std::sort(order.begin(), order.end(), [c](int a, int b) { return c[a] < c[b]; });
    int r = -1;
    for (int i = 0; i < u; ++i) {
      if (i == 0 || c[order[i]] != c[order[i - 1]]) ++r;
      c1_[order[i]] = r;
    }
  }

  const std::vector<int>& run() {
    std::vector<int> all(u_);
    std::iota(all.begin(), all.end(), 0);
    helper_a(all.data(), u_, static_cast<int>(cols_.size()));
    return rank_;
  }

 private:
  static constexpr int kBruteA = 32;
  static constexpr long kBruteB = 5000;

  const double* col(int k) const { return cols_[k - 1].data(); }

  bool weakly_below(int q, int p, int k) const {
    const double* a = rows_.data() + static_cast<int64_t>(q) * d_;
    const double* b = rows_.data() + static_cast<int64_t>(p) * d_;
    for (int j = 0; j < k; ++j)
      if (a[j] > b[j]) return false;
    return true;
  }

  // Median value of objective k over the rows of a (and b).
  double median(const int* a, int na, const int* b, int nb, int k) {
    const double* c = col(k);
    int n = 0;
    for (int i = 0; i < na; ++i) vals_[n++] = c[a[i]];
    for (int i = 0; i < nb; ++i) vals_[n++] = c[b[i]];
    std::nth_element(vals_.begin(), vals_.begin() + n / 2, vals_.begin() + n);
    return vals_[n / 2];
  }

  // Stable 3-way partition of s by objective k around m: [< m | == m | > m].
  void partition(int* s, int n, int k, double m, int& n_lt, int& n_eq) {
    const double* c = col(k);
    int lt = 0, gt = 0;
    for (int i = 0; i < n; ++i)
      if (c[s[i]] < m)
        s[lt++] = s[i];
      else
        scratch_[gt++] = s[i];
    // scratch_ holds the >= part in order; split it into == and >.
    int eq = 0;
    for (int i = 0; i < gt; ++i)
      if (c[scratch_[i]] == m) s[lt + eq++] = scratch_[i];
    int w = lt + eq;
    for (int i = 0; i < gt; ++i)
      if (c[scratch_[i]] != m) s[w++] = scratch_[i];
    n_lt = lt;
    n_eq = eq;
  }

  // Merges the sorted adjacent runs s[0, n1) and s[n1, n1 + n2) (row order).
  void merge(int* s, int n1, int n2) {
    if (n1 == 0 || n2 == 0 || s[n1 - 1] < s[n1]) return;
    std::memcpy(scratch_.data(), s, sizeof(int) * n1);
    int i = 0, j = n1, w = 0;
    const int e = n1 + n2;
    while (i < n1 && j < e) s[w++] = scratch_[i] < s[j] ? scratch_[i++] : s[j++];
    while (i < n1) s[w++] = scratch_[i++];
  }

  void sweep_a(const int* s, int n) {
    for (int i = 0; i < n; ++i) {
      const int p = s[i];
      const int q = fen_.query(c1_[p]) + 1;
      if (q > rank_[p]) rank_[p] = q;
      fen_.update(c1_[p], rank_[p]);
    }
    for (int i = 0; i < n; ++i) fen_.clear(c1_[s[i]]);
  }

  void sweep_b(const int* l, int nl, const int* h, int nh) {
    int i = 0;
    for (int j = 0; j < nh; ++j) {
      const int p = h[j];
      while (i < nl && l[i] < p) {
        fen_.update(c1_[l[i]], rank_[l[i]]);
        ++i;
      }
      const int q = fen_.query(c1_[p]) + 1;
      if (q > rank_[p]) rank_[p] = q;
    }
    for (int t = 0; t < i; ++t) fen_.clear(c1_[l[t]]);
  }

  // Ranks within s (sorted by row), where rows of s are equal in objectives > k.
  void helper_a(int* s, int n, int k) {
    if (n <= 1) return;
    if (k == 1) return sweep_a(s, n);
    if (n <= kBruteA) {
      for (int i = 1; i < n; ++i) {
        const int p = s[i];
        int r = rank_[p];
        for (int j = 0; j < i; ++j)
          if (rank_[s[j]] >= r && weakly_below(s[j], p, k)) r = rank_[s[j]] + 1;
        rank_[p] = r;
      }
      return;
    }
    const double m = median(s, n, nullptr, 0, k);
    int nl, ne;
    partition(s, n, k, m, nl, ne);
    const int nh = n - nl - ne;
    int* e = s + nl;
    int* h = e + ne;
    helper_a(s, nl, k);
    helper_b(s, nl, e, ne, k - 1);
    helper_a(e, ne, k - 1);
    merge(s, nl, ne);
    helper_b(s, nl + ne, h, nh, k - 1);
    helper_a(h, nh, k);
    merge(s, nl + ne, nh);
  }

  // Raises the ranks of h by the finished ranks of l (each sorted by row), where every row of l
  // is <= every row of h in objectives > k.
  void helper_b(int* l, int nl, int* h, int nh, int k) {
    if (nl == 0 || nh == 0 || l[0] > h[nh - 1]) return;
    // A row of l raises a row of h only if its rank is >= the rank h already has.
    int l_max = -1, h_min = rank_[h[0]];
    for (int i = 0; i < nl; ++i) l_max = std::max(l_max, rank_[l[i]]);
    for (int i = 1; i < nh; ++i) h_min = std::min(h_min, rank_[h[i]]);
    if (l_max < h_min) return;
    if (k == 1) return sweep_b(l, nl, h, nh);
    if (static_cast<long>(nl) * nh <= kBruteB) {
      for (int j = 0; j < nh; ++j) {
        const int p = h[j];
        int r = rank_[p];
        for (int i = 0; i < nl && l[i] < p; ++i)
          if (rank_[l[i]] >= r && weakly_below(l[i], p, k)) r = rank_[l[i]] + 1;
        rank_[p] = r;
      }
      return;
    }
    const double* c = col(k);
    double lmin = c[l[0]], lmax = lmin, hmin = c[h[0]], hmax = hmin;
    for (int i = 1; i < nl; ++i) {
      lmin = std::min(lmin, c[l[i]]);
      lmax = std::max(lmax, c[l[i]]);
    }
    for (int i = 1; i < nh; ++i) {
      hmin = std::min(hmin, c[h[i]]);
      hmax = std::max(hmax, c[h[i]]);
    }
    if (lmin > hmax) return;
    if (lmax <= hmin) return helper_b(l, nl, h, nh, k - 1);
    const double m = median(l, nl, h, nh, k);
    int l_lt, l_eq, h_lt, h_eq;
    partition(l, nl, k, m, l_lt, l_eq);
    partition(h, nh, k, m, h_lt, h_eq);
    helper_b(l, l_lt, h, h_lt, k);
    helper_b(l + l_lt + l_eq, nl - l_lt - l_eq, h + h_lt + h_eq, nh - h_lt - h_eq, k);
    merge(l, l_lt, l_eq);
    merge(h + h_lt, h_eq, nh - h_lt - h_eq);
    helper_b(l, l_lt + l_eq, h + h_lt, nh - h_lt, k - 1);
    merge(l, l_lt + l_eq, nl - l_lt - l_eq);
    merge(h, h_lt, nh - h_lt);
  }

  std::vector<std::vector<double>> cols_;
  int u_;
  int d_;  // objectives after the first (m - 1)
  std::vector<int> rank_;
  MaxFenwick fen_;
  std::vector<int> c1_;
  std::vector<int> scratch_;
  std::vector<double> vals_;
  std::vector<double> rows_;  // row-major copy of cols_ for the brute-force checks
};

// Ranks of u distinct rows (lexicographic order) with two objectives, given f1 in that order.
void rank_two(const double* f1, int64_t u, std::vector<int>& rank) {
  std::vector<double> front_min;  // smallest f1 in each front; non-decreasing over fronts
  for (int64_t i = 0; i < u; ++i) {
    const double y = f1[i];
    const auto it = std::upper_bound(front_min.begin(), front_min.end(), y);
    const int64_t k = it - front_min.begin();
    if (it == front_min.end())
      front_min.push_back(y);
    else
      *it = y;
    rank[i] = static_cast<int>(k);
  }
}

// Ranks of u distinct rows (lexicographic order) with three objectives, given f1 and f2 in
// that order. Each front keeps the staircase of its rows' (f1, f2) (f2 strictly decreasing as
// f1 grows: rows it dominates in (f1, f2) can never be a row's only dominator in that front);
// a row goes to the first front none of whose staircase points is <= it in (f1, f2), found by
// binary search since "front k holds a dominator" is monotone in k. O(u log u log fronts).
void rank_three(const double* f1, const double* f2, int64_t u, std::vector<int>& rank) {
  std::vector<std::map<double, double>> fronts;
  auto dominated_by = [](const std::map<double, double>& st, double y, double z) {
    auto it = st.upper_bound(y);
    return it != st.begin() && std::prev(it)->second <= z;
  };
  for (int64_t i = 0; i < u; ++i) {
    const double y = f1[i], z = f2[i];
    int64_t lo = 0, hi = static_cast<int64_t>(fronts.size());
    while (lo < hi) {
      const int64_t mid = (lo + hi) / 2;
      if (dominated_by(fronts[mid], y, z))
        lo = mid + 1;
      else
        hi = mid;
    }
    if (lo == static_cast<int64_t>(fronts.size())) fronts.emplace_back();
    auto& st = fronts[lo];
    auto it = st.lower_bound(y);
    while (it != st.end() && it->second >= z) it = st.erase(it);
    st.emplace_hint(it, y, z);
    rank[i] = static_cast<int>(lo);
  }
}

}  // namespace

void non_dominated_rank(const double* F, int64_t n, int64_t m, int64_t* rank, NdsAlgorithm algo) {
  if (n == 0) return;
  std::vector<int64_t> order = lex_order(F, n, m);
  if (m == 2) {
    // Distinct points in lexicographic order, then each placed by binary search.
    std::vector<double> f1;
    f1.reserve(n);
    std::vector<int> uid(n);
    const double* prev = nullptr;
    for (int64_t i = 0; i < n; ++i) {
      const double* a = F + order[i] * 2;
      if (prev == nullptr || a[0] != prev[0] || a[1] != prev[1]) f1.push_back(a[1]);
      prev = a;
      uid[i] = static_cast<int>(f1.size()) - 1;
    }
    std::vector<int> r(f1.size());
    rank_two(f1.data(), static_cast<int64_t>(f1.size()), r);
    for (int64_t i = 0; i < n; ++i) rank[order[i]] = r[uid[i]];
    return;
  }
  // Distinct rows in lexicographic order.
  KeptBuffer<int, 20> uid(n);
  KeptBuffer<int64_t, 21> first(n);
  int u = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double* a = F + order[i] * m;
    if (i == 0 || !rows_equal(a, F + order[i - 1] * m, m)) first[u++] = order[i];
    uid[i] = u - 1;
  }
  if (m == 1) {
    for (int64_t i = 0; i < n; ++i) rank[order[i]] = uid[i];
    return;
  }
  KeptBuffer<std::vector<double>, 22> cols_buf(m - 1);  // objectives 1..m-1 of the distinct rows
  std::vector<std::vector<double>>& cols = cols_buf.vec();
  for (auto& c : cols) c.resize(u);
  for (int i = 0; i < u; ++i)
    for (int64_t j = 1; j < m; ++j) cols[j - 1][i] = F[first[i] * m + j];
  if (m == 3 && algo != NdsAlgorithm::kDivideConquer) {
    std::vector<int> r(u);
    rank_three(cols[0].data(), cols[1].data(), u, r);
    for (int64_t i = 0; i < n; ++i) rank[order[i]] = r[uid[i]];
    return;
  }
  if (algo == NdsAlgorithm::kBitset ||
      (algo == NdsAlgorithm::kAuto && m >= 4 && bitset_fits(m - 1, u))) {
    std::vector<int> r(u);
    if (rank_bitset(cols, u, r, kBitsetMaxFrontWords)) {
      for (int64_t i = 0; i < n; ++i) rank[order[i]] = r[uid[i]];
      return;
    }
  }
  DivideAndConquer dc(cols, u);
  const std::vector<int>& r = dc.run();
  for (int64_t i = 0; i < n; ++i) rank[order[i]] = r[uid[i]];
}

}  // namespace nasfast::pareto::cpu

// Non-dominated sorting (ranks of the Pareto fronts) on the CPU.
//
// All M: rows are sorted lexicographically and identical rows merged, so a row q can only dominate
// a row p that comes after it, and then q dominates p iff q_j <= p_j for every j >= 1 (objective
// 0 is the order itself; distinct rows make one inequality strict). rank(p) = 1 + max rank of its
// dominators. M = 2 places each row by binary search over the fronts' smallest f1; M >= 3 runs
// the divide and conquer of Jensen / Fortin et al. / Buzdalov and Shalyto over objectives 1..M-1
// (helper_a: ranks within a set; helper_b: ranks of H raised by a finished set L).
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <vector>

#include "pareto/cpu/pareto_cpu.h"
#include "pareto/cpu/sort_util.h"

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
      : cols_(std::move(cols)), u_(u), rank_(u, 0), fen_(u), c1_(u), scratch_(u), vals_(u) {
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
  int kBruteA = std::getenv("NDS_A") ? std::atoi(std::getenv("NDS_A")) : 24;
  long kBruteB = std::getenv("NDS_B") ? std::atol(std::getenv("NDS_B")) : 192;

  const double* col(int k) const { return cols_[k - 1].data(); }

  bool weakly_below(int q, int p, int k) const {
    for (int j = 1; j <= k; ++j)
      if (cols_[j - 1][q] > cols_[j - 1][p]) return false;
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
      if (c[s[i]] < m) s[lt++] = s[i];
      else scratch_[gt++] = s[i];
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
  std::vector<int> rank_;
  MaxFenwick fen_;
  std::vector<int> c1_;
  std::vector<int> scratch_;
  std::vector<double> vals_;
};

// Ranks of u distinct rows (lexicographic order) with two objectives, given f1 in that order.
void rank_two(const double* f1, int64_t u, std::vector<int>& rank) {
  std::vector<double> front_min;  // smallest f1 in each front; non-decreasing over fronts
  for (int64_t i = 0; i < u; ++i) {
    const double y = f1[i];
    const auto it = std::upper_bound(front_min.begin(), front_min.end(), y);
    const int64_t k = it - front_min.begin();
    if (it == front_min.end()) front_min.push_back(y);
    else *it = y;
    rank[i] = static_cast<int>(k);
  }
}

}  // namespace

void non_dominated_rank(const double* F, int64_t n, int64_t m, int64_t* rank) {
  if (n == 0) return;
  if (m == 2) {
    // Sort (f0, f1, row) records; then de-duplicate and place each distinct point.
    std::vector<Rec2> recs(n);
    for (int64_t i = 0; i < n; ++i) recs[i] = {F[2 * i], F[2 * i + 1], static_cast<int64_t>(i)};
    sort_rec2(recs);
    std::vector<double> f1;
    f1.reserve(n);
    std::vector<int> uid(n);
    for (int64_t i = 0; i < n; ++i) {
      if (i == 0 || recs[i].a != recs[i - 1].a || recs[i].b != recs[i - 1].b) f1.push_back(recs[i].b);
      uid[i] = static_cast<int>(f1.size()) - 1;
    }
    std::vector<int> r(f1.size());
    rank_two(f1.data(), static_cast<int64_t>(f1.size()), r);
    for (int64_t i = 0; i < n; ++i) rank[recs[i].row] = r[uid[i]];
    return;
  }
  std::vector<int64_t> order = lex_order(F, n, m);
  // Distinct rows in lexicographic order.
  std::vector<int> uid(n);
  std::vector<int64_t> first;
  first.reserve(n);
  for (int64_t i = 0; i < n; ++i) {
    const double* a = F + order[i] * m;
    if (i == 0 || !rows_equal(a, F + order[i - 1] * m, m))
      first.push_back(order[i]);
    uid[i] = static_cast<int>(first.size()) - 1;
  }
  const int u = static_cast<int>(first.size());
  if (m == 1) {
    for (int64_t i = 0; i < n; ++i) rank[order[i]] = uid[i];
    return;
  }
  std::vector<std::vector<double>> cols(m - 1, std::vector<double>(u));
  for (int i = 0; i < u; ++i)
    for (int64_t j = 1; j < m; ++j) cols[j - 1][i] = F[first[i] * m + j];
  DivideAndConquer dc(std::move(cols), u);
  const std::vector<int>& r = dc.run();
  for (int64_t i = 0; i < n; ++i) rank[order[i]] = r[uid[i]];
}

}  // namespace nasfast::pareto::cpu

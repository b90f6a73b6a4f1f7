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
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif
#include <cstring>
#include <map>
#include <memory>
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

// The bitset sort (M >= 4) runs while its checkpoints (d (W + 1) W words, W = ceil(u / 64))
// and its front bitsets each fit in these budgets (about 10^5 distinct rows at M <= 8).
constexpr int64_t kBitsetMaxCheckpointWords = int64_t{1} << 25;  // 256 MiB
constexpr int64_t kBitsetMaxFrontWords = int64_t{1} << 23;       // 64 MiB
constexpr int kBitsetMaxFronts = 256;

// An uninitialised word buffer; up to 16 MiB of it is kept per thread between calls, so that
// repeated sorts (an NSGA-II run) do not page-fault fresh memory each time.
class ScratchWords {
 public:
  explicit ScratchWords(size_t n) {
    constexpr size_t kKeep = size_t{1} << 21;  // 16 MiB
    thread_local std::unique_ptr<uint64_t[]> kept;
    thread_local size_t kept_size = 0;
    if (n > kKeep) {
      own_.reset(new uint64_t[n]);
      p_ = own_.get();
      return;
    }
    if (kept_size < n) {
      kept.reset(new uint64_t[n]);
      kept_size = n;
    }
    p_ = kept.get();
  }
  uint64_t* get() const { return p_; }

 private:
  std::unique_ptr<uint64_t[]> own_;
  uint64_t* p_ = nullptr;
};

// Spacing of the checkpoint rows: 64 positions, or 128 when the tables of ceil(u / S) + 1 rows
// of W words pass 768 KiB (the scan reads them at random; 128 measured faster at u = 20000).
int64_t checkpoint_spacing(int64_t u, int64_t tables) {
  const int64_t W = (u + 63) / 64;
  int64_t S = 64;
  while (S < 128 && tables * ((u + S - 1) / S + 1) * W * 8 > (int64_t{768} << 10)) S *= 2;
  return S;
}

bool bitset_fits(int64_t d, int64_t u) {
  const int64_t W = (u + 63) / 64;
  return d * (W + 1) * W <= kBitsetMaxCheckpointWords;
}

class DivideAndConquer {
 public:
  // cols: m-1 columns (objectives 1..m-1) of u distinct rows in lexicographic order.
  DivideAndConquer(std::vector<std::vector<double>> cols, int u)
      : cols_(std::move(cols)), u_(u), d_(static_cast<int>(cols_.size())), rank_(u, 0), fen_(u),
        c1_(u), scratch_(u), vals_(u), rows_(static_cast<int64_t>(u) * d_) {
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
    if (it == front_min.end()) front_min.push_back(y);
    else *it = y;
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
      if (dominated_by(fronts[mid], y, z)) lo = mid + 1;
      else hi = mid;
    }
    if (lo == static_cast<int64_t>(fronts.size())) fronts.emplace_back();
    auto& st = fronts[lo];
    auto it = st.lower_bound(y);
    while (it != st.end() && it->second >= z) it = st.erase(it);
    st.emplace_hint(it, y, z);
    rank[i] = static_cast<int>(lo);
  }
}

// Row p's dominator scan. x = AND_j c[j] (the ceiling checkpoints: every dominator of p and a
// few rows past cnt_j(p), checked exactly when they matter). Returns the largest rank among the
// dominators before p, or -1; G[k] holds the processed rows of rank >= k.
struct Scan {
  const uint64_t* const* G;
  int F;
  const int* rank;
  const double* rows;  // row-major [u, d]
  int d;
  const double* rp;    // row p

  bool dominates(int q) const {
    const double* rq = rows + static_cast<size_t>(q) * d;
    for (int j = 0; j < d; ++j)
      if (rq[j] > rp[j]) return false;
    return true;
  }

  // Raises best with the rows of word w of x that lie in G[best + 1]; false once best = F - 1.
  bool raise(uint64_t x, int64_t w, int& best, const uint64_t*& g) const {
    uint64_t y = x & g[w];
    while (y) {
      const int q = static_cast<int>(w * 64 + __builtin_ctzll(y));
      y &= y - 1;
      // Rows of G[best + 1] have rank > best: the exact check is all that is left.
      if (dominates(q)) {
        best = rank[q];
        if (best + 1 == F) return false;
        g = G[best + 1];
        y &= g[w];
      }
    }
    return true;
  }
};

// The scan body, compiled twice: for AVX2 (chosen at run time when the CPU has it) and for the
// baseline ISA. Words go from the last to the first: rows late in the bit order (larger objective
// 1) tend to have larger ranks, so best rises early and G[best + 1] thins out; a block of 8 words
// where G[best + 1] is empty skips the table loads.
#define NASFAST_SCAN_BODY(AND8, TEST8)                                         \
  const int dd = kD > 0 ? kD : d;                                              \
  if (best + 1 >= sc.F) return best;                                           \
  const uint64_t* g = sc.G[best + 1];                                          \
  int64_t e = nw;                                                              \
  for (; e - 8 >= w; e -= 8) {                                                 \
    const int64_t b = e - 8;                                                   \
    if (TEST8) continue;                                                       \
    AND8                                                                       \
    for (int t = 7; t >= 0; --t)                                               \
      if (!sc.raise(x[t], b + t, best, g)) return best;                        \
  }                                                                            \
  for (int64_t v = e - 1; v >= w; --v) {                                       \
    uint64_t y = c[0][v];                                                      \
    for (int j = 1; j < dd; ++j) y &= c[j][v];                                 \
    if (!sc.raise(y, v, best, g)) return best;                                 \
  }                                                                            \
  return best;

template <int kD>
int scan_fixed(const Scan& sc, const uint64_t* const* c, int d, int64_t w, int64_t nw, int best) {
  uint64_t x[8];
#define NASFAST_AND8                                                           \
  for (int t = 0; t < 8; ++t) x[t] = c[0][b + t];                              \
  for (int j = 1; j < dd; ++j)                                                 \
    for (int t = 0; t < 8; ++t) x[t] &= c[j][b + t];
#define NASFAST_TEST8                                                          \
  ((g[b] | g[b + 1] | g[b + 2] | g[b + 3] | g[b + 4] | g[b + 5] | g[b + 6] | g[b + 7]) == 0)
  NASFAST_SCAN_BODY(NASFAST_AND8, NASFAST_TEST8)
#undef NASFAST_AND8
#undef NASFAST_TEST8
}

#if defined(__x86_64__) && defined(__GNUC__)
#define NASFAST_SCAN_AVX2 1
// AVX2: 8 words per step as two 256-bit lanes.
template <int kD>
__attribute__((target("avx2"))) int scan_fixed_avx2(const Scan& sc, const uint64_t* const* c,
                                                    int d, int64_t w, int64_t nw, int best) {
  alignas(32) uint64_t x[8];
  __m256i g0, g1;
#define NASFAST_AND8                                                                               \
  __m256i a0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c[0] + b));                   \
  __m256i a1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c[0] + b + 4));               \
  for (int j = 1; j < dd; ++j) {                                                                   \
    a0 = _mm256_and_si256(a0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c[j] + b)));     \
    a1 = _mm256_and_si256(a1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c[j] + b + 4))); \
  }                                                                                                \
  if (_mm256_testz_si256(a0, g0) && _mm256_testz_si256(a1, g1)) continue;                         \
  _mm256_store_si256(reinterpret_cast<__m256i*>(x), a0);                                           \
  _mm256_store_si256(reinterpret_cast<__m256i*>(x + 4), a1);
#define NASFAST_TEST8                                                                 \
  (g0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(g + b)),                  \
   g1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(g + b + 4)),              \
   _mm256_testz_si256(_mm256_or_si256(g0, g1), _mm256_or_si256(g0, g1)))
  NASFAST_SCAN_BODY(NASFAST_AND8, NASFAST_TEST8)
#undef NASFAST_AND8
#undef NASFAST_TEST8
}
const bool kHasAvx2 = __builtin_cpu_supports("avx2");
#endif
#undef NASFAST_SCAN_BODY

template <int kD>
int scan_any(const Scan& sc, const uint64_t* const* c, int d, int64_t w, int64_t nw, int best) {
#ifdef NASFAST_SCAN_AVX2
  if (kHasAvx2) return scan_fixed_avx2<kD>(sc, c, d, w, nw, best);
#endif
  return scan_fixed<kD>(sc, c, d, w, nw, best);
}

// The largest rank among p's dominators in words [w0, nw), or best if none is larger.
int scan_dominators(const Scan& sc, const uint64_t* const* c, int d, int64_t w0, int64_t nw,
                    int best) {
  switch (d) {
    case 1: return scan_any<1>(sc, c, d, w0, nw, best);
    case 2: return scan_any<2>(sc, c, d, w0, nw, best);
    case 3: return scan_any<3>(sc, c, d, w0, nw, best);
    case 4: return scan_any<4>(sc, c, d, w0, nw, best);
    case 5: return scan_any<5>(sc, c, d, w0, nw, best);
    case 6: return scan_any<6>(sc, c, d, w0, nw, best);
    default: return scan_any<0>(sc, c, d, w0, nw, best);
  }
}

// Ranks of u distinct rows (lexicographic order) from d = m - 1 columns (objectives 1..m-1),
// with bitsets over the rows. For row p, its dominators are D(p) = {q < p : c_j[q] <= c_j[p]
// for all j} = AND_j S_j(p), S_j(p) = the first cnt_j(p) rows of objective j's sorted order.
// S_j(p) is a checkpoint bitset C_j (the first 64 * ceil(cnt / 64) rows; one per 64 positions)
// minus the < 64 rows X_j past cnt_j(p), and AND_j (C_j \ X_j) = (AND_j C_j) \ (OR_j X_j), so
// one pass over the words ANDs d checkpoints and a scratch mask. G_k = the processed rows of rank
// >= k; rank(p) = 1 + the largest k with D(p) & G_k != 0, raised word by word in the same pass.
// O(d u^2 / 64) word operations and (d + fronts) u^2 / 64 bits of memory; returns false
// (nothing done) when the fronts would pass max_front_words.
bool rank_bitset(const std::vector<std::vector<double>>& cols, int u, std::vector<int>& rank,
                 int64_t max_front_words) {
  const int d = static_cast<int>(cols.size());
  if (d < 2) return false;
  const int64_t W = (u + 63) / 64;
  // Checkpoints b = 0..NB: the first min(S b, u) positions of each objective's order. S = 64
  // while the tables fit in L2; larger S keeps them there (more rows past a checkpoint, each
  // rejected by the exact check).
  const int64_t S = checkpoint_spacing(u, static_cast<int64_t>(cols.size()) - 1);
  const int64_t NB = (u + S - 1) / S;
  // Per objective: the sorted order and cnt = how many rows are <= each row.
  std::unique_ptr<int[]> cnt(new int[static_cast<size_t>(d) * u]);  // fully written below
  std::unique_ptr<int[]> ord_buf(new int[static_cast<size_t>(d) * u]);
  const int* ord = ord_buf.get();
  std::vector<uint64_t> key(u);
  for (int j = 0; j < d; ++j) {
    key.resize(u);
    for (int i = 0; i < u; ++i) key[i] = order_key(cols[j][i]);
    const std::vector<int64_t> o = radix_order(key);
    int* oj = ord_buf.get() + static_cast<size_t>(j) * u;
    int* cj = cnt.get() + static_cast<size_t>(j) * u;
    for (int t = 0; t < u;) {
      int e = t + 1;
      while (e < u && cols[j][o[e]] == cols[j][o[t]]) ++e;
      for (int s = t; s < e; ++s) {
        oj[s] = static_cast<int>(o[s]);
        cj[o[s]] = e;
      }
      t = e;
    }
  }
  // Bits index rows in the sorted order of the first column, so S_0(p) is a prefix of the bits
  // (no checkpoint table); the other d - 1 columns get checkpoint tables in bit space.
  const int* perm = ord;  // bit -> row
  std::vector<int> pos(u);       // row -> bit
  for (int b = 0; b < u; ++b) pos[perm[b]] = b;
  const int nt = d - 1;
  ScratchWords cp(static_cast<size_t>(nt) * (NB + 1) * W);
  for (int j = 1; j < d; ++j) {
    const int* oj = ord + static_cast<size_t>(j) * u;
    uint64_t* base = cp.get() + static_cast<size_t>(j - 1) * (NB + 1) * W;
    std::fill_n(base, W, 0);  // rows are filled by copying the previous one
    for (int64_t b = 1; b <= NB; ++b) {
      std::memcpy(base + b * W, base + (b - 1) * W, sizeof(uint64_t) * W);
      const int64_t end = std::min<int64_t>(S * b, u);
      for (int64_t t = S * (b - 1); t < end; ++t) {
        const int q = pos[oj[t]];
        base[b * W + (q >> 6)] |= uint64_t{1} << (q & 63);
      }
    }
  }
  std::vector<double> rows(static_cast<size_t>(u) * d);  // in bit order
  for (int b = 0; b < u; ++b)
    for (int j = 0; j < d; ++j) rows[static_cast<size_t>(b) * d + j] = cols[j][perm[b]];
  std::vector<int> rank_bit(u, 0);
  std::vector<std::vector<uint64_t>> G;  // G[k]: bits of the processed rows of rank >= k
  std::vector<const uint64_t*> gp, cpb(nt);
  // Rows in lexicographic order (each needs the final ranks of the rows before it).
  // Single-threaded: a parallel scan of the rows before each block measured slower on a loaded
  // 2-core machine.
  for (int p = 0; p < u; ++p) {
    const int bp = pos[p];
    const int F = static_cast<int>(G.size());
    int best = -1;
    if (F > 0) {
      for (int j = 1; j < d; ++j) {
        const int64_t b = (cnt[static_cast<size_t>(j) * u + p] + S - 1) / S;
        cpb[j - 1] = cp.get() + (static_cast<size_t>(j - 1) * (NB + 1) + b) * W;
      }
      const Scan sc{gp.data(), F, rank_bit.data(), rows.data(), d,
                    rows.data() + static_cast<size_t>(bp) * d};
      const int64_t nw = (cnt[p] + 63) / 64;  // words holding the bits of S_0(p)
      best = scan_dominators(sc, cpb.data(), nt, 0, nw, -1);
    }
    const int r = best + 1;
    if (r == F) {
      // Many fronts: each row sets a bit in every G[k <= r] (O(fronts) per row) and the fronts'
      // memory grows; the divide and conquer is the better method there.
      if (F + 1 > kBitsetMaxFronts || static_cast<int64_t>(F + 1) * W > max_front_words) return false;
      G.emplace_back(W, 0);
      gp.push_back(G.back().data());
    }
    for (int k = 0; k <= r; ++k) G[k][bp >> 6] |= uint64_t{1} << (bp & 63);
    rank_bit[bp] = r;
    rank[p] = r;
  }
  return true;
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
  if (m == 3 && algo != NdsAlgorithm::kDivideConquer) {
    std::vector<int> r(u);
    rank_three(cols[0].data(), cols[1].data(), u, r);
    for (int64_t i = 0; i < n; ++i) rank[order[i]] = r[uid[i]];
    return;
  }
  if (algo == NdsAlgorithm::kBitset || (algo == NdsAlgorithm::kAuto && m >= 4 && bitset_fits(m - 1, u))) {
    std::vector<int> r(u);
    if (rank_bitset(cols, u, r, kBitsetMaxFrontWords)) {
      for (int64_t i = 0; i < n; ++i) rank[order[i]] = r[uid[i]];
      return;
    }
  }
  DivideAndConquer dc(std::move(cols), u);
  const std::vector<int>& r = dc.run();
  for (int64_t i = 0; i < n; ++i) rank[order[i]] = r[uid[i]];
}

}  // namespace nasfast::pareto::cpu

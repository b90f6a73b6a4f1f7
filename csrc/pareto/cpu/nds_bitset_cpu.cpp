// Non-dominated sorting for M >= 4 with dominator bitsets (rank_bitset, see nds_bitset.h): the
// checkpoint tables, the word scan (AVX2 where the CPU has it) and the row loop.
#include <algorithm>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "pareto/cpu/kept_buffer.h"
#include "pareto/cpu/nds_bitset.h"
#include "pareto/cpu/sort_util.h"

namespace nasfast::pareto::cpu {
namespace {

// The bitset sort runs while its checkpoints and its front bitsets each fit in these budgets.
constexpr int64_t kBitsetMaxCheckpointWords = int64_t{1} << 25;  // 256 MiB
constexpr int kBitsetMaxFronts = 256;

// Words per cache line: the scan reads 8-word blocks at multiples of 8 words from 64-byte
// aligned tables (an unaligned block spans two lines in each table).
constexpr int64_t kLineWords = 8;

uint64_t* align_line(uint64_t* p) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  return reinterpret_cast<uint64_t*>((a + 63) & ~uintptr_t{63});
}

// An uninitialised word buffer aligned to 64 bytes; up to 16 MiB of it is kept per thread
// between calls, so that repeated sorts (an NSGA-II run) do not page-fault fresh memory each time.
class ScratchWords {
 public:
  explicit ScratchWords(size_t n) {
    constexpr size_t kKeep = size_t{1} << 21;  // 16 MiB
    thread_local std::unique_ptr<uint64_t[]> kept;
    thread_local size_t kept_size = 0;
    n += kLineWords;  // room to align
    if (n > kKeep) {
      own_.reset(new uint64_t[n]);
      p_ = align_line(own_.get());
      return;
    }
    if (kept_size < n) {
      kept.reset(new uint64_t[n]);
      kept_size = n;
    }
    p_ = align_line(kept.get());
  }
  uint64_t* get() const { return p_; }

 private:
  std::unique_ptr<uint64_t[]> own_;
  uint64_t* p_ = nullptr;
};

// Spacing of the checkpoint rows: at least u / 100 rows (a power of two, at least 64), so the
// tables keep at most about 100 rows of W words each. Denser tables outgrow the caches (the
// scan reads them at random, and other processes share the caches); measured at M = 5 on a
// loaded 2-core machine: 128 at u = 10^4, 256 at 2*10^4, 512 at 5*10^4, 1024 at 10^5 (2.3x
// faster there than the earlier 128).
int64_t checkpoint_spacing(int64_t u) {
  int64_t S = 64;
  while (S * 100 < u) S *= 2;
  return S;
}

}  // namespace

bool bitset_fits(int64_t d, int64_t u) {
  const int64_t W = (u + 63) / 64;
  const int64_t S = checkpoint_spacing(u);
  return d * ((u + S - 1) / S + 1) * W <= kBitsetMaxCheckpointWords;
}

namespace {

// Finds the first index b of t[0, n) (sorted, t[n - 1] = the largest value) with t[b] >= v:
// a table over 16 n equal cells of [t.front(), t.back()] gives the first candidate, then a short
// walk, rarely more than the first test with 16 cells per threshold (a binary search mispredicted
// on every step and cost more than the sort it replaces).
class ThresholdIndex {
 public:
  ThresholdIndex(const double* t, int64_t n) : t_(t), lo_(t[0]), cells_(16 * n) {
    const double span = t[n - 1] - lo_;
    scale_ = span > 0 ? static_cast<double>(cells_) / span : 0.0;
    start_.resize(cells_ + 1);
    int64_t b = 0;
    for (int64_t k = 0; k <= cells_; ++k) {
      // The first b with t[b] >= the cell's lower edge (never past a value in the cell).
      const double edge = lo_ + static_cast<double>(k) / (scale_ > 0 ? scale_ : 1.0);
      while (b < n - 1 && t[b] < edge) ++b;
      start_[k] = static_cast<int>(b);
    }
  }
  int operator()(double v) const {
    const double x = (v - lo_) * scale_;
    int64_t k = x <= 0 ? 0 : static_cast<int64_t>(x);
    if (k > cells_) k = cells_;
    int b = start_[k];
    while (b > 0 && t_[b - 1] >= v) --b;  // rounding of the cell edge
    while (t_[b] < v) ++b;
    return b;
  }

 private:
  const double* t_;
  double lo_, scale_;
  int64_t cells_;
  std::vector<int> start_;
};

// Value thresholds of the checkpoints of one column: t[b - 1] for b = 1..NB, non-decreasing,
// t[NB - 1] = the column's largest value, each step about S rows apart (quantiles of a strided
// sample of at most 8 NB values: a sort of the sample instead of the whole column).
std::vector<double> checkpoint_thresholds(const double* c, int u, int64_t NB) {
  const int64_t k = std::min<int64_t>(u, 8 * NB);
  std::vector<double> sample(k);
  for (int64_t i = 0; i < k; ++i) sample[i] = c[i * u / k];
  std::sort(sample.begin(), sample.end());
  std::vector<double> t(NB);
  for (int64_t b = 1; b < NB; ++b) t[b - 1] = sample[b * k / NB];
  t[NB - 1] = *std::max_element(c, c + u);
  return t;
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
// where G[best + 1] is empty skips the table loads. Blocks start at multiples of 8 words (w is
// one; the tables and bitsets are 64-byte aligned, rows a multiple of 8 words): the words above
// the last multiple of 8 below nw go one by one first.
#define NASFAST_SCAN_BODY(AND8, TEST8)                                         \
  const int dd = kD > 0 ? kD : d;                                              \
  if (best + 1 >= sc.F) return best;                                           \
  const uint64_t* g = sc.G[best + 1];                                          \
  int64_t e = nw;                                                              \
  for (const int64_t top = std::max(w, nw & ~int64_t{7}); e > top;) {          \
    --e;                                                                       \
    if (!g[e]) continue; /* no candidates: skip the table loads */             \
    uint64_t y = c[0][e];                                                      \
    for (int j = 1; j < dd; ++j) y &= c[j][e];                                 \
    if (!sc.raise(y, e, best, g)) return best;                                 \
  }                                                                            \
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
  __m256i a0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(c[0] + b));                    \
  __m256i a1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(c[0] + b + 4));                \
  for (int j = 1; j < dd; ++j) {                                                                   \
    a0 = _mm256_and_si256(a0, _mm256_load_si256(reinterpret_cast<const __m256i*>(c[j] + b)));      \
    a1 = _mm256_and_si256(a1, _mm256_load_si256(reinterpret_cast<const __m256i*>(c[j] + b + 4)));  \
  }                                                                                                \
  if (_mm256_testz_si256(a0, g0) && _mm256_testz_si256(a1, g1)) continue;                         \
  _mm256_store_si256(reinterpret_cast<__m256i*>(x), a0);                                           \
  _mm256_store_si256(reinterpret_cast<__m256i*>(x + 4), a1);
#define NASFAST_TEST8                                                                 \
  (g0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(g + b)),                   \
   g1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(g + b + 4)),               \
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

// The same for one word w, its bits limited to mask.
int scan_word(const Scan& sc, const uint64_t* const* c, int d, int64_t w, uint64_t mask, int best) {
  if (best + 1 >= sc.F) return best;
  const uint64_t* g = sc.G[best + 1];
  for (int j = 0; j < d; ++j) mask &= c[j][w];
  sc.raise(mask, w, best, g);
  return best;
}

// One column's checkpoints: cj[i] = row i's checkpoint (1..NB), the smallest b with t(b) >=
// c[i]; base = NB + 1 bitsets of W words (in bit space, pos: row -> bit), bitset b = bitset
// b - 1 plus the bits of the rows whose checkpoint is b (a counting sort by checkpoint).
void build_checkpoints(const double* c, int u, int64_t NB, int64_t W, const int* pos, int* cj,
                       uint64_t* base) {
  const std::vector<double> t = checkpoint_thresholds(c, u, NB);
  const ThresholdIndex index(t.data(), NB);
  std::vector<int> start(NB + 2, 0);
  KeptBuffer<int, 15> by(u);
  for (int i = 0; i < u; ++i) {
    cj[i] = index(c[i]) + 1;
    ++start[cj[i] + 1];
  }
  for (int64_t b = 1; b <= NB + 1; ++b) start[b] += start[b - 1];
  for (int i = 0; i < u; ++i) by[start[cj[i]]++] = i;  // start[b] -> end of bucket b
  std::fill_n(base, W, 0);  // rows are filled by copying the previous one
  int64_t t0 = 0;
  for (int64_t b = 1; b <= NB; ++b) {
    std::memcpy(base + b * W, base + (b - 1) * W, sizeof(uint64_t) * W);
    for (; t0 < start[b]; ++t0) {
      const int q = pos[by[t0]];
      base[b * W + (q >> 6)] |= uint64_t{1} << (q & 63);
    }
  }
}

}  // namespace

// Ranks of u distinct rows (lexicographic order) from d = m - 1 columns (objectives 1..m-1),
// with bitsets over the rows. For row p, its dominators are D(p) = {q < p : c_j[q] <= c_j[p]
// for all j}. The bits cut the rows (in lexicographic order) into a few chunks of whole words,
// each chunk in the sorted order of column 0: the part of D(p) in a chunk lies in a prefix of
// it, and only chunks up to p's hold processed rows, so p scans fewer bits (about a quarter of
// them with many chunks, half with one). For each other column j, a checkpoint bitset C_j(b) holds
// the rows with value <= t_j(b) (thresholds about S rows apart) and p takes the smallest b with
// t_j(b) >= c_j[p]: a superset of its part of D(p). AND_j C_j (over the prefixes) holds every
// dominator and some rows past a threshold, each checked exactly when it matters. G_k = the
// processed rows of rank >= k; rank(p) = 1 + the largest k with D(p) & G_k != 0, raised word by
// word in one pass. O(d u^2 / 64) word operations and (d u / S + fronts) u / 64 words of
// memory; returns false (nothing done) when the fronts would pass max_front_words.
bool rank_bitset(const std::vector<std::vector<double>>& cols, int u, std::vector<int>& rank,
                 int64_t max_front_words) {
  const int d = static_cast<int>(cols.size());
  if (d < 2) return false;
  // Chunks: 4, or 8 from 5*10^4 rows (measured at M = 5: 4 best at 10^4 and 2*10^4, 8 at 10^5;
  // 16 or more cost more in per-chunk overhead than they save).
  const int64_t chunks = u < 50000 ? 4 : 8;
  const int64_t WC =  // words, a multiple of kLineWords
      (((u + 63) / 64 + chunks - 1) / chunks + kLineWords - 1) / kLineWords * kLineWords;
  const int64_t CS = 64 * WC;                  // rows (bits) per chunk
  const int T = static_cast<int>((u + CS - 1) / CS);
  const int64_t W = T * WC;                    // words of a bitset (chunks padded to words)
  const int64_t S = checkpoint_spacing(u);
  const int64_t NB = (u + S - 1) / S;
  // Column 0 in sorted order: each row's bit (its chunk, then its place there) and, for each
  // chunk up to its own, how many of the chunk's rows are <= it in column 0.
  KeptBuffer<int, 12> pos(u);  // row -> bit
  KeptBuffer<int, 11> ends(static_cast<size_t>(u) * T);
  {
    KeptBuffer<uint64_t, 13> key(u);
    for (int i = 0; i < u; ++i) key[i] = order_key(cols[0][i]);
    const std::vector<int64_t> o = radix_order(key.vec());
    std::vector<int> fill(T, 0);
    for (int t = 0; t < u;) {
      int e = t + 1;
      while (e < u && key[e] == key[t]) ++e;
      for (int s = t; s < e; ++s) {
        const int q = static_cast<int>(o[s]);
        const int c = static_cast<int>(q / CS);
        pos[q] = static_cast<int>(c * CS) + fill[c]++;
      }
      for (int s = t; s < e; ++s) {
        const int q = static_cast<int>(o[s]);
        int* eq = ends.data() + static_cast<size_t>(q) * T;
        for (int c = 0, cq = static_cast<int>(q / CS); c <= cq; ++c)
          eq[c] = fill[c];
      }
      t = e;
    }
  }
  // Columns 1..d-1: each row's checkpoint and the tables in bit space.
  const int nt = d - 1;
  KeptBuffer<int, 14> cpt(static_cast<size_t>(nt) * u);  // row -> checkpoint
  ScratchWords cp(static_cast<size_t>(nt) * (NB + 1) * W);
  // Serial: two OpenMP threads here (one column each) made the whole sort 2x slower on a loaded
  // 2-core machine (the idle worker spins while the scan runs).
  for (int j = 1; j < d; ++j) {
    const size_t k = static_cast<size_t>(j - 1);
    build_checkpoints(cols[j].data(), u, NB, W, pos.data(), cpt.data() + k * u,
                      cp.get() + k * (NB + 1) * W);
  }
  KeptBuffer<double, 16> rows(static_cast<size_t>(W) * 64 * d);  // in bit order (padding unused)
  for (int q = 0; q < u; ++q)
    for (int j = 0; j < d; ++j) rows[static_cast<size_t>(pos[q]) * d + j] = cols[j][q];
  KeptBuffer<int, 17> rank_bit(W * 64);  // written before it is read (rows join G once ranked)
  std::vector<std::vector<uint64_t>> G;  // G[k]: bits of the processed rows of rank >= k
  std::vector<uint64_t*> gp;              // G[k]'s words, 64-byte aligned
  std::vector<const uint64_t*> cpb(nt);
  // Rows in lexicographic order (each needs the final ranks of the rows before it).
  // Single-threaded: a parallel scan of the rows before each block measured slower on a loaded
  // 2-core machine.
  for (int p = 0; p < u; ++p) {
    const int bp = pos[p];
    const int F = static_cast<int>(G.size());
    int best = -1;
    if (F > 0) {
      for (int j = 1; j < d; ++j) {
        const int64_t b = cpt[static_cast<size_t>(j - 1) * u + p];
        cpb[j - 1] = cp.get() + (static_cast<size_t>(j - 1) * (NB + 1) + b) * W;
      }
      const Scan sc{gp.data(), F, rank_bit.data(), rows.data(), d,
                    rows.data() + static_cast<size_t>(bp) * d};
      // The chunks up to p's, from p's own (its rows are the nearest to p in objective 0).
      const int* ep = ends.data() + static_cast<size_t>(p) * T;
      // The prefix's last, partial word first, masked (its other rows would each fail the
      // exact check), then the whole words.
      for (int c = static_cast<int>(p / CS); c >= 0 && best + 1 < F; --c) {
        const int64_t w = c * WC + ep[c] / 64;
        const int rest = ep[c] & 63;
        if (rest) best = scan_word(sc, cpb.data(), nt, w, (uint64_t{1} << rest) - 1, best);
        best = scan_dominators(sc, cpb.data(), nt, c * WC, w, best);
      }
    }
    const int r = best + 1;
    if (r == F) {
      // Many fronts: each row sets a bit in every G[k <= r] (O(fronts) per row) and the fronts'
      // memory grows; the divide and conquer is the better method there.
      if (F + 1 > kBitsetMaxFronts || static_cast<int64_t>(F + 1) * W > max_front_words)
        return false;
      G.emplace_back(W + kLineWords, 0);
      gp.push_back(align_line(G.back().data()));
    }
    for (int k = 0; k <= r; ++k) gp[k][bp >> 6] |= uint64_t{1} << (bp & 63);
    rank_bit[bp] = r;
    rank[p] = r;
  }
  return true;
}

}  // namespace nasfast::pareto::cpu

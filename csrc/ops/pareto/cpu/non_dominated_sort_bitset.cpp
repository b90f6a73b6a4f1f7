// Non-dominated sorting for M >= 4 with dominator bitsets (rank_bitset, see
// non_dominated_sort_bitset.h): the checkpoint tables, the word scan (AVX2 where the CPU has it)
// and the row loop.
#include <algorithm>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "ops/pareto/cpu/kept_buffer.h"
#include "ops/pareto/cpu/non_dominated_sort_bitset.h"
#include "ops/pareto/cpu/sort_util.h"

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

// The fallback of grid_checkpoints: value thresholds of the checkpoints of one column, t[b - 1]
// for b = 1..NB, non-decreasing, t[NB - 1] = the column's largest value, each step about S rows
// apart (quantiles of a strided sample of at most 8 NB values: a sort of the sample instead of
// the whole column); a row's checkpoint is the smallest b with t(b) >= its value.
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

// Row p's dominator scan: for each chunk c up to p's own (from p's own down), the bits
// [c CS, c CS + ep[c]) (the chunk's rows up to p's group in objective 1), in blocks of 4 words
// aligned to 4 from the top (the top block masked to the prefix), each block x = AND_j C_j &
// G[best + 1]. G[k] holds the processed rows of rank >= k, so a bit of x is a row that may
// dominate p and would raise best: it gets the exact check. Almost every block is zero (1.6
// non-zero blocks of 13 per row at M = 5, N = 10^4), so the loop is a straight run of loads, ANDs
// and one test per block, with the rare candidate handled outside it (the former loop, with a
// skip test per 8-word block and the words above the last multiple of 8 one by one, took 1.1x
// as long). Returns the largest rank among p's dominators, or -1.
struct RowScan {
  const uint64_t* const* G;
  int F;
  const int* rank;     // by bit
  const double* rows;  // row-major [bits, d], in bit order
  int d;
  const double* rp;  // row p
  const int* ep;     // ep[c] = prefix bits of chunk c
  int own;           // p's chunk
  int64_t WC;        // words per chunk

  bool dominates(int q) const {
    const double* rq = rows + static_cast<size_t>(q) * d;
    for (int j = 0; j < d; ++j)
      if (rq[j] > rp[j]) return false;
    return true;
  }

  // Candidates of the 4 words x[0..4) at word b (x already ANDed with an earlier G[best + 1],
  // which holds the current one): raises best; false once best = F - 1 (nothing can raise it).
  bool raise4(const uint64_t* x, int64_t b, int& best, const uint64_t*& g) const {
    for (int t = 3; t >= 0; --t) {
      uint64_t y = x[t] & g[b + t];
      while (y) {
        const int q = static_cast<int>((b + t) * 64 + __builtin_ctzll(y));
        y &= y - 1;
        if (dominates(q)) {
          best = rank[q];
          if (best + 1 == F) return false;
          g = G[best + 1];
          y &= g[b + t];
        }
      }
    }
    return true;
  }
};

// m[n] = the 4 words whose low n bits (n = 0..256) are set: the top block of a prefix.
struct BlockMasks {
  alignas(64) uint64_t m[257][4];
  BlockMasks() {
    for (int n = 0; n <= 256; ++n)
      for (int t = 0; t < 4; ++t) {
        const int k = std::clamp(n - 64 * t, 0, 64);
        m[n][t] = k == 64 ? ~uint64_t{0} : (uint64_t{1} << k) - 1;
      }
  }
};
const BlockMasks kMasks;

#define NASFAST_SCAN_ROW(LOAD_AND4, TESTZ)                 \
  const int nt = kT > 0 ? kT : nt_;                        \
  int best = -1;                                           \
  const uint64_t* g = sc.G[0];                             \
  for (int ch = sc.own; ch >= 0; --ch) {                   \
    const int bits = sc.ep[ch];                            \
    if (bits == 0) continue;                               \
    const int64_t lo = ch * sc.WC;                         \
    const int64_t top = lo + (((bits - 1) >> 8) << 2);     \
    const uint64_t* mk = kMasks.m[bits - 64 * (top - lo)]; \
    for (int64_t b = top; b >= lo; b -= 4) {               \
      LOAD_AND4                                            \
      if (TESTZ) continue;                                 \
      if (!sc.raise4(x, b, best, g)) return best;          \
    }                                                      \
  }                                                        \
  return best;

template <int kT>
int scan_row_plain(const RowScan& sc, const uint64_t* const* c, int nt_) {
  uint64_t x[4];
#define NASFAST_LOAD_AND4                              \
  for (int t = 0; t < 4; ++t) x[t] = g[b + t] & mk[t]; \
  mk = kMasks.m[256];                                  \
  for (int j = 0; j < nt; ++j)                         \
    for (int t = 0; t < 4; ++t) x[t] &= c[j][b + t];
  NASFAST_SCAN_ROW(NASFAST_LOAD_AND4, (x[0] | x[1] | x[2] | x[3]) == 0)
#undef NASFAST_LOAD_AND4
}

#if defined(__x86_64__) && defined(__GNUC__)
#define NASFAST_SCAN_AVX2 1
template <int kT>
__attribute__((target("avx2"))) int scan_row_avx2(const RowScan& sc, const uint64_t* const* c,
                                                  int nt_) {
  alignas(32) uint64_t x[4];
  __m256i a;
#define NASFAST_LOAD_AND4                                                                   \
  a = _mm256_and_si256(_mm256_load_si256(reinterpret_cast<const __m256i*>(g + b)),          \
                       _mm256_load_si256(reinterpret_cast<const __m256i*>(mk)));            \
  mk = kMasks.m[256];                                                                       \
  for (int j = 0; j < nt; ++j)                                                              \
    a = _mm256_and_si256(a, _mm256_load_si256(reinterpret_cast<const __m256i*>(c[j] + b))); \
  _mm256_store_si256(reinterpret_cast<__m256i*>(x), a);
  NASFAST_SCAN_ROW(NASFAST_LOAD_AND4, _mm256_testz_si256(a, a))
#undef NASFAST_LOAD_AND4
}
const bool kHasAvx2 = __builtin_cpu_supports("avx2");
#endif
#undef NASFAST_SCAN_ROW

template <int kT>
int scan_row_any(const RowScan& sc, const uint64_t* const* c, int nt) {
#ifdef NASFAST_SCAN_AVX2
  if (kHasAvx2) return scan_row_avx2<kT>(sc, c, nt);
#endif
  return scan_row_plain<kT>(sc, c, nt);
}

int scan_row(const RowScan& sc, const uint64_t* const* c, int nt) {
  switch (nt) {
    case 1: return scan_row_any<1>(sc, c, nt);
    case 2: return scan_row_any<2>(sc, c, nt);
    case 3: return scan_row_any<3>(sc, c, nt);
    case 4: return scan_row_any<4>(sc, c, nt);
    case 5: return scan_row_any<5>(sc, c, nt);
    default: return scan_row_any<0>(sc, c, nt);
  }
}

// Each row's checkpoint (1..NB) as a non-decreasing function of its value (all the tables need
// for exactness: every row <= p in the column is in p's table row): cells of equal width over
// [min, max] (32 per checkpoint), their histogram, and checkpoints closed at cell edges once they
// hold S rows; no sort and no threshold search (0.6x the time of the sampled quantiles). False
// (cj unspecified) when a checkpoint would hold more than 4 S rows (values bunched in a few
// cells): the sampled quantiles then.
bool grid_checkpoints(const double* c, int u, int64_t NB, int64_t S, int* cj) {
  double lo = c[0], hi = c[0];
  for (int i = 1; i < u; ++i) {
    lo = c[i] < lo ? c[i] : lo;
    hi = c[i] > hi ? c[i] : hi;
  }
  const int K = static_cast<int>(32 * NB);
  const double scale = static_cast<double>(K) / (hi - lo);
  if (!(scale < 1e300)) return false;  // hi == lo, or a span too small or too large
  const double top = K - 1;
  KeptBuffer<int, 18> count(K);
  std::fill_n(count.data(), K, 0);
  for (int i = 0; i < u; ++i) {
    const double x = (c[i] - lo) * scale;
    const int k = static_cast<int>(x < top ? x : top);
    cj[i] = k;
    ++count[k];
  }
  int b = 1, in_b = 0, most = 0;
  for (int k = 0; k < K; ++k) {
    const int h = count[k];
    count[k] = b;
    in_b += h;
    if (in_b >= S) {
      most = std::max(most, in_b);
      ++b;
      in_b = 0;
    }
  }
  most = std::max(most, in_b);
  if (most > 4 * S) return false;
  for (int i = 0; i < u; ++i) cj[i] = count[cj[i]];
  return true;
}

// Rows ordered by a non-decreasing function of the values of c: K cells of equal width over
// [min, max], a counting sort (rows of one cell in index order); grp[s] = the cell of the s-th
// row. False (nothing usable written) when a cell would hold more than max_in_cell rows.
bool cell_order(const double* c, int u, int K, int max_in_cell, int* order, int* grp) {
  double lo = c[0], hi = c[0];
  for (int i = 1; i < u; ++i) {
    lo = c[i] < lo ? c[i] : lo;
    hi = c[i] > hi ? c[i] : hi;
  }
  const double scale = static_cast<double>(K) / (hi - lo);
  if (!(scale < 1e300)) return false;  // hi == lo, or a span too small or too large
  const double top = K - 1;
  KeptBuffer<int, 19> count(K + 1);
  KeptBuffer<int, 8> cell(u);
  std::fill_n(count.data(), K + 1, 0);
  for (int i = 0; i < u; ++i) {
    const double x = (c[i] - lo) * scale;
    const int k = static_cast<int>(x < top ? x : top);
    cell[i] = k;
    ++count[k + 1];
  }
  int most = 0;
  for (int k = 1; k <= K; ++k) {
    most = std::max(most, count[k]);
    count[k] += count[k - 1];
  }
  if (most > max_in_cell) return false;
  for (int i = 0; i < u; ++i) {
    const int s = count[cell[i]]++;
    order[s] = i;
    grp[s] = cell[i];
  }
  return true;
}

// One column's checkpoints: cj[i] = row i's checkpoint (1..NB, non-decreasing in the value);
// base = NB + 1 bitsets of W words (in bit space, pos: row -> bit), bitset b = bitset b - 1 plus
// the bits of the rows whose checkpoint is b (a counting sort by checkpoint).
void build_checkpoints(const double* c, int u, int64_t NB, int64_t S, int64_t W, const int* pos,
                       int* cj, uint64_t* base) {
  if (!grid_checkpoints(c, u, NB, S, cj)) {
    const std::vector<double> t = checkpoint_thresholds(c, u, NB);
    const ThresholdIndex index(t.data(), NB);
    for (int i = 0; i < u; ++i) cj[i] = index(c[i]) + 1;
  }
  std::vector<int> start(NB + 2, 0);
  KeptBuffer<int, 15> by(u);
  for (int i = 0; i < u; ++i) ++start[cj[i] + 1];
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
// each chunk in the order of column 0 (by cells of its values, see cell_order): the part of D(p)
// in a chunk lies in a prefix of it, and only chunks up to p's hold processed rows, so p scans
// fewer bits (about a quarter of them with many chunks, half with one). For each other column j,
// a checkpoint bitset C_j(b) holds the rows whose checkpoint is <= b (checkpoints about S rows
// apart, non-decreasing in the value) and p takes its own checkpoint's: a superset of its part
// of D(p). AND_j C_j (over the prefixes) holds every dominator and some rows past p's values,
// each checked exactly when it matters. G_k = the processed rows of rank >= k; rank(p) = 1 + the
// largest k with D(p) & G_k != 0, raised block by block in one pass. O(d u^2 / 64) word
// operations and (d u / S + fronts) u / 64 words of memory; returns false (nothing done) when
// the fronts would pass max_front_words.
bool rank_bitset(const std::vector<std::vector<double>>& cols, int u, std::vector<int>& rank,
                 int64_t max_front_words) {
  const int d = static_cast<int>(cols.size());
  if (d < 2) return false;
  // Chunks: 4, or 8 from 5*10^4 rows (measured at M = 5: 4 best at 10^4 and 2*10^4, 8 at 10^5;
  // 16 or more cost more in per-chunk overhead than they save).
  const int64_t chunks = u < 50000 ? 4 : 8;
  const int64_t WC =  // words, a multiple of kLineWords
      (((u + 63) / 64 + chunks - 1) / chunks + kLineWords - 1) / kLineWords * kLineWords;
  const int64_t CS = 64 * WC;  // rows (bits) per chunk
  const int T = static_cast<int>((u + CS - 1) / CS);
  const int64_t W = T * WC;  // words of a bitset (chunks padded to words)
  const int64_t S = checkpoint_spacing(u);
  const int64_t NB = (u + S - 1) / S;
  // Column 0 in sorted order: each row's bit (its chunk, then its place there) and, for each
  // chunk up to its own, how many of the chunk's rows are <= it in column 0.
  KeptBuffer<int, 12> pos(u);  // row -> bit
  KeptBuffer<int, 11> ends(static_cast<size_t>(u) * T);
  {
    // Rows in the order of column 0, each run of equal group ids (equal values, or one cell)
    // kept together: the prefix of a chunk is then every row up to p's group (rows of p's
    // cell above p fail the exact check).
    KeptBuffer<int, 13> ord(u);
    KeptBuffer<int, 10> grp(u);
    if (!cell_order(cols[0].data(), u, u, 16, ord.data(), grp.data())) {
      KeptBuffer<uint64_t, 9> key(u);
      for (int i = 0; i < u; ++i) key[i] = order_key(cols[0][i]);
      const std::vector<int64_t> o = radix_order(key.vec());
      for (int s = 0, g = 0; s < u; ++s) {
        g += s > 0 && key[s] != key[s - 1];
        ord[s] = static_cast<int>(o[s]);
        grp[s] = g;
      }
    }
    std::vector<int> chunk_of_word((u + 63) / 64);
    for (size_t w = 0; w < chunk_of_word.size(); ++w) chunk_of_word[w] = static_cast<int>(w / WC);
    int fill[8] = {0, 0, 0, 0, 0, 0, 0, 0};  // T <= 8
    for (int t = 0; t < u;) {
      int e = t + 1;
      while (e < u && grp[e] == grp[t]) ++e;
      for (int s = t; s < e; ++s) {
        const int q = ord[s];
        const int c = chunk_of_word[q >> 6];
        pos[q] = static_cast<int>(c * CS) + fill[c]++;
      }
      for (int s = t; s < e; ++s)
        std::memcpy(ends.data() + static_cast<size_t>(ord[s]) * T, fill, sizeof(int) * T);
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
    build_checkpoints(cols[j].data(), u, NB, S, W, pos.data(), cpt.data() + k * u,
                      cp.get() + k * (NB + 1) * W);
  }
  KeptBuffer<double, 16> rows(static_cast<size_t>(W) * 64 * d);  // in bit order (padding unused)
  for (int q = 0; q < u; ++q)
    for (int j = 0; j < d; ++j) rows[static_cast<size_t>(pos[q]) * d + j] = cols[j][q];
  KeptBuffer<int, 17> rank_bit(W * 64);  // written before it is read (rows join G once ranked)
  std::vector<std::vector<uint64_t>> G;  // G[k]: bits of the processed rows of rank >= k
  std::vector<uint64_t*> gp;             // G[k]'s words, 64-byte aligned
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
      const RowScan sc{gp.data(),
                       F,
                       rank_bit.data(),
                       rows.data(),
                       d,
                       rows.data() + static_cast<size_t>(bp) * d,
                       ends.data() + static_cast<size_t>(p) * T,
                       static_cast<int>(p / CS),
                       WC};
      best = scan_row(sc, cpb.data(), nt);
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

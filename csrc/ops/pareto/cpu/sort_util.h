#pragma once
// Sorting helpers shared by the Pareto kernels (header-only, internal).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <numeric>
#include <tuple>
#include <utility>
#include <vector>

#include "ops/pareto/cpu/kept_buffer.h"

#if defined(_OPENMP) && defined(__GLIBCXX__)
#include <omp.h>
#include <parallel/algorithm>
#define NASFAST_PARETO_PARALLEL_SORT 1
#endif

namespace nasfast::pareto::cpu {

// Below this many elements a parallel sort costs more than it saves.
constexpr int64_t kParallelSortMin = 200000;

template <typename It, typename Cmp>
void fast_sort(It begin, It end, Cmp cmp) {
#ifdef NASFAST_PARETO_PARALLEL_SORT
  if (end - begin >= kParallelSortMin && omp_get_max_threads() > 1 && !omp_in_parallel()) {
    __gnu_parallel::sort(begin, end, cmp, __gnu_parallel::multiway_mergesort_tag());
    return;
  }
#endif
  std::sort(begin, end, cmp);
}

inline bool rows_equal(const double* a, const double* b, int64_t m) {
  for (int64_t j = 0; j < m; ++j)
    if (a[j] != b[j]) return false;
  return true;
}

// An unsigned key with the order of the double (finite values; -0.0 and 0.0 map alike).
inline uint64_t order_key(double x) {
  x += 0.0;  // -0.0 -> 0.0
  uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  return (b >> 63) ? ~b : (b | (uint64_t{1} << 63));
}

// Row indices sorted by key (stable): an LSD radix sort (11-bit digits) of the high 33 bits,
// skipping passes where every key has the same digit, then an insertion sort of each run of
// equal high bits by the full key (runs are short unless many keys share those bits, when
// a comparison sort takes over).
inline std::vector<int64_t> radix_order(std::vector<uint64_t>& key) {
  const int64_t n = static_cast<int64_t>(key.size());
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), int64_t{0});
  if (n == 0) return order;
  // Scratch kept per thread (every slot is written before it is read).
  KeptBuffer<uint64_t, 0> tmp_k(n);
  KeptBuffer<int64_t, 1> tmp_o(n);
  uint64_t* k_src = key.data();
  int64_t* o_src = order.data();
  uint64_t* k_dst = tmp_k.data();
  int64_t* o_dst = tmp_o.data();
  constexpr int kBits = 11;
  constexpr int kBuckets = 1 << kBits;
  constexpr int kPasses = 3;  // bits 31..63
  std::vector<int64_t> count(static_cast<size_t>(kPasses) * kBuckets, 0);
  for (int64_t i = 0; i < n; ++i)  // all histograms in one read
    for (int p = 0; p < kPasses; ++p)
      ++count[p * kBuckets + ((k_src[i] >> (31 + kBits * p)) & (kBuckets - 1))];
  for (int p = 0; p < kPasses; ++p) {
    const int shift = 31 + kBits * p;
    int64_t* c = count.data() + p * kBuckets;
    if (c[(k_src[0] >> shift) & (kBuckets - 1)] == n) continue;
    int64_t sum = 0;
    for (int b = 0; b < kBuckets; ++b) {
      const int64_t t = c[b];
      c[b] = sum;
      sum += t;
    }
    for (int64_t i = 0; i < n; ++i) {
      const int64_t d = c[(k_src[i] >> shift) & (kBuckets - 1)]++;
      k_dst[d] = k_src[i];
      o_dst[d] = o_src[i];
    }
    std::swap(k_src, k_dst);
    std::swap(o_src, o_dst);
  }
  if (k_src != key.data()) {
    std::copy(k_src, k_src + n, key.data());
    std::copy(o_src, o_src + n, order.data());
  }
  for (int64_t i = 0; i < n;) {
    int64_t e = i + 1;
    while (e < n && (key[e] >> 31) == (key[i] >> 31)) ++e;
    if (e - i > 32) {
      std::vector<std::pair<uint64_t, int64_t>> run(e - i);
      for (int64_t t = i; t < e; ++t) run[t - i] = {key[t], order[t]};
      std::sort(run.begin(), run.end());
      for (int64_t t = i; t < e; ++t) std::tie(key[t], order[t]) = run[t - i];
    } else {
      for (int64_t t = i + 1; t < e; ++t) {
        const uint64_t k = key[t];
        const int64_t o = order[t];
        int64_t s = t;
        for (; s > i && (key[s - 1] > k || (key[s - 1] == k && order[s - 1] > o)); --s) {
          key[s] = key[s - 1];
          order[s] = order[s - 1];
        }
        key[s] = k;
        order[s] = o;
      }
    }
    i = e;
  }
  return order;
}

// Row indices of F [n, m] in lexicographic order of the rows (ties by row index): radix sort on
// objective 0, then a comparison sort of each run of equal objective-0 values.
inline std::vector<int64_t> lex_order(const double* F, int64_t n, int64_t m) {
  std::vector<int64_t> order;
  if (n < 256) {
    order.resize(n);
    std::iota(order.begin(), order.end(), int64_t{0});
  } else {
    KeptBuffer<uint64_t, 2> key(n);
    for (int64_t i = 0; i < n; ++i) key[i] = order_key(F[i * m]);
    order = radix_order(key.vec());
  }
  auto less = [F, m](int64_t x, int64_t y) {
    const double* a = F + x * m;
    const double* b = F + y * m;
    for (int64_t j = 0; j < m; ++j)
      if (a[j] != b[j]) return a[j] < b[j];
    return x < y;
  };
  if (n < 256) {
    std::sort(order.begin(), order.end(), less);
    return order;
  }
  for (int64_t i = 0; i < n;) {
    int64_t e = i + 1;
    const double v = F[order[i] * m];
    while (e < n && F[order[e] * m] == v) ++e;
    if (e - i > 1) fast_sort(order.begin() + i, order.begin() + e, less);
    i = e;
  }
  return order;
}

}  // namespace nasfast::pareto::cpu

#pragma once
// Sorting helpers shared by the Pareto kernels (header-only, internal).
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

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

struct Rec2 {
  double a, b;
  int64_t row;
};

// Lexicographic by (a, b), then by row (a strict order, so the result is deterministic).
inline void sort_rec2(std::vector<Rec2>& r) {
  fast_sort(r.begin(), r.end(), [](const Rec2& x, const Rec2& y) {
    if (x.a != y.a) return x.a < y.a;
    if (x.b != y.b) return x.b < y.b;
    return x.row < y.row;
  });
}

inline bool rows_equal(const double* a, const double* b, int64_t m) {
  for (int64_t j = 0; j < m; ++j)
    if (a[j] != b[j]) return false;
  return true;
}

// Row indices of F [n, m] in lexicographic order of the rows (ties by row index).
inline std::vector<int64_t> lex_order(const double* F, int64_t n, int64_t m) {
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), int64_t{0});
  fast_sort(order.begin(), order.end(), [F, m](int64_t x, int64_t y) {
    const double* a = F + x * m;
    const double* b = F + y * m;
    for (int64_t j = 0; j < m; ++j)
      if (a[j] != b[j]) return a[j] < b[j];
    return x < y;
  });
  return order;
}

}  // namespace nasfast::pareto::cpu

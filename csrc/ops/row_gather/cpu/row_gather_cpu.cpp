#include "ops/row_gather/cpu/row_gather_cpu.h"

#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>
#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>

#include <algorithm>
#include <vector>

namespace nasfast::row_gather::cpu {
namespace {

// Elements per block: one accumulator block stays in L1 while the sources stream past it.
constexpr int64_t kBlock = 2048;

int64_t num_blocks(int64_t M) { return (M + kBlock - 1) / kBlock; }

// Grain of parallel_for in (row, block) units: about 64K elements per task.
int64_t grain(int64_t M) {
  return std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(1, M));
}

template <typename scalar_t>
void copy_block(const scalar_t* src, int64_t len, bool relu, scalar_t* dst) {
  if (relu) {
    const scalar_t zero(0);
#pragma omp simd
    for (int64_t j = 0; j < len; ++j) dst[j] = src[j] > zero ? src[j] : zero;
  } else {
    std::copy(src, src + len, dst);
  }
}

// Sums the rows rows[0..count) of the sources (pointers to the start of each row) over one block.
template <typename scalar_t>
void sum_block(const scalar_t* const* rows, int64_t count, int64_t begin, int64_t len,
               scalar_t* dst) {
  using acc_t = at::opmath_type<scalar_t>;
  if (count == 0) {
    std::fill(dst, dst + len, scalar_t(0));
    return;
  }
  if (count == 1) {
    std::copy(rows[0] + begin, rows[0] + begin + len, dst);
    return;
  }
  acc_t acc[kBlock];
  const scalar_t* x0 = rows[0] + begin;
#pragma omp simd
  for (int64_t j = 0; j < len; ++j) acc[j] = static_cast<acc_t>(x0[j]);
  for (int64_t c = 1; c < count; ++c) {
    const scalar_t* xc = rows[c] + begin;
#pragma omp simd
    for (int64_t j = 0; j < len; ++j) acc[j] += static_cast<acc_t>(xc[j]);
  }
#pragma omp simd
  for (int64_t j = 0; j < len; ++j) dst[j] = static_cast<scalar_t>(acc[j]);
}

}  // namespace

template <typename scalar_t>
void gather_rows(const scalar_t* x, const int64_t* index, int64_t n, int64_t M, bool relu,
                 scalar_t* out) {
  const int64_t nb = num_blocks(M);
  at::parallel_for(0, n * nb, grain(M) * nb, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t i = t / nb, begin = (t % nb) * kBlock;
      const int64_t len = std::min(kBlock, M - begin);
      copy_block(x + index[i] * M + begin, len, relu, out + i * M + begin);
    }
  });
}

template <typename scalar_t>
void gather_sum(const scalar_t* const* srcs, const int64_t* maps, int64_t K, int64_t R, int64_t M,
                scalar_t* out) {
  const int64_t nb = num_blocks(M);
  at::parallel_for(0, R * nb, grain(M) * nb, [&](int64_t t0, int64_t t1) {
    std::vector<const scalar_t*> rows(K);
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t r = t / nb, begin = (t % nb) * kBlock;
      int64_t count = 0;
      for (int64_t k = 0; k < K; ++k) {
        const int64_t m = maps[k * R + r];
        if (m >= 0) rows[count++] = srcs[k] + m * M;
      }
      sum_block(rows.data(), count, begin, std::min(kBlock, M - begin), out + r * M + begin);
    }
  });
}

template <typename scalar_t>
void scatter_rows(const scalar_t* src, const int64_t* index, int64_t n, int64_t R, int64_t M,
                  scalar_t* out) {
  // Counting sort of the sources by destination row (CSR), stable in i.
  std::vector<int64_t> start(R + 1, 0), order;
  for (int64_t i = 0; i < n; ++i)
    if (index[i] >= 0) ++start[index[i] + 1];
  for (int64_t r = 0; r < R; ++r) start[r + 1] += start[r];
  order.resize(start[R]);
  {
    std::vector<int64_t> fill(start.begin(), start.end() - 1);
    for (int64_t i = 0; i < n; ++i)
      if (index[i] >= 0) order[fill[index[i]]++] = i;
  }
  const int64_t nb = num_blocks(M);
  at::parallel_for(0, R * nb, grain(M) * nb, [&](int64_t t0, int64_t t1) {
    std::vector<const scalar_t*> rows;
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t r = t / nb, begin = (t % nb) * kBlock;
      rows.clear();
      for (int64_t p = start[r]; p < start[r + 1]; ++p) rows.push_back(src + order[p] * M);
      sum_block(rows.data(), static_cast<int64_t>(rows.size()), begin, std::min(kBlock, M - begin),
                out + r * M + begin);
    }
  });
}

#define NASFAST_INSTANTIATE(T)                                                                 \
  template void gather_rows<T>(const T*, const int64_t*, int64_t, int64_t, bool, T*);          \
  template void gather_sum<T>(const T* const*, const int64_t*, int64_t, int64_t, int64_t, T*); \
  template void scatter_rows<T>(const T*, const int64_t*, int64_t, int64_t, int64_t, T*);
NASFAST_INSTANTIATE(float)
NASFAST_INSTANTIATE(double)
NASFAST_INSTANTIATE(c10::BFloat16)
NASFAST_INSTANTIATE(c10::Half)
#undef NASFAST_INSTANTIATE

}  // namespace nasfast::row_gather::cpu

#include "ops/mixed_op/cpu/mixed_op_cpu.h"

#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>
#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>

#include <algorithm>
#include <vector>

namespace nasfast::mixed_op::cpu {
namespace {

// Elements per block: the accumulator block stays in L1 while the K inputs stream past it.
constexpr int64_t kBlock = 2048;

int64_t num_blocks(int64_t n) { return (n + kBlock - 1) / kBlock; }

template <typename scalar_t, typename acc_t>
void forward_block(const scalar_t* const* in, const acc_t* w, int64_t K, int64_t begin,
                   int64_t len, scalar_t* out) {
  acc_t acc[kBlock];
  const scalar_t* x0 = in[0] + begin;
  const acc_t w0 = w[0];
#pragma omp simd
  for (int64_t i = 0; i < len; ++i) acc[i] = w0 * static_cast<acc_t>(x0[i]);
  for (int64_t k = 1; k < K; ++k) {
    const scalar_t* xk = in[k] + begin;
    const acc_t wk = w[k];
#pragma omp simd
    for (int64_t i = 0; i < len; ++i) acc[i] += wk * static_cast<acc_t>(xk[i]);
  }
  scalar_t* o = out + begin;
#pragma omp simd
  for (int64_t i = 0; i < len; ++i) o[i] = static_cast<scalar_t>(acc[i]);
}

template <typename scalar_t, typename acc_t>
void backward_block(const scalar_t* g, const scalar_t* const* in, const acc_t* w, int64_t K,
                    int64_t begin, int64_t len, scalar_t* const* grad_in, double* partial) {
  acc_t gb[kBlock];
  const scalar_t* gp = g + begin;
#pragma omp simd
  for (int64_t i = 0; i < len; ++i) gb[i] = static_cast<acc_t>(gp[i]);
  for (int64_t k = 0; k < K; ++k) {
    if (grad_in != nullptr) {
      scalar_t* gi = grad_in[k] + begin;
      const acc_t wk = w[k];
#pragma omp simd
      for (int64_t i = 0; i < len; ++i) gi[i] = static_cast<scalar_t>(wk * gb[i]);
    }
    if (partial != nullptr) {
      const scalar_t* xk = in[k] + begin;
      acc_t s = 0;
#pragma omp simd reduction(+ : s)
      for (int64_t i = 0; i < len; ++i) s += gb[i] * static_cast<acc_t>(xk[i]);
      partial[k] = static_cast<double>(s);
    }
  }
}

}  // namespace

template <typename scalar_t>
void forward(const scalar_t* const* in, const void* w, int64_t K, int64_t n, scalar_t* out) {
  using acc_t = at::opmath_type<scalar_t>;
  const acc_t* wa = static_cast<const acc_t*>(w);
  at::parallel_for(0, num_blocks(n), 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t begin = b * kBlock;
      forward_block<scalar_t, acc_t>(in, wa, K, begin, std::min(kBlock, n - begin), out);
    }
  });
}

template <typename scalar_t>
void backward(const scalar_t* g, const scalar_t* const* in, const void* w, int64_t K, int64_t n,
              scalar_t* const* grad_in, double* dots) {
  using acc_t = at::opmath_type<scalar_t>;
  const acc_t* wa = static_cast<const acc_t*>(w);
  const int64_t nb = num_blocks(n);
  std::vector<double> partial(dots != nullptr ? nb * K : 0);
  at::parallel_for(0, nb, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t begin = b * kBlock;
      backward_block<scalar_t, acc_t>(g, in, wa, K, begin, std::min(kBlock, n - begin), grad_in,
                                      dots != nullptr ? partial.data() + b * K : nullptr);
    }
  });
  if (dots == nullptr) return;
  for (int64_t k = 0; k < K; ++k) dots[k] = 0.0;
  for (int64_t b = 0; b < nb; ++b)
    for (int64_t k = 0; k < K; ++k) dots[k] += partial[b * K + k];
}

#define NASFAST_INSTANTIATE(T)                                                               \
  template void forward<T>(const T* const*, const void*, int64_t, int64_t, T*);              \
  template void backward<T>(const T*, const T* const*, const void*, int64_t, int64_t, T* const*, \
                            double*);
NASFAST_INSTANTIATE(float)
NASFAST_INSTANTIATE(double)
NASFAST_INSTANTIATE(c10::BFloat16)
NASFAST_INSTANTIATE(c10::Half)
#undef NASFAST_INSTANTIATE

}  // namespace nasfast::mixed_op::cpu

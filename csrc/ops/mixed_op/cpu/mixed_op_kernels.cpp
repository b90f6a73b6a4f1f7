// The CPU kernels of nasfast::mixed_op (contracts in mixed_op_cpu.h), compiled once per ISA into
// namespace cpu::NASFAST_CPU_CAPABILITY (common/cpu_capability.h); each copy exports its
// kernel_table.
#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>
#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "common/cpu_capability.h"
#include "ops/mixed_op/cpu/mixed_op_cpu.h"

NASFAST_CPU_CAPABILITY_BEGIN
namespace nasfast::mixed_op::cpu::NASFAST_CPU_CAPABILITY {
namespace {

// Elements per block: the accumulator block stays in L1 while the K inputs stream past it.
constexpr int64_t kBlock = 2048;

int64_t num_blocks(int64_t n) { return (n + kBlock - 1) / kBlock; }

// Element conversions the vectoriser can see through (c10's bfloat16 conversions go through
// memcpy and a NaN branch, which left those loops scalar).
// std::bit_cast is C++20; torch < 2.13 builds extensions as C++17.
template <typename To, typename From>
inline To bits_as(From v) {
  static_assert(sizeof(To) == sizeof(From));
  To out;
  std::memcpy(&out, &v, sizeof(To));
  return out;
}

template <typename acc_t, typename scalar_t>
inline acc_t to_acc(scalar_t v) {
  return static_cast<acc_t>(v);
}
template <>
inline float to_acc<float, c10::BFloat16>(c10::BFloat16 v) {
  return bits_as<float>(static_cast<uint32_t>(v.x) << 16);
}
template <typename scalar_t, typename acc_t>
inline scalar_t from_acc(acc_t v) {
  return static_cast<scalar_t>(v);
}
template <>
inline c10::BFloat16 from_acc<c10::BFloat16, float>(float v) {
  // Round to nearest even, NaN stays a quiet NaN (as c10::BFloat16's constructor).
  const uint32_t u = bits_as<uint32_t>(v);
  const uint32_t rounded = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
  return c10::BFloat16(static_cast<uint16_t>(v != v ? 0x7FC0u : rounded),
                       c10::BFloat16::from_bits());
}

// One loop per function, so each is vectorised on its own (fused into one k-loop nest, gcc
// interchanged the loops and left the accumulation scalar).
template <typename scalar_t, typename acc_t>
void scale_to_acc(acc_t* __restrict acc, const scalar_t* __restrict x, acc_t w, int64_t len) {
#pragma omp simd
  for (int64_t i = 0; i < len; ++i) acc[i] = w * to_acc<acc_t>(x[i]);
}

template <typename scalar_t, typename acc_t>
void axpy_to_acc(acc_t* __restrict acc, const scalar_t* __restrict x, acc_t w, int64_t len) {
#pragma omp simd
  for (int64_t i = 0; i < len; ++i) acc[i] += w * to_acc<acc_t>(x[i]);
}

template <typename scalar_t, typename acc_t>
void scale_to_out(scalar_t* __restrict out, const acc_t* __restrict a, acc_t w, int64_t len) {
#pragma omp simd
  for (int64_t i = 0; i < len; ++i) out[i] = from_acc<scalar_t>(w * a[i]);
}

template <typename scalar_t, typename acc_t>
acc_t dot(const acc_t* __restrict a, const scalar_t* __restrict x, int64_t len) {
  acc_t s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < len; ++i) s += a[i] * to_acc<acc_t>(x[i]);
  return s;
}

// Forward in register tiles: all K inputs stream past a tile of kTile accumulators that stays
// in registers, so there is no accumulator array to store and reload (those stores alias the
// K input streams and halved the bandwidth).
constexpr int64_t kTile = 32;

template <typename scalar_t, typename acc_t>
void forward_range(const scalar_t* const* in, const acc_t* w, int64_t K, int64_t begin, int64_t end,
                   scalar_t* out) {
  int64_t i0 = begin;
  for (; i0 + kTile <= end; i0 += kTile) {
    acc_t acc[kTile];
    const scalar_t* x0 = in[0] + i0;
#pragma omp simd
    for (int64_t i = 0; i < kTile; ++i) acc[i] = w[0] * to_acc<acc_t>(x0[i]);
    for (int64_t k = 1; k < K; ++k) {
      const scalar_t* xk = in[k] + i0;
      const acc_t wk = w[k];
#pragma omp simd
      for (int64_t i = 0; i < kTile; ++i) acc[i] += wk * to_acc<acc_t>(xk[i]);
    }
#pragma omp simd
    for (int64_t i = 0; i < kTile; ++i) out[i0 + i] = from_acc<scalar_t>(acc[i]);
  }
  for (int64_t i = i0; i < end; ++i) {
    acc_t a = w[0] * to_acc<acc_t>(in[0][i]);
    for (int64_t k = 1; k < K; ++k) a += w[k] * to_acc<acc_t>(in[k][i]);
    out[i] = from_acc<scalar_t>(a);
  }
}

template <typename scalar_t, typename acc_t>
void backward_block(const scalar_t* g, const scalar_t* const* in, const acc_t* w, int64_t K,
                    int64_t begin, int64_t len, scalar_t* const* grad_in, double* partial) {
  alignas(64) acc_t gb[kBlock];
  scale_to_acc<scalar_t, acc_t>(gb, g + begin, acc_t(1), len);
  for (int64_t k = 0; k < K; ++k) {
    if (grad_in != nullptr) scale_to_out<scalar_t, acc_t>(grad_in[k] + begin, gb, w[k], len);
    if (partial != nullptr)
      partial[k] = static_cast<double>(dot<scalar_t, acc_t>(gb, in[k] + begin, len));
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
      forward_range<scalar_t, acc_t>(in, wa, K, begin, begin + std::min(kBlock, n - begin), out);
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

template <typename scalar_t>
const KernelTable<scalar_t>& kernel_table() {
  static const KernelTable<scalar_t> table{&forward<scalar_t>, &backward<scalar_t>};
  return table;
}
template const KernelTable<float>& kernel_table<float>();
template const KernelTable<double>& kernel_table<double>();
template const KernelTable<c10::BFloat16>& kernel_table<c10::BFloat16>();
template const KernelTable<c10::Half>& kernel_table<c10::Half>();

}  // namespace nasfast::mixed_op::cpu::NASFAST_CPU_CAPABILITY
NASFAST_CPU_CAPABILITY_END

// CPU kernels of the fused DARTS edge. See darts_edge_cpu.h for the contracts.
#include "ops/darts_edge/cpu/darts_edge_cpu.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace nasfast::darts_edge::cpu {

namespace base {
#include "ops/darts_edge/cpu/darts_edge_cpu_simd.inc"
#include "ops/darts_edge/cpu/darts_edge_cpu_kernels.inc"
}  // namespace base

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#pragma GCC optimize("fp-contract=fast")
// Planes are short rows: gcc turned row copies and fills into a libc call per row, which cost
// more than the copy (3% of a step at 32x32).
#pragma GCC optimize("no-tree-loop-distribute-patterns")
namespace avx2 {
#include "ops/darts_edge/cpu/darts_edge_cpu_simd.inc"
#include "ops/darts_edge/cpu/darts_edge_cpu_kernels.inc"
}  // namespace avx2
#pragma GCC pop_options
bool use_avx2() {
  static const bool ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return ok;
}
#else
namespace avx2 = base;
bool use_avx2() { return false; }
#endif

#include "ops/darts_edge/cpu/darts_edge_kernels_dispatch.inc"

template <typename T>
void pointwise(const T* w, int64_t ws_co, int64_t ws_ci, const T* in, int64_t in_bstride, int64_t N, int64_t Co, int64_t Ci, int64_t P, T* out, int64_t out_bstride) {
  return use_avx2() ? avx2::pointwise<T>(w, ws_co, ws_ci, in, in_bstride, N, Co, Ci, P, out, out_bstride) : base::pointwise<T>(w, ws_co, ws_ci, in, in_bstride, N, Co, Ci, P, out, out_bstride);
}

template <typename T>
double dot(const T* a, const T* b, int64_t n) {
  return use_avx2() ? avx2::dot<T>(a, b, n) : base::dot<T>(a, b, n);
}

#define NASFAST_DARTS_EDGE_INSTANTIATE(T)                                                        \
  NASFAST_DARTS_EDGE_KERNELS_INSTANTIATE(T)                                                       \
  template double dot<T>(const T*, const T*, int64_t);                                            \
  template void pointwise<T>(const T*, int64_t, int64_t, const T*, int64_t, int64_t, int64_t,     \
                             int64_t, int64_t, T*, int64_t);

NASFAST_DARTS_EDGE_INSTANTIATE(float)
NASFAST_DARTS_EDGE_INSTANTIATE(double)

}  // namespace nasfast::darts_edge::cpu

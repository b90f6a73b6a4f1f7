// Channels-innermost CPU kernels of the fused DARTS edge. See darts_edge_nhwc.h.
#include "ops/darts_edge/cpu/darts_edge_nhwc.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace nasfast::darts_edge::cpu::nhwc {

namespace base {
#include "ops/darts_edge/cpu/darts_edge_cpu_simd.inc"
#include "ops/darts_edge/cpu/darts_edge_nhwc_kernels.inc"
}  // namespace base

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#pragma GCC optimize("fp-contract=fast")
namespace avx2 {
#include "ops/darts_edge/cpu/darts_edge_cpu_simd.inc"
#include "ops/darts_edge/cpu/darts_edge_nhwc_kernels.inc"
}  // namespace avx2
#pragma GCC pop_options
#else
namespace avx2 = base;
#endif

template <typename T>
void stage1_forward(const T* x, const Dims& d, const T* const* dw_w, T* const* dw_out, T* maxp, T* avgp, T* fr0, T* fr1) {
  return use_avx2() ? avx2::stage1_forward<T>(x, d, dw_w, dw_out, maxp, avgp, fr0, fr1) : base::stage1_forward<T>(x, d, dw_w, dw_out, maxp, avgp, fr0, fr1);
}

template <typename T>
void bn_stats(const T* z, int64_t N, int64_t C, int64_t HW, double eps, T* mean, T* invstd, T* var_unbiased) {
  return use_avx2() ? avx2::bn_stats<T>(z, N, C, HW, eps, mean, invstd, var_unbiased) : base::bn_stats<T>(z, N, C, HW, eps, mean, invstd, var_unbiased);
}

template <typename T>
void bn_relu_dw_forward(const T* z, const T* mean, const T* invstd, int64_t N, int64_t C, int64_t H, int64_t W, const T* w, DwSpec spec, T* out) {
  return use_avx2() ? avx2::bn_relu_dw_forward<T>(z, mean, invstd, N, C, H, W, w, spec, out) : base::bn_relu_dw_forward<T>(z, mean, invstd, N, C, H, W, w, spec, out);
}

template <typename T>
void mix_forward(const T* const* z, const T* const* mean, const T* const* invstd, const T* wk, int K, int64_t N, int64_t C, int64_t HW, T* out) {
  return use_avx2() ? avx2::mix_forward<T>(z, mean, invstd, wk, K, N, C, HW, out) : base::mix_forward<T>(z, mean, invstd, wk, K, N, C, HW, out);
}

template <typename T>
void bn_backward(const T* g, const T* z, const T* mean, const T* invstd, T scale, bool relu_mask, bool training, int64_t N, int64_t C, int64_t HW, T* dz, double* sum_gy) {
  return use_avx2() ? avx2::bn_backward<T>(g, z, mean, invstd, scale, relu_mask, training, N, C, HW, dz, sum_gy) : base::bn_backward<T>(g, z, mean, invstd, scale, relu_mask, training, N, C, HW, dz, sum_gy);
}

template <typename T>
void bn_relu_dw_backward(const T* gout, const T* z, const T* mean, const T* invstd, int64_t N, int64_t C, int64_t H, int64_t W, const T* w, DwSpec spec, T* ga, T* dw) {
  return use_avx2() ? avx2::bn_relu_dw_backward<T>(gout, z, mean, invstd, N, C, H, W, w, spec, ga, dw) : base::bn_relu_dw_backward<T>(gout, z, mean, invstd, N, C, H, W, w, spec, ga, dw);
}

template <typename T>
void stage1_backward(const T* x, const Dims& d, const T* const* dw_w, const T* const* g_dw, const T* g_max, const T* g_avg, const T* g_fr0, const T* g_fr1, const T* g_skip, T skip_w, T* gx, T* const* dw_grad) {
  return use_avx2() ? avx2::stage1_backward<T>(x, d, dw_w, g_dw, g_max, g_avg, g_fr0, g_fr1, g_skip, skip_w, gx, dw_grad) : base::stage1_backward<T>(x, d, dw_w, g_dw, g_max, g_avg, g_fr0, g_fr1, g_skip, skip_w, gx, dw_grad);
}

template <typename T>
void to_nhwc(const T* src, int64_t N, int64_t C, int64_t P, T* dst) {
  return use_avx2() ? avx2::to_nhwc<T>(src, N, C, P, dst) : base::to_nhwc<T>(src, N, C, P, dst);
}

template <typename T>
void to_nchw(const T* src, int64_t N, int64_t C, int64_t P, T* dst) {
  return use_avx2() ? avx2::to_nchw<T>(src, N, C, P, dst) : base::to_nchw<T>(src, N, C, P, dst);
}

template <typename T>
bool gemm_rows(const T* a, int64_t lda, int64_t M, int64_t I, const T* b, int64_t J, T* out,
               int64_t ldo) {
  return use_avx2() ? avx2::gemm_rows<T>(a, lda, M, I, b, J, out, ldo)
                    : base::gemm_rows<T>(a, lda, M, I, b, J, out, ldo);
}

#define NASFAST_DARTS_EDGE_NHWC_INSTANTIATE(T)                                                    \
  template void stage1_forward<T>(const T*, const Dims&, const T* const*, T* const*, T*, T*, T*, \
                                  T*);                                                            \
  template void bn_stats<T>(const T*, int64_t, int64_t, int64_t, double, T*, T*, T*);             \
  template void bn_relu_dw_forward<T>(const T*, const T*, const T*, int64_t, int64_t, int64_t,    \
                                      int64_t, const T*, DwSpec, T*);                             \
  template void mix_forward<T>(const T* const*, const T* const*, const T* const*, const T*, int,  \
                               int64_t, int64_t, int64_t, T*);                                    \
  template void bn_backward<T>(const T*, const T*, const T*, const T*, T, bool, bool, int64_t,    \
                               int64_t, int64_t, T*, double*);                                    \
  template void bn_relu_dw_backward<T>(const T*, const T*, const T*, const T*, int64_t, int64_t,  \
                                       int64_t, int64_t, const T*, DwSpec, T*, T*);               \
  template void stage1_backward<T>(const T*, const Dims&, const T* const*, const T* const*,       \
                                   const T*, const T*, const T*, const T*, const T*, T, T*,       \
                                   T* const*);                                                    \
  template bool gemm_rows<T>(const T*, int64_t, int64_t, int64_t, const T*, int64_t, T*,          \
                             int64_t);                                                            \
  template void to_nhwc<T>(const T*, int64_t, int64_t, int64_t, T*);                              \
  template void to_nchw<T>(const T*, int64_t, int64_t, int64_t, T*);

NASFAST_DARTS_EDGE_NHWC_INSTANTIATE(float)
NASFAST_DARTS_EDGE_NHWC_INSTANTIATE(double)

}  // namespace nasfast::darts_edge::cpu::nhwc

// Channels-innermost CPU kernels of the fused DARTS edge. See darts_edge_nhwc.h.
#include "ops/darts_edge/cpu/darts_edge_nhwc.h"

#include "common/cpu_buffer_cache.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

namespace nasfast::darts_edge::cpu::nhwc {

namespace base {
#include "ops/darts_edge/cpu/darts_edge_cpu_simd.inc"
#include "ops/darts_edge/cpu/darts_edge_nhwc_planes.inc"
#include "ops/darts_edge/cpu/darts_edge_nhwc_conv.inc"
#include "ops/darts_edge/cpu/darts_edge_nhwc_pool.inc"
#include "ops/darts_edge/cpu/darts_edge_nhwc_kernels.inc"
#include "ops/darts_edge/cpu/darts_edge_nhwc_matrix.inc"
}  // namespace base

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#pragma GCC optimize("fp-contract=fast")
// Pixel copies are short (one channel group): gcc turned them into a memmove call per pixel.
#pragma GCC optimize("no-tree-loop-distribute-patterns")
namespace avx2 {
#include "ops/darts_edge/cpu/darts_edge_cpu_simd.inc"
#include "ops/darts_edge/cpu/darts_edge_nhwc_planes.inc"
#include "ops/darts_edge/cpu/darts_edge_nhwc_conv.inc"
#include "ops/darts_edge/cpu/darts_edge_nhwc_pool.inc"
#include "ops/darts_edge/cpu/darts_edge_nhwc_kernels.inc"
#include "ops/darts_edge/cpu/darts_edge_nhwc_matrix.inc"
}  // namespace avx2
#pragma GCC pop_options
#else
namespace avx2 = base;
#endif

#include "ops/darts_edge/cpu/darts_edge_kernels_dispatch.inc"

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

template <typename T>
bool gemm_tn(const T* a, int64_t lda, const T* b, int64_t ldb, int64_t M, int64_t I, int64_t J,
             T* out) {
  return use_avx2() ? avx2::gemm_tn<T>(a, lda, b, ldb, M, I, J, out)
                    : base::gemm_tn<T>(a, lda, b, ldb, M, I, J, out);
}

template <typename T>
bool gemm_grads(const T* dz, int64_t ldz, int64_t M, int64_t Co, const T* w, int64_t Ci, T* din,
                int64_t ldd, const T* in, int64_t ldi, T* gw) {
  return use_avx2() ? avx2::gemm_grads<T>(dz, ldz, M, Co, w, Ci, din, ldd, in, ldi, gw)
                    : base::gemm_grads<T>(dz, ldz, M, Co, w, Ci, din, ldd, in, ldi, gw);
}

template <typename T>
bool bn_gemm_grads(const BnGrad<T>& f, int64_t M, int64_t Co, const T* w, int64_t Ci, T* din,
                   int64_t ldd, const T* in, int64_t ldi, T* gw) {
  return use_avx2() ? avx2::bn_gemm_grads<T>(f, M, Co, w, Ci, din, ldd, in, ldi, gw)
                    : base::bn_gemm_grads<T>(f, M, Co, w, Ci, din, ldd, in, ldi, gw);
}

template <typename T>
void bn_backward_coef(const T* g, const T* z, const T* mean, const T* invstd, T scale,
                      bool relu_mask, bool training, int64_t N, int64_t C, int64_t HW, T* coef) {
  return use_avx2() ? avx2::bn_backward_coef<T>(g, z, mean, invstd, scale, relu_mask, training, N,
                                                C, HW, coef)
                    : base::bn_backward_coef<T>(g, z, mean, invstd, scale, relu_mask, training, N,
                                                C, HW, coef);
}

template <typename T>
void bn_backward_final(const T* g, int K, const T* const* z, const T* const* mean,
                       const T* const* invstd, const T* scale, bool training, int64_t N,
                       int64_t C, int64_t HW, T* const* dz, double* const* sum_gy,
                       T* const* coef, const double* const* gy) {
  return use_avx2() ? avx2::bn_backward_final<T>(g, K, z, mean, invstd, scale, training, N, C, HW,
                                                 dz, sum_gy, coef, gy)
                    : base::bn_backward_final<T>(g, K, z, mean, invstd, scale, training, N, C, HW,
                                                 dz, sum_gy, coef, gy);
}

template <typename T>
void stage1_forward_pool_sums(const T* x, const Dims& d, const T* const* dw_w, T* const* dw_out,
                              T* fr0, T* fr1, const PoolGySums<T>& ps) {
  return use_avx2() ? avx2::stage1_forward_pool_sums<T>(x, d, dw_w, dw_out, fr0, fr1, ps)
                    : base::stage1_forward_pool_sums<T>(x, d, dw_w, dw_out, fr0, fr1, ps);
}

template <typename T>
void stage1_backward_pool_bn(const T* x, const Dims& d, const T* const* dw_w,
                             const T* const* g_dw, const PoolBnGrads<T>& pools, const T* g_fr0,
                             const T* g_fr1, const T* g_skip, T skip_w, T* gx,
                             T* const* dw_grad) {
  return use_avx2() ? avx2::stage1_backward_pool_bn<T>(x, d, dw_w, g_dw, pools, g_fr0, g_fr1,
                                                       g_skip, skip_w, gx, dw_grad)
                    : base::stage1_backward_pool_bn<T>(x, d, dw_w, g_dw, pools, g_fr0, g_fr1,
                                                       g_skip, skip_w, gx, dw_grad);
}

template <typename T>
void bn_relu_dw_backward_coef(const T* gout, const T* z, const T* mean, const T* invstd,
                              int64_t N, int64_t C, int64_t H, int64_t W, const T* w,
                              DwSpec spec, bool training, T* ga, T* dw, T* coef) {
  return use_avx2() ? avx2::bn_relu_dw_backward_coef<T>(gout, z, mean, invstd, N, C, H, W, w,
                                                        spec, training, ga, dw, coef)
                    : base::bn_relu_dw_backward_coef<T>(gout, z, mean, invstd, N, C, H, W, w,
                                                        spec, training, ga, dw, coef);
}

#define NASFAST_DARTS_EDGE_NHWC_INSTANTIATE(T)                                                   \
  NASFAST_DARTS_EDGE_KERNELS_INSTANTIATE(T)                                                       \
  template bool gemm_rows<T>(const T*, int64_t, int64_t, int64_t, const T*, int64_t, T*,          \
                             int64_t);                                                            \
  template bool gemm_tn<T>(const T*, int64_t, const T*, int64_t, int64_t, int64_t, int64_t, T*);  \
  template bool gemm_grads<T>(const T*, int64_t, int64_t, int64_t, const T*, int64_t, T*,         \
                              int64_t, const T*, int64_t, T*);                                   \
  template bool bn_gemm_grads<T>(const BnGrad<T>&, int64_t, int64_t, const T*, int64_t, T*,      \
                                 int64_t, const T*, int64_t, T*);                                 \
  template void bn_backward_coef<T>(const T*, const T*, const T*, const T*, T, bool, bool,        \
                                    int64_t, int64_t, int64_t, T*);                               \
  template void bn_backward_final<T>(const T*, int, const T* const*, const T* const*,             \
                                     const T* const*, const T*, bool, int64_t, int64_t, int64_t,  \
                                     T* const*, double* const*, T* const*,                        \
                                     const double* const*);                                       \
  template void stage1_forward_pool_sums<T>(const T*, const Dims&, const T* const*, T* const*,    \
                                            T*, T*, const PoolGySums<T>&);                        \
  template void stage1_backward_pool_bn<T>(const T*, const Dims&, const T* const*,               \
                                           const T* const*, const PoolBnGrads<T>&, const T*,     \
                                           const T*, const T*, T, T*, T* const*);                \
  template void bn_relu_dw_backward_coef<T>(const T*, const T*, const T*, const T*, int64_t,      \
                                            int64_t, int64_t, int64_t, const T*, DwSpec, bool,   \
                                            T*, T*, T*);                                         \
  template void to_nhwc<T>(const T*, int64_t, int64_t, int64_t, T*);                              \
  template void to_nchw<T>(const T*, int64_t, int64_t, int64_t, T*);

NASFAST_DARTS_EDGE_NHWC_INSTANTIATE(float)
NASFAST_DARTS_EDGE_NHWC_INSTANTIATE(double)

}  // namespace nasfast::darts_edge::cpu::nhwc

// The channels-innermost kernels of the fused DARTS edge (darts_edge_nhwc.h): each call goes
// to the copy of darts_edge_nhwc_kernels.cpp compiled for the best ISA this CPU has.
#include "ops/darts_edge/cpu/darts_edge_nhwc.h"

#include "common/cpu_capability.h"

namespace nasfast::darts_edge::cpu::nhwc {
namespace {

template <typename T>
const KernelTable<T>& kernels() {
  static const KernelTable<T>& table =
      cpu_has_avx2() ? avx2::kernel_table<T>() : base::kernel_table<T>();
  return table;
}

}  // namespace

template <typename T>
void stage1_forward(const T* x, const Dims& d, const T* const* dw_w, T* const* dw_out, T* maxp,
                    T* avgp, T* fr0, T* fr1) {
  kernels<T>().stage1_forward(x, d, dw_w, dw_out, maxp, avgp, fr0, fr1);
}

template <typename T>
void bn_stats(const T* z, int64_t N, int64_t C, int64_t HW, double eps, T* mean, T* invstd,
              T* var_unbiased) {
  kernels<T>().bn_stats(z, N, C, HW, eps, mean, invstd, var_unbiased);
}

template <typename T>
void bn_relu_dw_forward(const T* z, const T* mean, const T* invstd, int64_t N, int64_t C, int64_t H,
                        int64_t W, const T* w, DwSpec spec, T* out) {
  kernels<T>().bn_relu_dw_forward(z, mean, invstd, N, C, H, W, w, spec, out);
}

template <typename T>
void mix_forward(const T* const* z, const T* const* mean, const T* const* invstd, const T* wk,
                 int K, int64_t N, int64_t C, int64_t HW, T* out) {
  kernels<T>().mix_forward(z, mean, invstd, wk, K, N, C, HW, out);
}

template <typename T>
void bn_backward(const T* g, const T* z, const T* mean, const T* invstd, T scale, bool relu_mask,
                 bool training, int64_t N, int64_t C, int64_t HW, T* dz, double* sum_gy) {
  kernels<T>().bn_backward(g, z, mean, invstd, scale, relu_mask, training, N, C, HW, dz, sum_gy);
}

template <typename T>
void bn_relu_dw_backward(const T* gout, const T* z, const T* mean, const T* invstd, int64_t N,
                         int64_t C, int64_t H, int64_t W, const T* w, DwSpec spec, T* ga, T* dw) {
  kernels<T>().bn_relu_dw_backward(gout, z, mean, invstd, N, C, H, W, w, spec, ga, dw);
}

template <typename T>
void stage1_backward(const T* x, const Dims& d, const T* const* dw_w, const T* const* g_dw,
                     const T* g_max, const T* g_avg, const T* g_fr0, const T* g_fr1,
                     const T* g_skip, T skip_w, T* gx, T* const* dw_grad) {
  kernels<T>().stage1_backward(x, d, dw_w, g_dw, g_max, g_avg, g_fr0, g_fr1, g_skip, skip_w, gx,
                               dw_grad);
}

template <typename T>
void to_nhwc(const T* src, int64_t N, int64_t C, int64_t P, T* dst) {
  return kernels<T>().to_nhwc(src, N, C, P, dst);
}

template <typename T>
void to_nchw(const T* src, int64_t N, int64_t C, int64_t P, T* dst) {
  return kernels<T>().to_nchw(src, N, C, P, dst);
}

template <typename T>
bool gemm_rows(const T* a, int64_t lda, int64_t M, int64_t I, const T* b, int64_t J, T* out,
               int64_t ldo) {
  return kernels<T>().gemm_rows(a, lda, M, I, b, J, out, ldo);
}

template <typename T>
bool gemm_tn(const T* a, int64_t lda, const T* b, int64_t ldb, int64_t M, int64_t I, int64_t J,
             T* out) {
  return kernels<T>().gemm_tn(a, lda, b, ldb, M, I, J, out);
}

template <typename T>
bool gemm_grads(const T* dz, int64_t ldz, int64_t M, int64_t Co, const T* w, int64_t Ci, T* din,
                int64_t ldd, const T* in, int64_t ldi, T* gw) {
  return kernels<T>().gemm_grads(dz, ldz, M, Co, w, Ci, din, ldd, in, ldi, gw);
}

template <typename T>
bool bn_gemm_grads(const BnGrad<T>& f, int64_t M, int64_t Co, const T* w, int64_t Ci, T* din,
                   int64_t ldd, const T* in, int64_t ldi, T* gw) {
  return kernels<T>().bn_gemm_grads(f, M, Co, w, Ci, din, ldd, in, ldi, gw);
}

template <typename T>
void bn_backward_coef(const T* g, const T* z, const T* mean, const T* invstd, T scale,
                      bool relu_mask, bool training, int64_t N, int64_t C, int64_t HW, T* coef) {
  return kernels<T>().bn_backward_coef(g, z, mean, invstd, scale, relu_mask, training, N, C, HW,
                                       coef);
}

template <typename T>
void bn_backward_final(const T* g, int K, const T* const* z, const T* const* mean,
                       const T* const* invstd, const T* scale, bool training, int64_t N, int64_t C,
                       int64_t HW, T* const* dz, double* const* sum_gy, T* const* coef,
                       const double* const* gy) {
  return kernels<T>().bn_backward_final(g, K, z, mean, invstd, scale, training, N, C, HW, dz,
                                        sum_gy, coef, gy);
}

template <typename T>
void stage1_forward_pool_sums(const T* x, const Dims& d, const T* const* dw_w, T* const* dw_out,
                              T* fr0, T* fr1, const PoolGySums<T>& ps) {
  return kernels<T>().stage1_forward_pool_sums(x, d, dw_w, dw_out, fr0, fr1, ps);
}

template <typename T>
void stage1_backward_pool_bn(const T* x, const Dims& d, const T* const* dw_w, const T* const* g_dw,
                             const PoolBnGrads<T>& pools, const T* g_fr0, const T* g_fr1,
                             const T* g_skip, T skip_w, T* gx, T* const* dw_grad) {
  return kernels<T>().stage1_backward_pool_bn(x, d, dw_w, g_dw, pools, g_fr0, g_fr1, g_skip, skip_w,
                                              gx, dw_grad);
}

template <typename T>
void bn_relu_dw_backward_coef(const T* gout, const T* z, const T* mean, const T* invstd, int64_t N,
                              int64_t C, int64_t H, int64_t W, const T* w, DwSpec spec,
                              bool training, T* ga, T* dw, T* coef) {
  return kernels<T>().bn_relu_dw_backward_coef(gout, z, mean, invstd, N, C, H, W, w, spec, training,
                                               ga, dw, coef);
}

#define NASFAST_DARTS_EDGE_NHWC_INSTANTIATE(T)                                                     \
  template void stage1_forward<T>(const T*, const Dims&, const T* const*, T* const*, T*, T*, T*,   \
                                  T*);                                                             \
  template void bn_stats<T>(const T*, int64_t, int64_t, int64_t, double, T*, T*, T*);              \
  template void bn_relu_dw_forward<T>(const T*, const T*, const T*, int64_t, int64_t, int64_t,     \
                                      int64_t, const T*, DwSpec, T*);                              \
  template void mix_forward<T>(const T* const*, const T* const*, const T* const*, const T*, int,   \
                               int64_t, int64_t, int64_t, T*);                                     \
  template void bn_backward<T>(const T*, const T*, const T*, const T*, T, bool, bool, int64_t,     \
                               int64_t, int64_t, T*, double*);                                     \
  template void bn_relu_dw_backward<T>(const T*, const T*, const T*, const T*, int64_t, int64_t,   \
                                       int64_t, int64_t, const T*, DwSpec, T*, T*);                \
  template void stage1_backward<T>(const T*, const Dims&, const T* const*, const T* const*,        \
                                   const T*, const T*, const T*, const T*, const T*, T, T*,        \
                                   T* const*);                                                     \
  template bool gemm_rows<T>(const T*, int64_t, int64_t, int64_t, const T*, int64_t, T*, int64_t); \
  template bool gemm_tn<T>(const T*, int64_t, const T*, int64_t, int64_t, int64_t, int64_t, T*);   \
  template bool gemm_grads<T>(const T*, int64_t, int64_t, int64_t, const T*, int64_t, T*, int64_t, \
                              const T*, int64_t, T*);                                              \
  template bool bn_gemm_grads<T>(const BnGrad<T>&, int64_t, int64_t, const T*, int64_t, T*,        \
                                 int64_t, const T*, int64_t, T*);                                  \
  template void bn_backward_coef<T>(const T*, const T*, const T*, const T*, T, bool, bool,         \
                                    int64_t, int64_t, int64_t, T*);                                \
  template void bn_backward_final<T>(const T*, int, const T* const*, const T* const*,              \
                                     const T* const*, const T*, bool, int64_t, int64_t, int64_t,   \
                                     T* const*, double* const*, T* const*, const double* const*);  \
  template void stage1_forward_pool_sums<T>(const T*, const Dims&, const T* const*, T* const*, T*, \
                                            T*, const PoolGySums<T>&);                             \
  template void stage1_backward_pool_bn<T>(const T*, const Dims&, const T* const*,                 \
                                           const T* const*, const PoolBnGrads<T>&, const T*,       \
                                           const T*, const T*, T, T*, T* const*);                  \
  template void bn_relu_dw_backward_coef<T>(const T*, const T*, const T*, const T*, int64_t,       \
                                            int64_t, int64_t, int64_t, const T*, DwSpec, bool, T*, \
                                            T*, T*);                                               \
  template void to_nhwc<T>(const T*, int64_t, int64_t, int64_t, T*);                               \
  template void to_nchw<T>(const T*, int64_t, int64_t, int64_t, T*);

NASFAST_DARTS_EDGE_NHWC_INSTANTIATE(float)
NASFAST_DARTS_EDGE_NHWC_INSTANTIATE(double)

}  // namespace nasfast::darts_edge::cpu::nhwc

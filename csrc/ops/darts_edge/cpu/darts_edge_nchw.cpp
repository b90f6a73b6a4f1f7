// The NCHW kernels of the fused DARTS edge (darts_edge_nchw.h): each call goes to the copy of
// darts_edge_nchw_kernels.cpp compiled for the best ISA this CPU has.
#include "ops/darts_edge/cpu/darts_edge_nchw.h"

#include "common/cpu_capability.h"

namespace nasfast::darts_edge::cpu::nchw {
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
void pointwise(const T* w, int64_t ws_co, int64_t ws_ci, const T* in, int64_t in_bstride, int64_t N,
               int64_t Co, int64_t Ci, int64_t P, T* out, int64_t out_bstride) {
  kernels<T>().pointwise(w, ws_co, ws_ci, in, in_bstride, N, Co, Ci, P, out, out_bstride);
}

template <typename T>
double dot(const T* a, const T* b, int64_t n) {
  return kernels<T>().dot(a, b, n);
}

#define NASFAST_DARTS_EDGE_NCHW_INSTANTIATE(T)                                                   \
  template void stage1_forward<T>(const T*, const Dims&, const T* const*, T* const*, T*, T*, T*, \
                                  T*);                                                           \
  template void bn_stats<T>(const T*, int64_t, int64_t, int64_t, double, T*, T*, T*);            \
  template void bn_relu_dw_forward<T>(const T*, const T*, const T*, int64_t, int64_t, int64_t,   \
                                      int64_t, const T*, DwSpec, T*);                            \
  template void mix_forward<T>(const T* const*, const T* const*, const T* const*, const T*, int, \
                               int64_t, int64_t, int64_t, T*);                                   \
  template void bn_backward<T>(const T*, const T*, const T*, const T*, T, bool, bool, int64_t,   \
                               int64_t, int64_t, T*, double*);                                   \
  template void bn_relu_dw_backward<T>(const T*, const T*, const T*, const T*, int64_t, int64_t, \
                                       int64_t, int64_t, const T*, DwSpec, T*, T*);              \
  template void stage1_backward<T>(const T*, const Dims&, const T* const*, const T* const*,      \
                                   const T*, const T*, const T*, const T*, const T*, T, T*,      \
                                   T* const*);                                                   \
  template void pointwise<T>(const T*, int64_t, int64_t, const T*, int64_t, int64_t, int64_t,    \
                             int64_t, int64_t, T*, int64_t);                                     \
  template double dot<T>(const T*, const T*, int64_t);

NASFAST_DARTS_EDGE_NCHW_INSTANTIATE(float)
NASFAST_DARTS_EDGE_NCHW_INSTANTIATE(double)

}  // namespace nasfast::darts_edge::cpu::nchw

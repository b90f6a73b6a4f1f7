#pragma once
// CPU kernels of the fused DARTS edge in the channels-innermost layout: the same functions and
// contracts as darts_edge_cpu.h, with every tensor argument [N, H, W, C] instead of
// [N, C, H, W] (weights and statistics keep their layouts). C must be a multiple of
// nhwc::lanes<T>() (one 32-byte vector). The edge picks this layout where planes are small
// (see darts_edge_layout.h); its 1x1 convs are then plain GEMMs over [N * H * W, C].
#include <cstdint>

#include "ops/darts_edge/cpu/darts_edge_cpu.h"

namespace nasfast::darts_edge::cpu::nhwc {

template <typename T>
constexpr int64_t lanes() {
  return 32 / static_cast<int64_t>(sizeof(T));
}

template <typename T>
void stage1_forward(const T* x, const Dims& d, const T* const* dw_w, T* const* dw_out, T* maxp,
                    T* avgp, T* fr0, T* fr1);
template <typename T>
void bn_stats(const T* z, int64_t N, int64_t C, int64_t HW, double eps, T* mean, T* invstd,
              T* var_unbiased);
template <typename T>
void bn_relu_dw_forward(const T* z, const T* mean, const T* invstd, int64_t N, int64_t C,
                        int64_t H, int64_t W, const T* w, DwSpec spec, T* out);
template <typename T>
void mix_forward(const T* const* z, const T* const* mean, const T* const* invstd, const T* wk,
                 int K, int64_t N, int64_t C, int64_t HW, T* out);
template <typename T>
void bn_backward(const T* g, const T* z, const T* mean, const T* invstd, T scale, bool relu_mask,
                 bool training, int64_t N, int64_t C, int64_t HW, T* dz, double* sum_gy);
template <typename T>
void bn_relu_dw_backward(const T* gout, const T* z, const T* mean, const T* invstd, int64_t N,
                         int64_t C, int64_t H, int64_t W, const T* w, DwSpec spec, T* ga, T* dw);
template <typename T>
void stage1_backward(const T* x, const Dims& d, const T* const* dw_w, const T* const* g_dw,
                     const T* g_max, const T* g_avg, const T* g_fr0, const T* g_fr1,
                     const T* g_skip, T skip_w, T* gx, T* const* dw_grad);

// out[m, :] = a[m, :] b for m < M (a [M, I] with rows lda apart, b [I, J] row-major, out rows
// ldo apart), for the 1x1 convs with few output channels, where the vendor GEMM spends more on
// packing than on arithmetic. Returns false (nothing done) unless J is 1, 2 or 4 vectors.
template <typename T>
bool gemm_rows(const T* a, int64_t lda, int64_t M, int64_t I, const T* b, int64_t J, T* out,
               int64_t ldo);

// Layout changes of [N, C, P] data: dst [N, P, C] (to_nhwc) or back (to_nchw).
template <typename T>
void to_nhwc(const T* src, int64_t N, int64_t C, int64_t P, T* dst);
template <typename T>
void to_nchw(const T* src, int64_t N, int64_t C, int64_t P, T* dst);

}  // namespace nasfast::darts_edge::cpu::nhwc

#pragma once
// CPU kernels of the fused DARTS edge (nasfast::darts_edge_*), on raw contiguous NCHW buffers.
//
// Naming: "plane" = one [H, W] image of one (sample, channel). Depthwise convolutions have
// kernel k, padding p, dilation d and stride s; every conv/pool here maps H to Ho = (H - 1) / s + 1.
// Reductions over a channel run inside one task in a fixed order, so these kernels' results do
// not depend on the thread count. (The op's 1x1-conv weight gradients go through at::bmm in
// darts_edge_impl.h, whose summation order is the BLAS library's.)
#include <cstdint>

namespace nasfast::darts_edge::cpu {

// Whether the AVX2+FMA build of the kernels runs here (checked once).
bool use_avx2();

struct DwSpec {
  int k, p, d;
};
// The first depthwise stage of sep_conv_3x3, sep_conv_5x5, dil_conv_3x3, dil_conv_5x5.
inline constexpr DwSpec kStage1[4] = {{3, 1, 1}, {5, 2, 1}, {3, 2, 2}, {5, 4, 2}};

struct Dims {
  int64_t N, C, H, W, s, Ho, Wo;
};

// One pass over x: r = relu(x) per plane, the four strided depthwise convs of r (dw_out[b],
// weights dw_w[b] of [C, k*k]), max_pool_3x3 and avg_pool_3x3 (count_include_pad=False) of x,
// and at stride 2 the FactorizedReduce inputs fr0 = r[::2, ::2], fr1 = r[1::2, 1::2].
// Any output pointer may be null (not computed).
template <typename T>
void stage1_forward(const T* x, const Dims& d, const T* const* dw_w, T* const* dw_out, T* maxp,
                    T* avgp, T* fr0, T* fr1);

// Per-channel batch statistics of z [N, C, HW]: mean, 1/sqrt(var_biased + eps), var_unbiased.
template <typename T>
void bn_stats(const T* z, int64_t N, int64_t C, int64_t HW, double eps, T* mean, T* invstd,
              T* var_unbiased);

// out = dw(relu((z - mean) * invstd)), stride 1, weights [C, k*k]; planes of [H, W].
template <typename T>
void bn_relu_dw_forward(const T* z, const T* mean, const T* invstd, int64_t N, int64_t C,
                        int64_t H, int64_t W, const T* w, DwSpec spec, T* out);

// out = sum_k wk[k] * ((z[k] - mean[k][c]) * invstd[k][c]), summed in k order. A null mean[k]
// means mean 0 and invstd 1 (the identity skip_connect).
template <typename T>
void mix_forward(const T* const* z, const T* const* mean, const T* const* invstd, const T* wk,
                 int K, int64_t N, int64_t C, int64_t HW, T* out);

// BatchNorm backward for y = (z - mean) * invstd, upstream gradient scale * g (times the mask
// y > 0 when relu_mask). training: dz = invstd * (g' - mean(g') - y * mean(g' y)); eval:
// dz = invstd * g'. sum_gy[c] (may be null) receives sum over (n, hw) of g * y (unscaled).
template <typename T>
void bn_backward(const T* g, const T* z, const T* mean, const T* invstd, T scale, bool relu_mask,
                 bool training, int64_t N, int64_t C, int64_t HW, T* dz, double* sum_gy);

// Backward of out = dw(relu((z - mean) * invstd)): ga = grad w.r.t. the relu output, dw [C, k*k]
// (null: not computed).
template <typename T>
void bn_relu_dw_backward(const T* gout, const T* z, const T* mean, const T* invstd, int64_t N,
                         int64_t C, int64_t H, int64_t W, const T* w, DwSpec spec, T* ga, T* dw);

// Backward of stage1_forward plus the skip path: gx = relu'(x) * (sum_b dw_b^T g_dw[b] + FR
// scatter of g_fr0/g_fr1) + maxpool^T g_max + avgpool^T g_avg + skip_w * g_skip (stride 1).
// Weight grads dw_grad[b] [C, k*k] are overwritten. Null pointers (g_dw[b] or dw_grad[b]) are
// skipped.
template <typename T>
void stage1_backward(const T* x, const Dims& d, const T* const* dw_w, const T* const* g_dw,
                     const T* g_max, const T* g_avg, const T* g_fr0, const T* g_fr1,
                     const T* g_skip, T skip_w, T* gx, T* const* dw_grad);

// 1x1 conv: out[n, co, p] = sum_ci w[co * ws_co + ci * ws_ci] * in[n, ci, p]; samples are
// in_bstride / out_bstride elements apart (channel rows are P apart). ws_* are the strides of w,
// so (ws_co, ws_ci) = (1, Co) applies the transpose of a [Ci, Co] matrix.
template <typename T>
void pointwise(const T* w, int64_t ws_co, int64_t ws_ci, const T* in, int64_t in_bstride,
               int64_t N, int64_t Co, int64_t Ci, int64_t P, T* out, int64_t out_bstride);

// sum over all elements of a * b, in a fixed blocked order (double accumulator).
template <typename T>
double dot(const T* a, const T* b, int64_t n);

}  // namespace nasfast::darts_edge::cpu

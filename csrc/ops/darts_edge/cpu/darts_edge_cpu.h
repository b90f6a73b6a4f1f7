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

// One BatchNorm of a batched bn_backward (the CUDA launcher bn_backward_batch): the arguments of
// bn_backward that differ between the BatchNorms of an edge. scale_ptr, when not null, points
// at the scale in device memory; dz and sum_gy may be null; null mean and invstd stand for the
// identity y = z (the skip connection, whose weight gradient is sum g * z).
template <typename T>
struct BnBackwardItem {
  const T* z;
  const T* mean;
  const T* invstd;
  T scale;
  const T* scale_ptr;
  T* dz;
  double* sum_gy;
};

#include "ops/darts_edge/cpu/darts_edge_kernels_decl.inc"

// 1x1 conv: out[n, co, p] = sum_ci w[co * ws_co + ci * ws_ci] * in[n, ci, p]; samples are
// in_bstride / out_bstride elements apart (channel rows are P apart). ws_* are the strides of w,
// so (ws_co, ws_ci) = (1, Co) applies the transpose of a [Ci, Co] matrix.
template <typename T>
void pointwise(const T* w, int64_t ws_co, int64_t ws_ci, const T* in, int64_t in_bstride,
               int64_t N, int64_t Co, int64_t Ci, int64_t P, T* out, int64_t out_bstride);

// sum over all elements of a * b: blocks of 4096 summed in T, the block sums added in double in
// block order (so independent of the thread count).
template <typename T>
double dot(const T* a, const T* b, int64_t n);

}  // namespace nasfast::darts_edge::cpu

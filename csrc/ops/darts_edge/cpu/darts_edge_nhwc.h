#pragma once
// CPU kernels of the fused DARTS edge in the channels-innermost layout: the same functions and
// contracts as darts_edge_nchw.h (darts_edge_kernels_decl.inc), with every tensor argument
// [N, H, W, C] in memory instead of [N, C, H, W] (weights and statistics keep their layouts).
// C must be a multiple of nhwc::lanes<T>() (one 32-byte vector). The edge picks this layout
// from 16 channels (darts_edge_layout.h); its 1x1 convs are then GEMMs over [N * H * W, C].
#include <cstdint>

#include "ops/darts_edge/cpu/darts_edge_kernel_types.h"

namespace nasfast::darts_edge::cpu::nhwc {

template <typename T>
constexpr int64_t lanes() {
  return 32 / static_cast<int64_t>(sizeof(T));
}

#include "ops/darts_edge/cpu/darts_edge_kernels_decl.inc"

// out[m, :] = a[m, :] b for m < M (a [M, I] with rows lda apart, b [I, J] row-major, out rows
// ldo apart), for the 1x1 convs of a DARTS edge, where the vendor GEMM spends much of its time
// packing. Returns false (nothing done) unless J is 1 to 16 whole vectors and I <= 256.
template <typename T>
bool gemm_rows(const T* a, int64_t lda, int64_t M, int64_t I, const T* b, int64_t J, T* out,
               int64_t ldo);

// out [I, J] (row-major) = a^T b over M rows (a [M, I], b [M, J], rows lda / ldb apart): the
// 1x1-conv weight gradient, summed over fixed chunks of rows in a fixed order (so independent of
// the thread count). Returns false (nothing done) unless J is 1 to 16 whole vectors and I <= 256.
// The op computes it inside gemm_grads; this standalone form is its reference in the C++ tests.
template <typename T>
bool gemm_tn(const T* a, int64_t lda, const T* b, int64_t ldb, int64_t M, int64_t I, int64_t J,
             T* out);

// Both gradients of a 1x1 conv in one pass over dz's rows: din [M, Ci] (rows ldd apart) = dz w
// (dz [M, Co] rows ldz apart, w [Co, Ci] row-major) and, unless gw is null, gw [Co, Ci] =
// dz^T in (in [M, Ci] rows ldi apart). The values are those of gemm_rows and gemm_tn. Returns
// false (nothing done) for the sizes gemm_rows does not take.
template <typename T>
bool gemm_grads(const T* dz, int64_t ldz, int64_t M, int64_t Co, const T* w, int64_t Ci, T* din,
                int64_t ldd, const T* in, int64_t ldi, T* gw);

// The input gradient of a BatchNorm (batch mean, invstd) that bn_backward writes into dz, as a
// per-channel map of the output gradient g: dz = coef[c] * (g' - coef[C + c] - y * coef[2C + c]),
// y = (z - mean) * invstd, g' = g, or 0 where y <= 0 with relu_mask (the BatchNorm feeds a ReLU).
// g and z are [M, C] (rows C apart); coef [3, C] comes from bn_backward_coef or
// bn_backward_final.
template <typename T>
struct BnGrad {
  const T* g;
  const T* z;
  const T* mean;
  const T* invstd;
  const T* coef;
  bool relu_mask;
};

// bn_backward's channel sums, kept as coefficients (coef [3, C], see BnGrad) instead of applied.
template <typename T>
void bn_backward_coef(const T* g, const T* z, const T* mean, const T* invstd, T scale,
                      bool relu_mask, bool training, int64_t N, int64_t C, int64_t HW, T* coef);

// bn_relu_dw_backward, and the coefficients [3, C] (see BnGrad) of the input gradient of the
// BatchNorm before its ReLU for the output gradient ga (bn_backward_coef with relu_mask and
// scale 1): the channel sums taken from each plane of ga as it is written, not in another pass.
template <typename T>
void bn_relu_dw_backward_coef(const T* gout, const T* z, const T* mean, const T* invstd, int64_t N,
                              int64_t C, int64_t H, int64_t W, const T* w, DwSpec spec,
                              bool training, T* ga, T* dw, T* coef);

// gemm_grads of dz = f (Co channels), each row chunk of dz formed from f where the GEMMs read
// it, never written out. The values are those of bn_backward then gemm_grads. Returns false
// (nothing done) for the sizes gemm_rows does not take.
template <typename T>
bool bn_gemm_grads(const BnGrad<T>& f, int64_t M, int64_t Co, const T* w, int64_t Ci, T* din,
                   int64_t ldd, const T* in, int64_t ldi, T* gw);

// Whether the own GEMMs (gemm_rows, gemm_grads, bn_gemm_grads) take I input and J output
// channels.
template <typename T>
constexpr bool own_gemm_size(int64_t I, int64_t J) {
  return J % lanes<T>() == 0 && J <= 16 * lanes<T>() && I <= 256;
}

// bn_backward (relu_mask false) for the K final BatchNorms of the weighted sum, which share the
// output gradient g (slot k's is scale[k] * g): one pass over g and every z[k] for the channel
// sums, one for every dz[k]; the values are those of K bn_backward calls. dz[k] or sum_gy[k] may
// be null (not wanted); a non-null coef[k] receives slot k's coefficients (see BnGrad). A null
// z[k] (then dz[k] null too) takes slot k's sums of g * y from gy[k] ([C], as PoolGySums gives).
template <typename T>
void bn_backward_final(const T* g, int K, const T* const* z, const T* const* mean,
                       const T* const* invstd, const T* scale, bool training, int64_t N, int64_t C,
                       int64_t HW, T* const* dz, double* const* sum_gy, T* const* coef,
                       const double* const* gy);

// For the backward's recompute of the first stage (stage1_forward_pool_sums): instead of the
// pools (k = 0 max, 1 avg), their BatchNorms' per-channel sums of g * y, y = (pool - mean[k]) *
// invstd[k], g the edge's output gradient ([N, Ho, Wo, C]), added into sums[k] ([C], double; null:
// pool k not wanted). bn_backward_final then needs no pool tensors.
template <typename T>
struct PoolGySums {
  const T* g;
  const T* mean[2];
  const T* invstd[2];
  double* sums[2];
};

// stage1_forward without writing the pools: their PoolGySums instead.
template <typename T>
void stage1_forward_pool_sums(const T* x, const Dims& d, const T* const* dw_w, T* const* dw_out,
                              T* fr0, T* fr1, const PoolGySums<T>& ps);

// The output gradients of the pools (max, then avg) as the input gradients of their
// BatchNorms, for stage1_backward_pool_bn: as BnGrad with the edge's output gradient g
// ([N, Ho, Wo, C]), z the pool's output (recomputed from x where the pool gradient is formed,
// never read) and coef[k] from bn_backward_final; a null coef[k]: no gradient for pool k.
template <typename T>
struct PoolBnGrads {
  const T* g;
  const T* mean[2];
  const T* invstd[2];
  const T* coef[2];
};

// stage1_backward with the pools' output gradients given as PoolBnGrads instead of tensors: the
// same values as bn_backward_final's dz for the pool slots, then stage1_backward.
template <typename T>
void stage1_backward_pool_bn(const T* x, const Dims& d, const T* const* dw_w, const T* const* g_dw,
                             const PoolBnGrads<T>& pools, const T* g_fr0, const T* g_fr1,
                             const T* g_skip, T skip_w, T* gx, T* const* dw_grad);

// Layout changes of [N, C, P] data: dst [N, P, C] (to_nhwc) or back (to_nchw).
template <typename T>
void to_nhwc(const T* src, int64_t N, int64_t C, int64_t P, T* dst);
template <typename T>
void to_nchw(const T* src, int64_t N, int64_t C, int64_t P, T* dst);

// The kernels above as compiled for one ISA (darts_edge_nhwc_kernels.cpp, once per capability).
template <typename T>
struct KernelTable {
  decltype(&stage1_forward<T>) stage1_forward;
  decltype(&bn_stats<T>) bn_stats;
  decltype(&bn_relu_dw_forward<T>) bn_relu_dw_forward;
  decltype(&mix_forward<T>) mix_forward;
  decltype(&bn_backward<T>) bn_backward;
  decltype(&bn_relu_dw_backward<T>) bn_relu_dw_backward;
  decltype(&stage1_backward<T>) stage1_backward;
  decltype(&gemm_rows<T>) gemm_rows;
  decltype(&gemm_tn<T>) gemm_tn;
  decltype(&gemm_grads<T>) gemm_grads;
  decltype(&bn_gemm_grads<T>) bn_gemm_grads;
  decltype(&bn_backward_coef<T>) bn_backward_coef;
  decltype(&bn_backward_final<T>) bn_backward_final;
  decltype(&stage1_forward_pool_sums<T>) stage1_forward_pool_sums;
  decltype(&stage1_backward_pool_bn<T>) stage1_backward_pool_bn;
  decltype(&bn_relu_dw_backward_coef<T>) bn_relu_dw_backward_coef;
  decltype(&to_nhwc<T>) to_nhwc;
  decltype(&to_nchw<T>) to_nchw;
};
namespace base {
template <typename T>
const KernelTable<T>& kernel_table();
}  // namespace base
namespace avx2 {
template <typename T>
const KernelTable<T>& kernel_table();
}  // namespace avx2

}  // namespace nasfast::darts_edge::cpu::nhwc

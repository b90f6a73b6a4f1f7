#pragma once
// The CPU kernel policy of darts_edge_impl.h, in one layout per instance. darts_edge.cpp runs it;
// the CUDA host emulation's test (tests/cuda_emu) compares the CUDA policy with it.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>

#include "common/cpu_buffer_cache.h"
#include "ops/darts_edge/cpu/darts_edge_cpu.h"
#include "ops/darts_edge/cpu/darts_edge_nhwc.h"

namespace nasfast::darts_edge {

using cpu::Dims;

// The CPU kernels in one layout: NCHW planes (cpu/darts_edge_cpu.h) or channels-innermost
// (cpu/darts_edge_nhwc.h); darts_edge_layout.h picks one per edge.
template <bool ChannelsLast>
struct CpuKernels {
  static constexpr bool kChannelsLast = ChannelsLast;
  // One slot at a time: each BatchNorm reads its input right after it was written (from cache).
  static constexpr bool kBatchBn = false;
  static at::Tensor empty(at::IntArrayRef sizes, const at::TensorOptions& o) {
    return cached_empty(sizes, o);
  }
  template <typename T, typename... A>
  static void stage1_forward(A... a) {
    if constexpr (ChannelsLast) cpu::nhwc::stage1_forward<T>(a...);
    else cpu::stage1_forward<T>(a...);
  }
  // Channels-last only: stage1_forward with the pools' BatchNorm sums instead of the pools
  // (cpu::nhwc::PoolGySums).
  template <typename T, typename... A>
  static void stage1_forward_pool_sums(A... a) {
    cpu::nhwc::stage1_forward_pool_sums<T>(a...);
  }
  template <typename T, typename... A>
  static void bn_stats(A... a) {
    if constexpr (ChannelsLast) cpu::nhwc::bn_stats<T>(a...);
    else cpu::bn_stats<T>(a...);
  }
  template <typename T, typename... A>
  static void bn_relu_dw_forward(A... a) {
    if constexpr (ChannelsLast) cpu::nhwc::bn_relu_dw_forward<T>(a...);
    else cpu::bn_relu_dw_forward<T>(a...);
  }
  // The scale pointers (device copies of the mixing weights) are null on CPU: values suffice.
  template <typename T>
  static void mix_forward(const T* const* z, const T* const* mean, const T* const* invstd,
                          const T* wk, const T* const* /*wk_ptr*/, int K, int64_t N, int64_t C,
                          int64_t HW, T* out) {
    if constexpr (ChannelsLast) cpu::nhwc::mix_forward<T>(z, mean, invstd, wk, K, N, C, HW, out);
    else cpu::mix_forward<T>(z, mean, invstd, wk, K, N, C, HW, out);
  }
  template <typename T>
  static void bn_backward(const T* g, const T* z, const T* mean, const T* invstd, T scale,
                          const T* /*scale_ptr*/, bool relu_mask, bool training, int64_t N,
                          int64_t C, int64_t HW, T* dz, double* sum_gy) {
    if constexpr (ChannelsLast)
      cpu::nhwc::bn_backward<T>(g, z, mean, invstd, scale, relu_mask, training, N, C, HW, dz,
                                sum_gy);
    else
      cpu::bn_backward<T>(g, z, mean, invstd, scale, relu_mask, training, N, C, HW, dz, sum_gy);
  }
  // Channels-last only: the final BatchNorms of the mix in two passes (darts_edge_nhwc.h).
  template <typename T, typename... A>
  static void bn_backward_final(A... a) {
    cpu::nhwc::bn_backward_final<T>(a...);
  }
  template <typename T, typename... A>
  static void bn_relu_dw_backward(A... a) {
    if constexpr (ChannelsLast) cpu::nhwc::bn_relu_dw_backward<T>(a...);
    else cpu::bn_relu_dw_backward<T>(a...);
  }
  template <typename T>
  static void stage1_backward(const T* x, const Dims& d, const T* const* dw_w,
                              const T* const* g_dw, const T* g_max, const T* g_avg,
                              const T* g_fr0, const T* g_fr1, const T* g_skip, T skip_w,
                              const T* /*skip_w_ptr*/, T* gx, T* const* dw_grad) {
    if constexpr (ChannelsLast)
      cpu::nhwc::stage1_backward<T>(x, d, dw_w, g_dw, g_max, g_avg, g_fr0, g_fr1, g_skip, skip_w,
                                    gx, dw_grad);
    else
      cpu::stage1_backward<T>(x, d, dw_w, g_dw, g_max, g_avg, g_fr0, g_fr1, g_skip, skip_w, gx,
                              dw_grad);
  }
  // Channels-last only: stage1_backward with the pools' gradients formed from their
  // BatchNorms' coefficients (cpu::nhwc::PoolBnGrads).
  template <typename T, typename... A>
  static void stage1_backward_pool_bn(A... a) {
    cpu::nhwc::stage1_backward_pool_bn<T>(a...);
  }
  // Channels-last only: the small-output GEMM (false: not taken, use ATen's).
  template <typename T>
  static bool gemm_rows(const T* a, int64_t lda, int64_t M, int64_t I, const T* b, int64_t J,
                        T* out, int64_t ldo) {
    return cpu::nhwc::gemm_rows<T>(a, lda, M, I, b, J, out, ldo);
  }
  template <typename T>
  static bool gemm_grads(const T* dz, int64_t ldz, int64_t M, int64_t Co, const T* w,
                         int64_t Ci, T* din, int64_t ldd, const T* in, int64_t ldi, T* gw) {
    return cpu::nhwc::gemm_grads<T>(dz, ldz, M, Co, w, Ci, din, ldd, in, ldi, gw);
  }
  // Channels-last only: a BatchNorm's input gradient formed inside the GEMMs of the 1x1 conv
  // below it (cpu::nhwc::BnGrad, bn_gemm_grads), its coefficients from bn_relu_dw_backward_coef
  // or bn_backward_final.
  template <typename T>
  static constexpr bool own_gemm_size(int64_t I, int64_t J) {
    return cpu::nhwc::own_gemm_size<T>(I, J);
  }
  template <typename T, typename... A>
  static void bn_relu_dw_backward_coef(A... a) {
    cpu::nhwc::bn_relu_dw_backward_coef<T>(a...);
  }
  template <typename T>
  static bool bn_gemm_grads(const T* g, const T* z, const T* mean, const T* invstd, const T* coef,
                            bool relu_mask, int64_t M, int64_t Co, const T* w, int64_t Ci, T* din,
                            int64_t ldd, const T* in, int64_t ldi, T* gw) {
    return cpu::nhwc::bn_gemm_grads<T>({g, z, mean, invstd, coef, relu_mask}, M, Co, w, Ci, din,
                                       ldd, in, ldi, gw);
  }
  // Channels-last only: x (any strides) channels-last, and a channels-last t contiguous.
  static at::Tensor channels_last(const at::Tensor& t) {
    if (!t.is_contiguous() || t.dim() != 4) return t.contiguous(at::MemoryFormat::ChannelsLast);
    at::Tensor out =
        cached_empty(t.sizes(), t.options().memory_format(at::MemoryFormat::ChannelsLast));
    AT_DISPATCH_FLOATING_TYPES(t.scalar_type(), "darts_edge_to_nhwc", [&] {
      cpu::nhwc::to_nhwc<scalar_t>(t.data_ptr<scalar_t>(), t.size(0), t.size(1),
                                   t.size(2) * t.size(3), out.data_ptr<scalar_t>());
    });
    return out;
  }
  static at::Tensor channels_first(const at::Tensor& t) {
    if (!t.is_contiguous(at::MemoryFormat::ChannelsLast) || t.dim() != 4) return t.contiguous();
    at::Tensor out = cached_empty(t.sizes(), t.options());
    AT_DISPATCH_FLOATING_TYPES(t.scalar_type(), "darts_edge_to_nchw", [&] {
      cpu::nhwc::to_nchw<scalar_t>(t.data_ptr<scalar_t>(), t.size(0), t.size(1),
                                   t.size(2) * t.size(3), out.data_ptr<scalar_t>());
    });
    return out;
  }
  // NCHW only: channels-last 1x1 convs are ATen GEMMs (darts_edge_impl.h)
  template <typename T, typename... A>
  static void pointwise(A... a) { cpu::pointwise<T>(a...); }
  template <typename T>
  static void dot(const T* a, const T* b, int64_t n, double* out) { *out = cpu::dot<T>(a, b, n); }
};

}  // namespace nasfast::darts_edge

// nasfast::darts_edge_forward / darts_edge_backward: schemas, boundary checks, CPU dispatch.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <torch/library.h>

#include "common/check.h"
#include "common/cpu_buffer_cache.h"
#include "ops/darts_edge/darts_edge_bf16.h"
#include "ops/darts_edge/darts_edge_boundary.h"
#include "ops/darts_edge/darts_edge_impl.h"
#include "ops/darts_edge/darts_edge_layout.h"

namespace nasfast::darts_edge {
namespace {

// The CPU kernels in one layout: NCHW planes (cpu/darts_edge_cpu.h) or channels-innermost
// (cpu/darts_edge_nhwc.h); darts_edge_layout.h picks one per edge.
template <bool ChannelsLast>
struct CpuKernels {
  static constexpr bool kChannelsLast = ChannelsLast;
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

std::tuple<at::Tensor, at::Tensor, at::Tensor> forward_cpu(
    const at::Tensor& x, const at::Tensor& weights, at::TensorList conv_weights,
    const at::Tensor& running, int64_t stride, bool training, double eps, int64_t active,
    bool save) {
  if (x.scalar_type() == at::kBFloat16)
    return forward_bf16(forward_cpu, x, weights, conv_weights, running, stride, training, eps,
                        active, save);
  check_forward_args(x, weights, conv_weights, running, stride, training, active);
  const std::vector<at::Tensor> cw(conv_weights.begin(), conv_weights.end());
  std::tuple<at::Tensor, at::Tensor, at::Tensor> r;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "darts_edge_forward_cpu", [&] {
    const MixWeights<scalar_t> wv{weight_values(weights)};
    r = cpu_channels_last(x, scalar_t{})
            ? forward<CpuKernels<true>, scalar_t>(x, wv, cw, running, stride, training, eps,
                                                  active, save)
            : forward<CpuKernels<false>, scalar_t>(x, wv, cw, running, stride, training, eps,
                                                   active, save);
  });
  return r;
}

std::tuple<at::Tensor, at::Tensor, std::vector<at::Tensor>> backward_cpu(
    const at::Tensor& grad, const at::Tensor& x, const at::Tensor& weights,
    at::TensorList conv_weights, const at::Tensor& stats, const at::Tensor& saved, int64_t stride,
    bool training, int64_t active, bool need_x, bool need_weights, bool need_conv) {
  if (x.scalar_type() == at::kBFloat16)
    return backward_bf16(backward_cpu, grad, x, weights, conv_weights, stats, saved, stride,
                         training, active, need_x, need_weights, need_conv);
  check_backward_args(grad, x, weights, conv_weights, stats, saved, stride, active);
  const std::vector<at::Tensor> cw(conv_weights.begin(), conv_weights.end());
  std::tuple<at::Tensor, at::Tensor, std::vector<at::Tensor>> r;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "darts_edge_backward_cpu", [&] {
    const MixWeights<scalar_t> wv{weight_values(weights)};
    const NeedGrad need{need_x, need_weights, need_conv};
    r = cpu_channels_last(x, scalar_t{})
            ? backward<CpuKernels<true>, scalar_t>(grad, x, wv, cw, stats, saved, stride,
                                                   training, active, need)
            : backward<CpuKernels<false>, scalar_t>(grad, x, wv, cw, stats, saved, stride,
                                                    training, active, need);
  });
  std::get<1>(r) = std::get<1>(r).to(weights.scalar_type());
  return r;
}

}  // namespace
}  // namespace nasfast::darts_edge

TORCH_LIBRARY_FRAGMENT(nasfast, m) {
  m.def(
      "darts_edge_forward(Tensor x, Tensor weights, Tensor[] conv_weights, Tensor running, "
      "int stride, bool training, float eps, int active, bool save) -> (Tensor out, Tensor stats, "
      "Tensor saved)");
  m.def(
      "darts_edge_backward(Tensor grad, Tensor x, Tensor weights, Tensor[] conv_weights, "
      "Tensor stats, Tensor saved, int stride, bool training, int active, bool need_x, "
      "bool need_weights, bool need_conv) -> (Tensor grad_x, Tensor grad_weights, "
      "Tensor[] grad_conv_weights)");
}

TORCH_LIBRARY_IMPL(nasfast, CPU, m) {
  m.impl("darts_edge_forward", &nasfast::darts_edge::forward_cpu);
  m.impl("darts_edge_backward", &nasfast::darts_edge::backward_cpu);
}

namespace nasfast::darts_edge {
namespace {

// running = (1 - m) * running + m * batch statistic, for the BatchNorm slots `slots`; one call
// per edge instead of a few dozen tiny tensor ops. Raw loops on CPU, ATen ops on other devices
// without their own kernel (CUDA has one, in cuda/darts_edge_glue.cpp).
void update_running(at::TensorList mean, at::TensorList var, at::TensorList count,
                    const at::Tensor& stats, at::IntArrayRef slots, double momentum) {
  const bool raw = check_running_update_args(mean, var, count, stats, slots) &&
                   stats.device().is_cpu();
  if (!raw) return running_update_aten(mean, var, count, stats, slots, momentum);
  const size_t n = slots.size();
  const int64_t C = stats.size(2);
  for (size_t j = 0; j < n; ++j) {
    // a CPU int64 counter directly: nine ATen add_ calls were most of this op's ~30 us
    if (count[j].is_cpu() && count[j].scalar_type() == at::kLong && count[j].numel() == 1)
      ++*count[j].data_ptr<int64_t>();
    else
      count[j].add_(1);
  }
  AT_DISPATCH_FLOATING_TYPES(stats.scalar_type(), "darts_edge_running_update", [&] {
    const scalar_t m = static_cast<scalar_t>(momentum), keep = static_cast<scalar_t>(1 - momentum);
    const scalar_t* st = stats.data_ptr<scalar_t>();
    for (size_t j = 0; j < n; ++j) {
      scalar_t* rm = mean[j].data_ptr<scalar_t>();
      scalar_t* rv = var[j].data_ptr<scalar_t>();
      const scalar_t* bm = st + slots[j] * C;
      const scalar_t* bv = st + (2 * kSlots + slots[j]) * C;
      for (int64_t c = 0; c < C; ++c) {
        rm[c] = keep * rm[c] + m * bm[c];
        rv[c] = keep * rv[c] + m * bv[c];
      }
    }
  });
}

}  // namespace
}  // namespace nasfast::darts_edge

TORCH_LIBRARY_FRAGMENT(nasfast, m) {
  m.def(
      "darts_edge_running_update(Tensor(a!)[] running_mean, Tensor(b!)[] running_var, "
      "Tensor(c!)[] num_batches_tracked, Tensor stats, int[] slots, float momentum) -> ()");
}

TORCH_LIBRARY_IMPL(nasfast, CompositeExplicitAutograd, m) {
  m.impl("darts_edge_running_update", &nasfast::darts_edge::update_running);
}

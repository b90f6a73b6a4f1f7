#pragma once
// Torch-free CUDA launchers of the fused DARTS edge, one per CPU kernel of
// cpu/darts_edge_nchw.h with the same contracts; every pointer is device memory except the
// pointer tables and the mixing weights, which are passed by value. float and double.
#include <cuda_runtime.h>

#include <cstdint>

#include "ops/darts_edge/cpu/darts_edge_kernel_types.h"

namespace nasfast::darts_edge::cuda {

using cpu::BnBackwardItem;
using cpu::Dims;
using cpu::DwSpec;
constexpr int kMaxMix = 8;
constexpr int kMaxBatch = 9;  // the BatchNorm slots of an edge

// Where the launchers take scratch memory for partial sums (stream-ordered). Unset, they use
// cudaMallocAsync / cudaFreeAsync; the glue points them at torch's caching allocator.
struct ScratchAllocator {
  void* (*alloc)(size_t bytes, cudaStream_t st);
  void (*free)(void* p, cudaStream_t st);
};
void set_scratch_allocator(ScratchAllocator a);

template <typename T>
cudaError_t stage1_forward(const T* x, const Dims& d, const T* const* dw_w, T* const* dw_out,
                           T* maxp, T* avgp, T* fr0, T* fr1, cudaStream_t st);
template <typename T>
cudaError_t bn_stats(const T* z, int64_t N, int64_t C, int64_t HW, double eps, T* mean, T* invstd,
                     T* var_unbiased, cudaStream_t st);
// bn_stats of n <= kMaxBatch tensors of one shape, in two launches.
template <typename T>
cudaError_t bn_stats_batch(const T* const* z, int n, int64_t N, int64_t C, int64_t HW, double eps,
                           T* const* mean, T* const* invstd, T* const* var_unbiased,
                           cudaStream_t st);
template <typename T>
cudaError_t bn_relu_dw_forward(const T* z, const T* mean, const T* invstd, int64_t N, int64_t C,
                               int64_t H, int64_t W, const T* w, DwSpec spec, T* out,
                               cudaStream_t st);
// mean[k] / invstd[k] null: identity (skip_connect). wk: host array of K weights; wk_ptr[k],
// when not null, points at weight k in device memory and is read instead (no host sync). The
// same holds for scale_ptr of bn_backward and skip_w_ptr of stage1_backward.
template <typename T>
cudaError_t mix_forward(const T* const* z, const T* const* mean, const T* const* invstd,
                        const T* wk, const T* const* wk_ptr, int K, int64_t N, int64_t C,
                        int64_t HW, T* out, cudaStream_t st);
template <typename T>
cudaError_t bn_backward(const T* g, const T* z, const T* mean, const T* invstd, T scale,
                        const T* scale_ptr, bool relu_mask, bool training, int64_t N, int64_t C,
                        int64_t HW, T* dz, double* sum_gy, cudaStream_t st);
// bn_backward of n <= kMaxBatch BatchNorms with one upstream gradient g, in two launches; each
// item's dz and sum_gy may be null.
template <typename T>
cudaError_t bn_backward_batch(const T* g, const BnBackwardItem<T>* items, int n, bool relu_mask,
                              bool training, int64_t N, int64_t C, int64_t HW, cudaStream_t st);
template <typename T>
cudaError_t bn_relu_dw_backward(const T* gout, const T* z, const T* mean, const T* invstd,
                                int64_t N, int64_t C, int64_t H, int64_t W, const T* w, DwSpec spec,
                                T* ga, T* dw, cudaStream_t st);
template <typename T>
cudaError_t stage1_backward(const T* x, const Dims& d, const T* const* dw_w, const T* const* g_dw,
                            const T* g_max, const T* g_avg, const T* g_fr0, const T* g_fr1,
                            const T* g_skip, T skip_w, const T* skip_w_ptr, T* gx,
                            T* const* dw_grad, cudaStream_t st);
template <typename T>
cudaError_t pointwise(const T* w, int64_t ws_co, int64_t ws_ci, const T* in, int64_t in_bstride,
                      int64_t N, int64_t Co, int64_t Ci, int64_t P, T* out, int64_t out_bstride,
                      cudaStream_t st);
// One launch for every BatchNorm slot of an edge: running = (1 - m) * running + m * stat, with
// stat the slot's batch mean (stats[0]) / unbiased variance (stats[2]) of stats [3, kSlots, C];
// count[j] += 1. n <= kSlots.
template <typename T>
cudaError_t running_update(T* const* mean, T* const* var, int64_t* const* count, const T* stats,
                           const int64_t* slots, int n, int64_t C, int64_t num_slots,
                           double momentum, cudaStream_t st);

}  // namespace nasfast::darts_edge::cuda

#pragma once
// CPU kernels of the fused DARTS edge (nasfast::darts_edge_*), on raw contiguous NCHW buffers.
//
// Reductions over a channel run inside one task in a fixed order, so these kernels' results do
// not depend on the thread count. (The op's 1x1-conv weight gradients go through at::bmm in
// the NCHW policy, whose summation order is the BLAS library's.) Each call runs the AVX2+FMA copy
// of darts_edge_nchw_kernels.cpp where the CPU has it, else the baseline one
// (common/cpu_capability.h).
#include <cstdint>

#include "ops/darts_edge/cpu/darts_edge_kernel_types.h"

namespace nasfast::darts_edge::cpu::nchw {

#include "ops/darts_edge/cpu/darts_edge_kernels_decl.inc"

// 1x1 conv: out[n, co, p] = sum_ci w[co * ws_co + ci * ws_ci] * in[n, ci, p]; samples are
// in_bstride / out_bstride elements apart (channel rows are P apart). ws_* are the strides of w,
// so (ws_co, ws_ci) = (1, Co) applies the transpose of a [Ci, Co] matrix.
template <typename T>
void pointwise(const T* w, int64_t ws_co, int64_t ws_ci, const T* in, int64_t in_bstride, int64_t N,
               int64_t Co, int64_t Ci, int64_t P, T* out, int64_t out_bstride);

// sum over all elements of a * b: blocks of 4096 summed in T, the block sums added in double in
// block order (so independent of the thread count).
template <typename T>
double dot(const T* a, const T* b, int64_t n);

// The kernels above as compiled for one ISA (darts_edge_nchw_kernels.cpp, once per capability).
template <typename T>
struct KernelTable {
  decltype(&stage1_forward<T>) stage1_forward;
  decltype(&bn_stats<T>) bn_stats;
  decltype(&bn_relu_dw_forward<T>) bn_relu_dw_forward;
  decltype(&mix_forward<T>) mix_forward;
  decltype(&bn_backward<T>) bn_backward;
  decltype(&bn_relu_dw_backward<T>) bn_relu_dw_backward;
  decltype(&stage1_backward<T>) stage1_backward;
  decltype(&pointwise<T>) pointwise;
  decltype(&dot<T>) dot;
};
namespace base {
template <typename T>
const KernelTable<T>& kernel_table();
}  // namespace base
namespace avx2 {
template <typename T>
const KernelTable<T>& kernel_table();
}  // namespace avx2

}  // namespace nasfast::darts_edge::cpu::nchw

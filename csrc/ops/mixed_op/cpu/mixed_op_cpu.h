#pragma once
// CPU kernels of nasfast::mixed_op on raw contiguous buffers of n elements each. Each call runs
// the AVX2+FMA copy of mixed_op_kernels.cpp where the CPU has it, else the baseline one
// (common/cpu_capability.h).
#include <cstdint>

namespace nasfast::mixed_op::cpu {

// out[i] = sum_k w[k] * in[k][i], accumulated in acc_t (float for bf16/half).
template <typename scalar_t>
void forward(const scalar_t* const* in, const void* w, int64_t K, int64_t n, scalar_t* out);

// grad_in[k][i] = w[k] * g[i] (skipped when grad_in is null) and dots[k] = <g, in[k]> (skipped
// when dots is null), in one pass over g. Dots are summed per fixed block then across blocks in
// block order, so they do not depend on the thread count.
template <typename scalar_t>
void backward(const scalar_t* g, const scalar_t* const* in, const void* w, int64_t K, int64_t n,
              scalar_t* const* grad_in, double* dots);

// The kernels above as compiled for one ISA (mixed_op_kernels.cpp, once per capability).
template <typename scalar_t>
struct KernelTable {
  decltype(&forward<scalar_t>) forward;
  decltype(&backward<scalar_t>) backward;
};
namespace base {
template <typename scalar_t>
const KernelTable<scalar_t>& kernel_table();
}  // namespace base
namespace avx2 {
template <typename scalar_t>
const KernelTable<scalar_t>& kernel_table();
}  // namespace avx2

}  // namespace nasfast::mixed_op::cpu

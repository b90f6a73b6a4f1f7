// The CPU kernels of nasfast::mixed_op (mixed_op_cpu.h): each call goes to the copy of
// mixed_op_kernels.cpp compiled for the best ISA this CPU has.
#include "ops/mixed_op/cpu/mixed_op_cpu.h"

#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>

#include "common/cpu_capability.h"

namespace nasfast::mixed_op::cpu {
namespace {

template <typename scalar_t>
const KernelTable<scalar_t>& kernels() {
  static const KernelTable<scalar_t>& table =
      cpu_has_avx2() ? avx2::kernel_table<scalar_t>() : base::kernel_table<scalar_t>();
  return table;
}

}  // namespace

template <typename scalar_t>
void forward(const scalar_t* const* in, const void* w, int64_t K, int64_t n, scalar_t* out) {
  kernels<scalar_t>().forward(in, w, K, n, out);
}

template <typename scalar_t>
void backward(const scalar_t* g, const scalar_t* const* in, const void* w, int64_t K, int64_t n,
              scalar_t* const* grad_in, double* dots) {
  kernels<scalar_t>().backward(g, in, w, K, n, grad_in, dots);
}

#define NASFAST_INSTANTIATE(T)                                                                   \
  template void forward<T>(const T* const*, const void*, int64_t, int64_t, T*);                  \
  template void backward<T>(const T*, const T* const*, const void*, int64_t, int64_t, T* const*, \
                            double*);
NASFAST_INSTANTIATE(float)
NASFAST_INSTANTIATE(double)
NASFAST_INSTANTIATE(c10::BFloat16)
NASFAST_INSTANTIATE(c10::Half)
#undef NASFAST_INSTANTIATE

}  // namespace nasfast::mixed_op::cpu

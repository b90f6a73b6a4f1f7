#pragma once
// Element types of nasfast's torch-free CUDA kernels: the accumulation type (float, or double for
// double) and loads/stores that convert bfloat16 through float.
#include <cuda_bf16.h>

namespace nasfast::cuda_numeric {

template <typename T>
struct Acc {
  using type = float;
};
template <>
struct Acc<double> {
  using type = double;
};

template <typename T>
__device__ __forceinline__ typename Acc<T>::type load(const T* p) {
  return static_cast<typename Acc<T>::type>(*p);
}
template <>
__device__ __forceinline__ float load<__nv_bfloat16>(const __nv_bfloat16* p) {
  return __bfloat162float(*p);
}
template <typename T, typename A>
__device__ __forceinline__ T store_cast(A v) {
  return static_cast<T>(v);
}
template <>
__device__ __forceinline__ __nv_bfloat16 store_cast<__nv_bfloat16, float>(float v) {
  return __float2bfloat16(v);
}

}  // namespace nasfast::cuda_numeric

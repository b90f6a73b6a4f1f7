#pragma once
// 32-byte vectors of the fused DARTS edge's CPU kernels (both layouts): GCC vector types, loads
// and partial stores, in the ISA namespace of the kernel copy that includes it
// (common/cpu_capability.h).
#include <cstdint>
#include <cstring>

#include "common/cpu_capability.h"

NASFAST_CPU_CAPABILITY_BEGIN
namespace nasfast::darts_edge::cpu::NASFAST_CPU_CAPABILITY {

// 32-byte vector of T (8 floats / 4 doubles, one AVX register): register blocks of output columns.
template <typename T>
struct VecOf;
template <>
struct VecOf<float> {
  typedef float type __attribute__((vector_size(32)));
};
template <>
struct VecOf<double> {
  typedef double type __attribute__((vector_size(32)));
};
template <typename T>
using Vec = typename VecOf<T>::type;
template <typename T>
constexpr int kLanes = 32 / static_cast<int>(sizeof(T));

template <typename T>
__attribute__((always_inline)) inline Vec<T> load(const T* p) {
  Vec<T> v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
template <typename T>
__attribute__((always_inline)) inline void store(T* p, const Vec<T>& v, int64_t n) {
  if (n >= kLanes<T>) {
    std::memcpy(p, &v, sizeof(v));
  } else {
    // n < kLanes <= 8: pieces of 4, 2, 1 (fixed-size copies; a loop here became a memmove call)
    T tmp[kLanes<T>];
    std::memcpy(tmp, &v, sizeof(v));
    int64_t b = 0;
    if (kLanes<T> > 4 && (n & 4)) {
      std::memcpy(p, tmp, 4 * sizeof(T));
      b = 4;
    }
    if (n & 2) {
      std::memcpy(p + b, tmp + b, 2 * sizeof(T));
      b += 2;
    }
    if (n & 1) p[b] = tmp[b];
  }
}

// The first n < kLanes elements of p in a vector (the rest zero), in fixed-size pieces as store.
template <typename T>
__attribute__((always_inline)) inline Vec<T> load_n(const T* p, int64_t n) {
  T tmp[kLanes<T>] = {};
  int64_t b = 0;
  if (kLanes<T> > 4 && (n & 4)) {
    std::memcpy(tmp, p, 4 * sizeof(T));
    b = 4;
  }
  if (n & 2) {
    std::memcpy(tmp + b, p + b, 2 * sizeof(T));
    b += 2;
  }
  if (n & 1) tmp[b] = p[b];
  Vec<T> v;
  std::memcpy(&v, tmp, sizeof(v));
  return v;
}

}  // namespace nasfast::darts_edge::cpu::NASFAST_CPU_CAPABILITY
NASFAST_CPU_CAPABILITY_END

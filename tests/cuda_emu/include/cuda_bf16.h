#pragma once
// bfloat16 for the CUDA host emulation (include/cuda_runtime.h): the 16 bits, and the two
// conversions nasfast's kernels use, with cuda_bf16.h's rounding (to nearest even; a NaN
// becomes the quiet NaN 0x7fff).
#include <cstdint>
#include <cstring>

#include "cuda_runtime.h"

struct __nv_bfloat16 {
  uint16_t x;
};

inline float __bfloat162float(__nv_bfloat16 h) {
  const uint32_t u = uint32_t(h.x) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

inline __nv_bfloat16 __float2bfloat16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return {0x7fff};
  return {uint16_t((u + 0x7fffu + ((u >> 16) & 1u)) >> 16)};
}

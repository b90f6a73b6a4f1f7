#pragma once
// Channels-last kernels of the fused DARTS edge, internals: tasks and zero-bordered planes, in the
// ISA namespace of the kernel copy that includes it (darts_edge_nhwc_kernels.cpp).
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "common/cpu_buffer_cache.h"
#include "common/cpu_capability.h"
#include "ops/darts_edge/cpu/darts_edge_nhwc.h"
#include "ops/darts_edge/cpu/darts_edge_simd.h"

NASFAST_CPU_CAPABILITY_BEGIN
namespace nasfast::darts_edge::cpu::nhwc::NASFAST_CPU_CAPABILITY {

using namespace cpu::NASFAST_CPU_CAPABILITY;  // Vec, load, store (darts_edge_simd.h)

constexpr int kPad = 4;  // the largest padding of any conv here (dil_conv_5x5)
// Channels per task, a multiple of every kLanes. 32 rather than 64: a padded 8x8 plane of 64
// channels is 64 KiB, twice L1; at (32,64,8,8) 32 was ~2.5% faster per 2-thread step and per
// 1-thread backward (2026-11-23, five alternated pairs each).
constexpr int64_t kGroup = 32;
constexpr int64_t kRows = 64;  // pixels per chunk of a channel sum

inline int64_t group_pitch(int64_t C) { return std::min(C, kGroup); }

// n uninitialised elements of T from the CPU buffer cache, for per-task partial results: no
// malloc, zero fill or page faults per call.
template <typename T>
struct Scratch {
  at::Tensor t;
  explicit Scratch(int64_t n)
      : t(::nasfast::cached_empty({n},
                                  at::TensorOptions().dtype(c10::CppTypeToScalarType<T>::value))) {}
  T* data() const { return t.data_ptr<T>(); }
};

// One sample's [H, W] image of a channel group, with a zero border of kPad pixels: pixel
// (iy, ix) starts at element ((iy + kPad) * Wp + ix + kPad) * G, G = group_pitch(C).
template <typename T>
struct PadPlane {
  int64_t H, W, Wp, G;
  std::vector<T> buf;
  PadPlane(int64_t h, int64_t w, int64_t g)
      : H(h), W(w), Wp(w + 2 * kPad), G(g), buf((h + 2 * kPad) * (w + 2 * kPad) * g, T(0)) {}
  T* at(int64_t iy, int64_t ix) { return buf.data() + ((iy + kPad) * Wp + ix + kPad) * G; }
  void zero() { std::fill(buf.begin(), buf.end(), T(0)); }
};

// The channel groups of C (the last may be narrower) crossed with the N samples.
struct Tasks {
  int64_t C, groups;
  explicit Tasks(int64_t c) : C(c), groups((c + kGroup - 1) / kGroup) {}
  int64_t count(int64_t N) const { return N * groups; }
  int64_t n(int64_t task) const { return task / groups; }
  int64_t c0(int64_t task) const { return (task % groups) * kGroup; }
  int64_t width(int64_t task) const { return std::min(kGroup, C - c0(task)); }
};

// out[k][c0 + c] += part[(task * nsum + k) * Gp + c] for every task in order (c below the task's
// width): per-task channel sums [tasks, nsum, Gp] added up independently of the thread count.
// A null out[k] is skipped.
inline void add_task_sums(const Tasks& tasks, int64_t N, const std::vector<double>& part, int nsum,
                          double* const* out) {
  const int64_t Gp = group_pitch(tasks.C);
  for (int64_t task = 0; task < tasks.count(N); ++task) {
    const int64_t c0 = tasks.c0(task), G = tasks.width(task);
    for (int k = 0; k < nsum; ++k)
      if (out[k])
        for (int64_t c = 0; c < G; ++c) out[k][c0 + c] += part[(task * nsum + k) * Gp + c];
  }
}

// p.at(iy, ix)[c, c + L) = f(src[(iy * W + ix) * C + c, ... + L), c) for c < G in steps of L:
// src is one sample at the group's first channel.
template <typename T, typename F>
__attribute__((always_inline)) inline void fill_plane(const T* __restrict src, int64_t C, int64_t G,
                                                      PadPlane<T>& p, F f) {
  constexpr int L = kLanes<T>;
  for (int64_t iy = 0; iy < p.H; ++iy)
    for (int64_t ix = 0; ix < p.W; ++ix) {
      const T* s = src + (iy * p.W + ix) * C;
      T* d = p.at(iy, ix);
      for (int64_t c = 0; c < G; c += L) store(d + c, f(load(s + c), c), L);
    }
}

template <typename T>
__attribute__((always_inline)) inline Vec<T> relu(const Vec<T>& v) {
  return v > T(0) ? v : Vec<T>{};
}

// The maps fill_plane applies: as is, relu, and relu of the BatchNorm-normalised value (mean,
// invstd at the group's first channel).
template <typename T>
struct CopyMap {
  Vec<T> operator()(const Vec<T>& v, int64_t) const { return v; }
};
template <typename T>
struct ReluMap {
  Vec<T> operator()(const Vec<T>& v, int64_t) const { return relu<T>(v); }
};
template <typename T>
struct BnReluMap {
  const T* mean;
  const T* invstd;
  Vec<T> operator()(const Vec<T>& v, int64_t c) const {
    return relu<T>((v - load(mean + c)) * load(invstd + c));
  }
};

}  // namespace nasfast::darts_edge::cpu::nhwc::NASFAST_CPU_CAPABILITY
NASFAST_CPU_CAPABILITY_END

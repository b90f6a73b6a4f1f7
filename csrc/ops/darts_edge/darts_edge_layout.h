#pragma once
// The memory layout the CPU edge computes in. The NCHW kernels work plane by plane; the
// channels-innermost kernels (cpu/darts_edge_nhwc.h) vectorise over channels and run each 1x1
// conv as one GEMM over all pixels, which is faster from 16 channels on (every DARTS search
// cell), most of all for many channels on small planes (C=64 at 8x8).
#include <ATen/ATen.h>

#include <atomic>
#include <stdexcept>
#include <string>

#include "ops/darts_edge/cpu/darts_edge_nhwc.h"

namespace nasfast::darts_edge {

enum class Layout : int { kAuto = 0, kNchw = 1, kNhwc = 2 };

// Process-wide override of the choice, for tests and benchmarks (nasfast._C._darts_edge_layout).
// The backward reads the tensors its forward kept in the forward's layout, so change it only
// between training steps.
inline std::atomic<int> layout_override{static_cast<int>(Layout::kAuto)};

inline void set_layout(const std::string& name) {
  if (name == "auto") {
    layout_override = static_cast<int>(Layout::kAuto);
  } else if (name == "nchw") {
    layout_override = static_cast<int>(Layout::kNchw);
  } else if (name == "nhwc") {
    layout_override = static_cast<int>(Layout::kNhwc);
  } else {
    throw std::invalid_argument("layout: expected 'auto', 'nchw' or 'nhwc', got '" + name + "'");
  }
}

inline std::string layout_name() {
  switch (static_cast<Layout>(layout_override.load())) {
    case Layout::kNchw: return "nchw";
    case Layout::kNhwc: return "nhwc";
    default: return "auto";
  }
}

// The automatic choice computes channels-last from this many channels. Fused step times, 2
// threads, interleaved (2026-11-22, commit e98b7c1): channels-last took 0.93-0.96x the NCHW
// time at C=16 (N=32 32x32, N=64 32x32, N=8 64x64, N=16 56x56, stride 1; equal at stride 2),
// 0.84x at C=64 8x8, 0.95x at C=32 16x16 and 32x32 stride 2; 1.32x at C=8 (one vector: too
// little work per pixel).
inline constexpr int64_t kMinNhwcChannels = 16;

// Whether the CPU edge on x [N, C, H, W] (element type T) computes channels-last. That needs C
// to be a whole number of 32-byte vectors; otherwise (also under an 'nhwc' override) it is NCHW.
template <typename T>
bool cpu_channels_last(const at::Tensor& x, T) {
  if (x.size(1) % cpu::nhwc::lanes<T>() != 0) return false;
  switch (static_cast<Layout>(layout_override.load())) {
    case Layout::kNchw: return false;
    case Layout::kNhwc: return true;
    default: return x.size(1) >= kMinNhwcChannels;
  }
}

}  // namespace nasfast::darts_edge

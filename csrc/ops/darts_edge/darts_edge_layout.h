#pragma once
// The memory layout the CPU edge computes in. The NCHW kernels work plane by plane and suit
// large images; the channels-innermost kernels (cpu/darts_edge_nhwc.h) vectorise over channels
// and run each 1x1 conv as one GEMM, which is faster for many channels on small planes (DARTS's
// deeper cells: C=32 at 16x16, C=64 at 8x8).
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

// The automatic choice computes channels-last from this many channels on planes of at most
// this many pixels (input H * W). Measured fused step times, 2 threads, N=32 (2026-11-22):
// channels-last wins at C=32 16x16 and C=64 8x8 (stride 1) and C=64 16x16 (stride 2) by 7-13%,
// loses at C=16 (32x32 and 16x16) and at C=32 32x32 stride 2 by 3-10%.
inline constexpr int64_t kMinNhwcChannels = 32;
inline constexpr int64_t kMaxNhwcPixels = 256;

// Whether the CPU edge on x [N, C, H, W] (element type T) computes channels-last. That needs C
// to be a whole number of 32-byte vectors; otherwise (also under an 'nhwc' override) it is NCHW.
template <typename T>
bool cpu_channels_last(const at::Tensor& x, T) {
  if (x.size(1) % cpu::nhwc::lanes<T>() != 0) return false;
  switch (static_cast<Layout>(layout_override.load())) {
    case Layout::kNchw: return false;
    case Layout::kNhwc: return true;
    default: return x.size(1) >= kMinNhwcChannels && x.size(2) * x.size(3) <= kMaxNhwcPixels;
  }
}

}  // namespace nasfast::darts_edge

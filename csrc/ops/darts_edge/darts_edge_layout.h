#pragma once
// The memory layout the CPU edge computes in. The NCHW kernels work plane by plane and suit
// large images; the channels-innermost kernels (cpu/darts_edge_nhwc.h) vectorise over channels
// and run each 1x1 conv as one GEMM, which is faster when planes are small (DARTS's deeper
// cells: C=64 at 8x8). See benchmarks/results for the measurements behind kMaxNhwcPixels.
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

// Largest H * W the automatic choice computes channels-last.
inline constexpr int64_t kMaxNhwcPixels = 256;

// Whether the CPU edge on x [N, C, H, W] (element type T) computes channels-last. That needs C
// to be a whole number of 32-byte vectors; otherwise (and for an 'nhwc' override) it is NCHW.
template <typename T>
bool cpu_channels_last(const at::Tensor& x, T) {
  if (x.size(1) % cpu::nhwc::lanes<T>() != 0) return false;
  switch (static_cast<Layout>(layout_override.load())) {
    case Layout::kNchw: return false;
    case Layout::kNhwc: return true;
    default: return x.size(2) * x.size(3) <= kMaxNhwcPixels;
  }
}

}  // namespace nasfast::darts_edge

#pragma once
// Argument types shared by the fused DARTS edge's kernels in every layout and backend (NCHW and
// channels-last CPU kernels, CUDA launchers). Torch-free, so nvcc compiles it too.
//
// Naming: "plane" = one [H, W] image of one (sample, channel). Depthwise convolutions have
// kernel k, padding p, dilation d and stride s; every conv/pool here maps H to Ho = (H - 1) / s
// + 1.
#include <cstdint>

namespace nasfast::darts_edge::cpu {

struct DwSpec {
  int k, p, d;
};
// The first depthwise stage of sep_conv_3x3, sep_conv_5x5, dil_conv_3x3, dil_conv_5x5.
inline constexpr DwSpec kStage1[4] = {{3, 1, 1}, {5, 2, 1}, {3, 2, 2}, {5, 4, 2}};

struct Dims {
  int64_t N, C, H, W, s, Ho, Wo;
};

// One BatchNorm of a batched bn_backward (the CUDA launcher bn_backward_batch): the arguments of
// bn_backward that differ between the BatchNorms of an edge. scale_ptr, when not null, points
// at the scale in device memory; dz and sum_gy may be null; null mean and invstd stand for the
// identity y = z (the skip connection, whose weight gradient is sum g * z).
template <typename T>
struct BnBackwardItem {
  const T* z;
  const T* mean;
  const T* invstd;
  T scale;
  const T* scale_ptr;
  T* dz;
  double* sum_gy;
};

}  // namespace nasfast::darts_edge::cpu

#pragma once
// nasfast::darts_edge_forward / darts_edge_backward: the eight DARTS primitives of one search-cell
// edge and their weighted sum, as two ops (see darts_edge_forward.h and darts_edge_backward.h for
// the algorithm).
//
// Layout shared by the ops, the Python layer and the CUDA glue:
//  - weights [8]: none, max_pool_3x3, avg_pool_3x3, skip_connect, sep_conv_3x3, sep_conv_5x5,
//    dil_conv_3x3, dil_conv_5x5.
//  - conv_weights (12 at stride 1, 14 at stride 2): sep3 dw1, pw1, dw2, pw2; sep5 dw1, pw1, dw2,
//    pw2; dil3 dw, pw; dil5 dw, pw; [FactorizedReduce conv_1, conv_2].
//  - BatchNorm slots (kSlots = 9): max, avg, FR, sep3 bn1, sep3 bn2, sep5 bn1, sep5 bn2, dil3,
//  dil5.
//  - stats [3, kSlots, C]: batch mean, 1/sqrt(var + eps), unbiased var (training) or the running
//    mean, 1/sqrt(running var + eps), running var (eval).
//  - active: bit k set = primitive k is computed (all 8 for DARTS; one for GDAS single path).
//  - saved [S, N, C, Ho, Wo]: the pre-BatchNorm pointwise outputs kept for backward, one per
//    active slot of kSavedSlots in that order (FR only at stride 2); [0] when nothing is kept.
#include <cstdint>

namespace nasfast::darts_edge {

inline constexpr int kOps = 8;
inline constexpr int kSlots = 9;
enum Slot : int { kMax = 0, kAvg, kFr, kSep3Bn1, kSep3Bn2, kSep5Bn1, kSep5Bn2, kDil3, kDil5 };
inline constexpr int kSavedSlots[7] = {kFr, kSep3Bn1, kSep3Bn2, kSep5Bn1, kSep5Bn2, kDil3, kDil5};
// Primitive owning each slot, and each conv weight (14 at stride 2, the first 12 at stride 1).
inline constexpr int kSlotOp[kSlots] = {1, 2, 3, 4, 4, 5, 5, 6, 7};
inline constexpr int kConvOp[14] = {4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 7, 7, 3, 3};

// Index of `slot` in the saved tensor (-1: not kept) for stride s and primitive mask `active`.
inline int saved_index(int slot, int64_t s, int64_t active) {
  int j = 0;
  for (int t : kSavedSlots) {
    const bool kept = ((active >> kSlotOp[t]) & 1) && (t != kFr || s == 2);
    if (t == slot) return kept ? j : -1;
    j += kept;
  }
  return -1;
}

inline int saved_count(int64_t s, int64_t active) {
  int n = 0;
  for (int t : kSavedSlots) n += saved_index(t, s, active) >= 0;
  return n;
}

// clang-format off
enum ConvW : int {
  kSep3Dw1 = 0, kSep3Pw1, kSep3Dw2, kSep3Pw2,
  kSep5Dw1, kSep5Pw1, kSep5Dw2, kSep5Pw2,
  kDil3Dw, kDil3Pw, kDil5Dw, kDil5Pw,
  kFrConv1, kFrConv2
};
// clang-format on

}  // namespace nasfast::darts_edge

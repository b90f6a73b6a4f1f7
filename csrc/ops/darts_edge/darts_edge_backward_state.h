#pragma once
// What the phases of the fused DARTS edge's backward (darts_edge_backward.h) and the policies'
// backward steps pass between them: the inputs in the kernels' layout, the recomputed
// intermediates, the gradients at the BatchNorm inputs and the gradients accumulated so far.
// Each phase releases (reset()) the tensors it consumed once they are dead, so later allocations
// of the same size reuse their pages instead of faulting in fresh ones.
#include <ATen/ATen.h>

#include <array>
#include <utility>
#include <vector>

#include "ops/darts_edge/darts_edge_tensors.h"

namespace nasfast::darts_edge {

template <typename T>
struct BackwardState {
  // inputs, in the kernels' layout
  at::Tensor x, g, stats;
  std::vector<at::Tensor> cw;
  Dims d;
  Stats<T> st;
  const MixWeights<T>& wv;
  bool training;
  int64_t active;
  NeedGrad need;

  // recomputed: the first stage, the BatchNorm inputs z and the sep hidden tensors h
  Stage1Outputs b;
  BranchOutputs zs;
  // channels-last: the pools' BatchNorm sums of g * y from the recompute, which then writes no
  // pool (cpu::nhwc::PoolGySums)
  std::array<std::vector<double>, 2> pool_gy;

  // the gradient at each BatchNorm's input: written out (dz) or as coefficients (coef, see
  // BnInputGrad)
  std::array<at::Tensor, kSlots> dz, coef;
  // the gradients at the first stage's outputs: the depthwise branches, FR's inputs
  std::array<at::Tensor, 4> g_dw1;
  at::Tensor g_fr0, g_fr1;

  // per-channel terms of each grad w_k (summed once at the end); conv-weight gradients, each
  // allocated as its branch is reached
  at::Tensor sgy;
  std::vector<at::Tensor> gcw;

  int64_t HWo() const { return d.Ho * d.Wo; }
  double* sum_gy(int k) const { return need.weights ? sgy.data_ptr<double>() + k * d.C : nullptr; }
  bool has_grad(int slot) const { return dz[slot].defined() || coef[slot].defined(); }
  // The gradient at slot's BatchNorm input for its output gradient gout.
  BnInputGrad<T> bn_grad(int slot, const at::Tensor& gout, bool relu_mask) const {
    return {dz[slot], coef[slot], gout, zs.z[slot], st.mean(slot), st.invstd(slot), relu_mask};
  }
  // After the final BatchNorms' backward: z of the first sep stages stays for the hidden conv's
  // backward; the others are dead (the pools' z also keep b.maxp / b.avgp alive).
  void release_final_input(int slot) {
    if (slot != kSep3Bn2 && slot != kSep5Bn2) zs.z[slot].reset();
  }
};

// A final BatchNorm to differentiate: primitive k, and whether its input gradient is propagated
// below it (else only its sums for grad w_k are wanted).
struct FinalBn {
  int k;
  bool propagate;
};

}  // namespace nasfast::darts_edge

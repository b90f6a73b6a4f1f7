#pragma once
// Shared boundary of nasfast::mixed_op: argument checks and the contiguous views the kernels read.
#include <ATen/core/Tensor.h>

#include <vector>

namespace nasfast::mixed_op {

// Checks outputs (K >= 1 same-shape floating tensors) and weights ([K], same device and dtype)
// and returns contiguous versions of the outputs (no copy when already contiguous).
std::vector<at::Tensor> checked_contiguous(at::TensorList outputs, const at::Tensor& weights);

}  // namespace nasfast::mixed_op

#pragma once
// Shared boundary of the nasfast::pareto_* ops: argument checks used by the CPU and CUDA glue.
#include <ATen/core/Tensor.h>

namespace nasfast::pareto {

// F: a 2-D float64 tensor [N, M] with M >= 1. Returns it contiguous (no copy when it already is).
at::Tensor checked_matrix(const at::Tensor& F, const char* name);

// Every value finite (CPU tensors only; the CUDA glue checks on the device).
void check_finite_cpu(const at::Tensor& t, const char* name);

}  // namespace nasfast::pareto

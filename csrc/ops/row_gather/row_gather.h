#pragma once
// Shared boundary of the row gather/scatter ops: argument checks used by the CPU and CUDA glue.
#include <ATen/core/Tensor.h>

#include <vector>

namespace nasfast::row_gather {

// Elements per row (product of the sizes after dim 0).
int64_t row_elems(const at::Tensor& t);

// x: floating, dim >= 1; index: int64 1-D on x's device, values in [lo, rows of x) (lo is 0 or
// -1). Copies index to the CPU only when check_range (a device sync on CUDA).
void check_gather(const at::Tensor& x, const at::Tensor& index, const char* x_name, int64_t lo,
                  int64_t rows, bool check_range);

// srcs: K >= 1 floating tensors, same dtype/device and trailing shape; maps: int64 [K, R] with
// maps[k] in [-1, rows of srcs[k]). Returns contiguous sources.
std::vector<at::Tensor> check_gather_sum(at::TensorList srcs, const at::Tensor& maps,
                                         bool check_range);

}  // namespace nasfast::row_gather

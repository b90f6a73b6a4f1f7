#pragma once
// Torch-free CUDA non-dominated sorting for large N: dominance counts in shared-memory tiles,
// then fronts peeled one by one (Kahn's order on the dominance graph): rows whose count is 0
// form the next front, and a tiled pass subtracts, for every row, how many of that front's rows
// dominate it. O(M N^2) work in total, two tiled passes over all pairs.
#include <cuda_runtime.h>

#include <cstdint>

namespace nasfast::pareto::cuda {

// Bytes of device workspace rank() needs for n rows.
size_t rank_workspace_bytes(int64_t n);

// F: device, row-major [n, m] float64, finite. rank: device, n int64 (written). workspace: device,
// rank_workspace_bytes(n) bytes. Synchronises the stream once per front (it reads the front size).
cudaError_t rank(const double* F, int64_t n, int m, int64_t* rank, void* workspace, cudaStream_t s);

}  // namespace nasfast::pareto::cuda

#pragma once
// CPU kernels of the row gather/scatter ops that batched candidate evaluation runs between
// stacked per-candidate tensors. A tensor is viewed as rows of M contiguous elements.
#include <cstdint>

namespace nasfast::row_gather::cpu {

// out[i] = x[index[i]] (ReLU applied when relu), i < n. Indices must lie in [0, rows of x).
template <typename scalar_t>
void gather_rows(const scalar_t* x, const int64_t* index, int64_t n, int64_t M, bool relu,
                 scalar_t* out);

// out[r] = sum over k with maps[k * R + r] >= 0 of srcs[k][maps[k * R + r]] (zeros where no k
// contributes), r < R, accumulated in float for bf16/half, in k order.
template <typename scalar_t>
void gather_sum(const scalar_t* const* srcs, const int64_t* maps, int64_t K, int64_t R, int64_t M,
                scalar_t* out);

// The adjoint of gather_rows: out[r] = sum over i with index[i] == r of src[i], r < R; entries
// of index equal to -1 are skipped. Deterministic: each row adds its sources in increasing i.
template <typename scalar_t>
void scatter_rows(const scalar_t* src, const int64_t* index, int64_t n, int64_t R, int64_t M,
                  scalar_t* out);

}  // namespace nasfast::row_gather::cpu

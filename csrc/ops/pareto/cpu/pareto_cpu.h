#pragma once
// CPU kernels of the Pareto engine on raw buffers. F is row-major [n, m] float64 (minimised,
// finite); nothing here allocates torch tensors or registers ops (also linked into C++ tests).
#include <cstdint>

namespace nasfast::pareto::cpu {

// rank[i] = index of the non-dominated front of row i (0 = not dominated by any row).
// Identical rows share a rank. All algorithms work on lexicographically sorted (radix sort on
// objective 0), de-duplicated rows.
enum class NdsAlgorithm {
  kAuto,           // what non_dominated_rank picks (below)
  kDivideConquer,  // M >= 3: divide and conquer over the objectives (Jensen 2003, with the
                   // tie handling of Fortin et al. 2013 / Buzdalov and Shalyto 2014),
                   // O(n log^{M-1} n), any n: the fallback for large inputs
  kBitset,         // M >= 3: dominator bitsets, O(M n^2 / 64) word operations
};
// Auto: M <= 2 sort + binary search; M = 3: per-front staircases (O(n log n log fronts));
// M >= 4: the bitset scan while its checkpoints fit 256 MiB (about 10^5 distinct rows at M <= 8)
// and its front bitsets 64 MiB, else the divide and conquer. Every choice gives the same ranks.
void non_dominated_rank(const double* F, int64_t n, int64_t m, int64_t* rank,
                        NdsAlgorithm algo = NdsAlgorithm::kAuto);

// Crowding distance of each row inside its front (rows sharing rank[i]), as NSGA-II defines it
// with pymoo's normalisation: per objective, (next - previous) / (max - min) over the front,
// averaged over the objectives; the first and last row of each objective's stable order get
// infinity; an objective constant on the front adds 0; fronts of <= 2 rows are all infinite.
void crowding_distance(const double* F, const int64_t* rank, int64_t n, int64_t m, double* out);

// Exact hypervolume dominated by the rows of F and bounded by ref (length m). Rows not strictly
// better than ref in every objective contribute nothing. M = 2: sweep; M = 3: O(n log n)
// sweep with a balanced tree (HV3D); M >= 4: a sweep over the last objective adding exclusive
// contributions against the current front, recursing down to the 3-D case.
double hypervolume(const double* F, int64_t n, int64_t m, const double* ref);

}  // namespace nasfast::pareto::cpu

#pragma once
// The M >= 4 bitset sort, used by non_dominated_rank (internal).
#include <cstdint>
#include <vector>

namespace nasfast::pareto::cpu {

// Front bitsets past this many words send the sort to the divide and conquer.
constexpr int64_t kBitsetMaxFrontWords = int64_t{1} << 23;  // 64 MiB

// Whether the checkpoint tables of u distinct rows and d = m - 1 columns fit the memory budget
// (256 MiB).
bool bitset_fits(int64_t d, int64_t u);

// Ranks of u distinct rows (lexicographic order) from cols = objectives 1..m-1 (d >= 2); false
// (nothing done) when the fronts would pass max_front_words or 256 fronts.
bool rank_bitset(const std::vector<std::vector<double>>& cols, int u, std::vector<int>& rank,
                 int64_t max_front_words);

}  // namespace nasfast::pareto::cpu

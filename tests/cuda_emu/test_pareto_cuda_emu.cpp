// The CUDA non-dominated sort (csrc/ops/pareto/cuda/non_dominated_sort_kernel.cu), run by the host
// emulation of CUDA, against the CPU ranks (cpu/pareto_cpu.h): 2 to 60 objectives (above 32 the
// kernel reads its own row from memory; above 48 its shared-memory tile needs more than the default
// 48 KiB), several blocks and tiles, duplicate rows and ties, one row.
#include <cstdint>
#include <random>
#include <vector>

#include "check.h"
#include "compare.h"
#include "ops/pareto/cpu/pareto_cpu.h"
#include "ops/pareto/cuda/non_dominated_sort_kernel.h"

namespace {

namespace gpu = nasfast::pareto::cuda;
using nasfast_emu_test::check_close;

void check(int64_t n, int m, std::mt19937& rng) {
  // integer values in a small range: many ties and duplicate rows
  std::uniform_int_distribution<int> level(0, 6);
  std::vector<double> F(n * m);
  for (auto& v : F) v = level(rng);
  std::vector<int64_t> rank_g(n, -7), rank_c(n);
  std::vector<char> workspace(gpu::rank_workspace_bytes(n));
  CHECK(gpu::rank(F.data(), n, m, rank_g.data(), workspace.data(), nullptr) == cudaSuccess);
  nasfast::pareto::cpu::non_dominated_rank(F.data(), n, m, rank_c.data());
  check_close("rank", rank_g, rank_c, 0.0);
}

}  // namespace

int main() {
  std::mt19937 rng(9);
  check(1, 2, rng);
  for (const int m : {2, 3, 5, 40, 60}) check(700, m, rng);
  std::printf("%d comparisons\n", nasfast_emu_test::compared());
  TEST_MAIN_RETURN();
}

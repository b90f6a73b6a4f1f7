// The row gather/scatter CUDA launchers (csrc/ops/row_gather/cuda/row_gather_kernel.cu), run by
// the host emulation of CUDA, against the CPU kernels (cpu/row_gather_cpu.h): float, double and
// bfloat16 (same bits on both sides), rows shorter and longer than a block, more rows than the
// grid's 65535 in y (its loop), repeated and dropped (-1) indices.
#include <c10/util/BFloat16.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "check.h"
#include "compare.h"
#include "ops/row_gather/cpu/row_gather_cpu.h"
#include "ops/row_gather/cuda/row_gather_kernel.h"
#include "random_data.h"

namespace {

namespace gpu = nasfast::row_gather::cuda;
namespace cpu = nasfast::row_gather::cpu;
using nasfast_emu_test::check_close;
using nasfast_emu_test::same_bits;
using nasfast_emu_test::values;

// G: the CUDA side's element type, C: the CPU side's (the same bits).
template <typename G, typename C>
void check(int64_t rows, int64_t n, int64_t M, std::mt19937& rng) {
  const double tol = sizeof(G) == 8 ? 1e-12 : sizeof(G) == 4 ? 1e-5 : 1e-2;
  auto rand_rows = [&](int64_t r) {
    std::vector<C> v;
    for (float f : nasfast_test::randn<float>(r * M, rng)) v.push_back(C(f));
    return v;
  };
  std::uniform_int_distribution<int64_t> pick(0, rows - 1);
  const auto x = rand_rows(rows);
  const auto xg = same_bits<G>(x);
  std::vector<int64_t> index(n);
  for (auto& i : index) i = pick(rng);
  for (const bool relu : {false, true}) {
    std::vector<G> out_g(n * M);
    std::vector<C> out_c(n * M);
    CHECK(gpu::gather_rows<G>(xg.data(), index.data(), n, M, relu, out_g.data(), nullptr) ==
          cudaSuccess);
    cpu::gather_rows<C>(x.data(), index.data(), n, M, relu, out_c.data());
    check_close("gather_rows", values<C>(out_g), values<C>(out_c), 0.0);
  }

  const int K = 3;
  std::vector<std::vector<C>> srcs(K);
  std::vector<std::vector<G>> srcs_g(K);
  std::vector<int64_t> maps(K * n);
  std::uniform_int_distribution<int> drop(0, 3);
  for (int k = 0; k < K; ++k) {
    srcs[k] = rand_rows(rows);
    srcs_g[k] = same_bits<G>(srcs[k]);
    for (int64_t r = 0; r < n; ++r) maps[k * n + r] = drop(rng) == 0 ? -1 : pick(rng);
  }
  std::vector<const C*> ps;
  std::vector<const G*> pg;
  for (int k = 0; k < K; ++k) ps.push_back(srcs[k].data()), pg.push_back(srcs_g[k].data());
  std::vector<G> sum_g(n * M);
  std::vector<C> sum_c(n * M);
  CHECK(gpu::gather_sum<G>(pg.data(), maps.data(), K, n, M, sum_g.data(), nullptr) == cudaSuccess);
  cpu::gather_sum<C>(ps.data(), maps.data(), K, n, M, sum_c.data());
  check_close("gather_sum", values<C>(sum_g), values<C>(sum_c), tol);

  // scatter_rows: src rows i go to index[i] (some dropped); the CUDA side takes the sources
  // grouped by destination, as the glue builds them (a stable sort)
  for (auto& i : index)
    if (drop(rng) == 0) i = -1;
  const auto src = rand_rows(n);
  const auto src_g = same_bits<G>(src);
  std::vector<int64_t> order, start(rows + 1, 0);
  for (int64_t i = 0; i < n; ++i)
    if (index[i] >= 0) ++start[index[i] + 1];
  for (int64_t r = 0; r < rows; ++r) start[r + 1] += start[r];
  order.resize(start[rows]);
  std::vector<int64_t> fill(start.begin(), start.end() - 1);
  for (int64_t i = 0; i < n; ++i)
    if (index[i] >= 0) order[fill[index[i]]++] = i;
  std::vector<G> sc_g(rows * M);
  std::vector<C> sc_c(rows * M);
  CHECK(gpu::scatter_rows<G>(src_g.data(), order.data(), start.data(), rows, M, sc_g.data(),
                             nullptr) == cudaSuccess);
  cpu::scatter_rows<C>(src.data(), index.data(), n, rows, M, sc_c.data());
  check_close("scatter_rows", values<C>(sc_g), values<C>(sc_c), tol);
}

}  // namespace

int main() {
  std::mt19937 rng(5);
  for (const auto [rows, n, M] : {std::array<int64_t, 3>{5, 9, 3}, {40, 70, 300}}) {
    check<float, float>(rows, n, M, rng);
    check<double, double>(rows, n, M, rng);
    check<__nv_bfloat16, c10::BFloat16>(rows, n, M, rng);
  }
#ifndef NASFAST_EMU_SANITIZED             // 65535 blocks of 256 fibers: minutes under ASan
  check<float, float>(3, 66000, 2, rng);  // more rows than the grid's 65535 in y: its loop
#endif
  std::printf("%d comparisons\n", nasfast_emu_test::compared());
  TEST_MAIN_RETURN();
}

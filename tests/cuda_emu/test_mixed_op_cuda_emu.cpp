// The mixed_op CUDA launchers (csrc/ops/mixed_op/cuda/mixed_op_kernel.cu), run by the host
// emulation of CUDA, against the CPU kernels (cpu/mixed_op_cpu.h): float, double and bfloat16
// (same bits on both sides), one to kMaxK inputs, sizes that leave a partial block and sizes
// whose grid-stride loops go round more than once (beyond 1024 blocks of 256 threads).
#include <c10/util/BFloat16.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <type_traits>
#include <vector>

#include "check.h"
#include "compare.h"
#include "ops/mixed_op/cpu/mixed_op_cpu.h"
#include "ops/mixed_op/cuda/mixed_op_kernel.h"
#include "random_data.h"

namespace {

namespace gpu = nasfast::mixed_op::cuda;
namespace cpu = nasfast::mixed_op::cpu;
using nasfast_emu_test::check_close;
using nasfast_emu_test::same_bits;
using nasfast_emu_test::values;

// G: the element type of the CUDA side, C: of the CPU side (the same bits), A: accumulation.
template <typename G, typename C, typename A>
void check(int K, int64_t n, std::mt19937& rng) {
  static_assert(sizeof(G) == sizeof(C));
  const double tol = sizeof(G) == 8 ? 1e-12 : sizeof(G) == 4 ? 1e-5 : 1e-2;
  std::vector<std::vector<C>> in_c(K);
  std::vector<std::vector<G>> in_g(K);
  for (int k = 0; k < K; ++k) {
    for (float f : nasfast_test::randn<float>(n, rng)) in_c[k].push_back(C(f));
    in_g[k] = same_bits<G>(in_c[k]);
  }
  const auto w = nasfast_test::randn<A>(K, rng);
  std::vector<const G*> pg;
  std::vector<const C*> pc;
  for (int k = 0; k < K; ++k) pg.push_back(in_g[k].data()), pc.push_back(in_c[k].data());
  std::vector<G> out_g(n);
  std::vector<C> out_c(n);
  CHECK(gpu::forward<G>(pg.data(), w.data(), K, n, out_g.data(), nullptr) == cudaSuccess);
  cpu::forward<C>(pc.data(), w.data(), K, n, out_c.data());
  check_close("forward", values<C>(out_g), values<C>(out_c), tol);

  const auto gf = nasfast_test::randn<float>(n, rng);
  std::vector<C> g_c;
  for (float f : gf) g_c.push_back(C(f));
  const std::vector<G> g_g = same_bits<G>(g_c);
  std::vector<std::vector<G>> gi_g(K, std::vector<G>(n));
  std::vector<std::vector<C>> gi_c(K, std::vector<C>(n));
  std::vector<G*> pgi_g;
  std::vector<C*> pgi_c;
  for (int k = 0; k < K; ++k) pgi_g.push_back(gi_g[k].data()), pgi_c.push_back(gi_c[k].data());
  std::vector<A> dots_g(K), workspace(gpu::backward_workspace_elems(K, n));
  std::vector<double> dots_c(K);
  CHECK(gpu::backward<G>(g_g.data(), pg.data(), w.data(), K, n, pgi_g.data(), dots_g.data(),
                         workspace.data(), nullptr) == cudaSuccess);
  cpu::backward<C>(g_c.data(), pc.data(), w.data(), K, n, pgi_c.data(), dots_c.data());
  for (int k = 0; k < K; ++k) check_close("grad_in", values<C>(gi_g[k]), values<C>(gi_c[k]), tol);
  // float dots over up to 3e5 terms: block partial sums against the CPU's blocked sum
  check_close("dots", dots_g, dots_c, sizeof(A) == 8 ? 1e-10 : 1e-3);
  std::vector<A> dots_only(K);
  CHECK(gpu::backward<G>(g_g.data(), pg.data(), w.data(), K, n, nullptr, dots_only.data(),
                         workspace.data(), nullptr) == cudaSuccess);
  check_close("dots (no grad_in)", dots_only, dots_c, sizeof(A) == 8 ? 1e-10 : 1e-3);
  CHECK(gpu::forward<G>(pg.data(), w.data(), 0, n, out_g.data(), nullptr) == cudaErrorInvalidValue);
}

}  // namespace

int main() {
  std::mt19937 rng(11);
  for (const int64_t n : {int64_t(1), int64_t(1000), int64_t(1024 * 256 * 2 + 77)}) {
    for (const int K : {1, 3}) {
      check<float, float, float>(K, n, rng);
      check<double, double, double>(K, n, rng);
      check<__nv_bfloat16, c10::BFloat16, float>(K, n, rng);
    }
  }
  check<float, float, float>(gpu::kMaxK, 300, rng);
  std::printf("%d comparisons\n", nasfast_emu_test::compared());
  TEST_MAIN_RETURN();
}

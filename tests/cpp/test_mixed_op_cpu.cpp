// mixed_op CPU kernels against a naive loop: sizes around the block edge, K = 1..9, float/double.
#include <random>
#include <vector>

#include "check.h"
#include "ops/mixed_op/cpu/mixed_op_cpu.h"

namespace {

template <typename T>
void check_case(int64_t K, int64_t n, std::mt19937& rng) {
  std::normal_distribution<double> nd;
  std::vector<std::vector<T>> in(K, std::vector<T>(n));
  std::vector<T> w(K), g(n);
  for (auto& v : in)
    for (auto& x : v) x = static_cast<T>(nd(rng));
  for (auto& x : w) x = static_cast<T>(nd(rng));
  for (auto& x : g) x = static_cast<T>(nd(rng));
  std::vector<const T*> ptrs;
  for (auto& v : in) ptrs.push_back(v.data());

  std::vector<T> out(n);
  nasfast::mixed_op::cpu::forward<T>(ptrs.data(), w.data(), K, n, out.data());
  const double tol = sizeof(T) == 8 ? 1e-12 : 1e-4;
  for (int64_t i = 0; i < n; ++i) {
    double ref = 0;
    for (int64_t k = 0; k < K; ++k) ref += static_cast<double>(w[k]) * in[k][i];
    CHECK_NEAR(out[i], ref, tol * (1 + std::fabs(ref)));
  }

  std::vector<std::vector<T>> gin(K, std::vector<T>(n));
  std::vector<T*> gptrs;
  for (auto& v : gin) gptrs.push_back(v.data());
  std::vector<double> dots(K);
  nasfast::mixed_op::cpu::backward<T>(g.data(), ptrs.data(), w.data(), K, n, gptrs.data(),
                                      dots.data());
  for (int64_t k = 0; k < K; ++k) {
    double ref = 0;
    for (int64_t i = 0; i < n; ++i) {
      ref += static_cast<double>(g[i]) * in[k][i];
      CHECK_NEAR(gin[k][i], static_cast<double>(w[k]) * g[i], tol * (1 + std::fabs(g[i])));
    }
    CHECK_NEAR(dots[k], ref, tol * (1 + std::sqrt(static_cast<double>(n))) * 10);
  }
  // Only dots, no grads: the null grad_in path.
  std::vector<double> dots2(K);
  nasfast::mixed_op::cpu::backward<T>(g.data(), ptrs.data(), w.data(), K, n, nullptr, dots2.data());
  for (int64_t k = 0; k < K; ++k) CHECK(dots2[k] == dots[k]);
}

}  // namespace

int main() {
  std::mt19937 rng(7);
  for (int64_t K : {1, 2, 8, 9})
    for (int64_t n : {0, 1, 7, 2047, 2048, 2049, 10000}) {
      check_case<float>(K, n, rng);
      check_case<double>(K, n, rng);
    }
  TEST_MAIN_RETURN();
}

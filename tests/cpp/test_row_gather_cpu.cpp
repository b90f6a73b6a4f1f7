// row_gather CPU kernels against naive loops: row sizes around the block edge, float/double.
#include <random>
#include <vector>

#include "check.h"
#include "ops/row_gather/cpu/row_gather_cpu.h"

namespace {

template <typename T>
void check_case(int64_t M, std::mt19937& rng) {
  namespace k = nasfast::row_gather::cpu;
  std::normal_distribution<double> nd;
  const int64_t R = 5, n = 7;
  std::vector<T> x(R * M);
  for (auto& v : x) v = static_cast<T>(nd(rng));
  const std::vector<int64_t> idx{4, 0, 0, 3, 1, 4, 2};

  std::vector<T> out(n * M);
  for (bool relu : {false, true}) {
    k::gather_rows<T>(x.data(), idx.data(), n, M, relu, out.data());
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < M; ++j) {
        T v = x[idx[i] * M + j];
        if (relu && v < 0) v = 0;
        CHECK(out[i * M + j] == v);
      }
  }

  // gather_sum: two sources (R and 2 rows), 4 output rows, one with no contribution.
  std::vector<T> y(2 * M);
  for (auto& v : y) v = static_cast<T>(nd(rng));
  const T* srcs[2] = {x.data(), y.data()};
  const std::vector<int64_t> maps{3, -1, 0, -1, /* k=1 */ 1, -1, 0, 0};
  std::vector<T> gs(4 * M);
  k::gather_sum<T>(srcs, maps.data(), 2, 4, M, gs.data());
  const double tol = sizeof(T) == 8 ? 1e-12 : 1e-5;
  for (int64_t j = 0; j < M; ++j) {
    CHECK_NEAR(gs[0 * M + j], static_cast<double>(x[3 * M + j]) + y[1 * M + j], tol);
    CHECK(gs[1 * M + j] == 0);
    CHECK_NEAR(gs[2 * M + j], static_cast<double>(x[0 * M + j]) + y[0 * M + j], tol);
    CHECK(gs[3 * M + j] == y[0 * M + j]);
  }

  // scatter_rows: the adjoint of gather_rows (-1 skipped).
  const std::vector<int64_t> sidx{2, -1, 0, 2, 2};
  std::vector<T> sc(3 * M);
  k::scatter_rows<T>(x.data(), sidx.data(), 5, 3, M, sc.data());
  for (int64_t j = 0; j < M; ++j) {
    CHECK(sc[0 * M + j] == x[2 * M + j]);
    CHECK(sc[1 * M + j] == 0);
    const double want = static_cast<double>(x[0 * M + j]) + x[3 * M + j] + x[4 * M + j];
    CHECK_NEAR(sc[2 * M + j], want, tol * 3);
  }
}

}  // namespace

int main() {
  std::mt19937 rng(11);
  for (int64_t M : {1, 7, 2047, 2048, 2049, 70000}) {
    check_case<float>(M, rng);
    check_case<double>(M, rng);
  }
  TEST_MAIN_RETURN();
}

// Pareto CPU kernels against brute force: ranks (every algorithm, ties, duplicates, integer
// values, M = 1..8), crowding distance, and hypervolume against a grid sum (M = 1..5).
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "check.h"
#include "ops/pareto/cpu/pareto_cpu.h"

namespace {

using nasfast::pareto::cpu::NdsAlgorithm;

bool dominates(const double* a, const double* b, int64_t m) {
  bool lt = false;
  for (int64_t j = 0; j < m; ++j) {
    if (a[j] > b[j]) return false;
    lt |= a[j] < b[j];
  }
  return lt;
}

std::vector<int64_t> brute_rank(const std::vector<double>& F, int64_t n, int64_t m) {
  std::vector<int64_t> rank(n, -1);
  int64_t left = n;
  for (int64_t r = 0; left > 0; ++r) {
    std::vector<int64_t> front;
    for (int64_t i = 0; i < n; ++i) {
      if (rank[i] != -1) continue;
      bool dom = false;
      for (int64_t j = 0; j < n && !dom; ++j)
        dom = rank[j] == -1 && j != i && dominates(&F[j * m], &F[i * m], m);
      if (!dom) front.push_back(i);
    }
    for (int64_t i : front) rank[i] = r;
    left -= static_cast<int64_t>(front.size());
  }
  return rank;
}

std::vector<double> random_matrix(int64_t n, int64_t m, int levels, std::mt19937& rng) {
  std::vector<double> F(n * m);
  std::uniform_real_distribution<double> u;
  std::uniform_int_distribution<int> k(0, std::max(levels - 1, 0));
  for (auto& x : F) x = levels > 0 ? k(rng) : u(rng);
  return F;
}

void check_ranks(std::mt19937& rng) {
  for (int trial = 0; trial < 400; ++trial) {
    const int64_t m = 1 + trial % 8;
    const int64_t n = std::uniform_int_distribution<int64_t>(0, 120)(rng);
    const int levels = trial % 3 == 0 ? 0 : 2 + trial % 5;  // 0: continuous
    auto F = random_matrix(n, m, levels, rng);
    if (n > 4) std::copy(F.begin(), F.begin() + m, F.begin() + 2 * m);  // a duplicate row
    const auto want = brute_rank(F, n, m);
    for (auto algo : {NdsAlgorithm::kAuto, NdsAlgorithm::kDivideConquer, NdsAlgorithm::kBitset}) {
      if (algo == NdsAlgorithm::kBitset && m < 3) continue;
      std::vector<int64_t> got(n, -7);
      nasfast::pareto::cpu::non_dominated_rank(F.data(), n, m, got.data(), algo);
      CHECK(got == want);
    }
  }
  // Larger inputs: all algorithms agree (M = 3..6), including many fronts (correlated values).
  for (int64_t m = 3; m <= 6; ++m) {
    for (int corr = 0; corr < 2; ++corr) {
      const int64_t n = 3000;
      auto F = random_matrix(n, m, m == 4 ? 50 : 0, rng);
      if (corr)
        for (int64_t i = 0; i < n; ++i)
          for (int64_t j = 1; j < m; ++j) F[i * m + j] = F[i * m] + 0.05 * F[i * m + j];
      std::vector<int64_t> a(n), b(n), c(n);
      nasfast::pareto::cpu::non_dominated_rank(F.data(), n, m, a.data(), NdsAlgorithm::kAuto);
      nasfast::pareto::cpu::non_dominated_rank(F.data(), n, m, b.data(),
                                               NdsAlgorithm::kDivideConquer);
      nasfast::pareto::cpu::non_dominated_rank(F.data(), n, m, c.data(), NdsAlgorithm::kBitset);
      CHECK(a == b);
      CHECK(a == c);
    }
  }
  // Past 12,800 rows the bitset checkpoints lie 256 rows apart: skewed columns (values over
  // decades, few levels, a constant) make their value buckets uneven.
  {
    const int64_t n = 13000, m = 5;
    auto F = random_matrix(n, m, 0, rng);
    for (int64_t i = 0; i < n; ++i) {
      F[i * m + 1] = std::exp(20 * F[i * m + 1]);
      F[i * m + 2] = std::floor(3 * F[i * m + 2]);
      F[i * m + 3] = 2.5;
    }
    std::vector<int64_t> b(n), c(n);
    nasfast::pareto::cpu::non_dominated_rank(F.data(), n, m, b.data(),
                                             NdsAlgorithm::kDivideConquer);
    nasfast::pareto::cpu::non_dominated_rank(F.data(), n, m, c.data(), NdsAlgorithm::kBitset);
    CHECK(b == c);
  }
}

void check_crowding() {
  // One front of 4 points in 2-D: distances by hand.
  const std::vector<double> F = {0, 4, 1, 2, 2, 1, 4, 0};
  const std::vector<int64_t> rank = {0, 0, 0, 0};
  std::vector<double> cd(4);
  nasfast::pareto::cpu::crowding_distance(F.data(), rank.data(), 4, 2, cd.data());
  CHECK(std::isinf(cd[0]) && std::isinf(cd[3]));
  // Point 1: f0 (2 - 0) / 4, f1 (4 - 1) / 4 -> (0.5 + 0.75) / 2.
  CHECK_NEAR(cd[1], (0.5 + 0.75) / 2, 1e-15);
  CHECK_NEAR(cd[2], ((4.0 - 1) / 4 + (2.0 - 0) / 4) / 2, 1e-15);
  // Fronts of <= 2 points are infinite; a constant objective adds nothing.
  const std::vector<double> G = {0, 1, 1, 1, 2, 1, 5, 5};
  const std::vector<int64_t> r2 = {0, 0, 0, 1};
  nasfast::pareto::cpu::crowding_distance(G.data(), r2.data(), 4, 2, cd.data());
  CHECK(std::isinf(cd[0]) && std::isinf(cd[2]) && std::isinf(cd[3]));
  CHECK_NEAR(cd[1], (2.0 / 2) / 2, 1e-15);
}

double grid_hv(const std::vector<double>& F, int64_t n, int64_t m, const std::vector<double>& ref) {
  std::vector<std::vector<double>> ax(m);
  for (int64_t j = 0; j < m; ++j) {
    for (int64_t i = 0; i < n; ++i)
      if (F[i * m + j] < ref[j]) ax[j].push_back(F[i * m + j]);
    ax[j].push_back(ref[j]);
    std::sort(ax[j].begin(), ax[j].end());
    ax[j].erase(std::unique(ax[j].begin(), ax[j].end()), ax[j].end());
  }
  for (int64_t j = 0; j < m; ++j)
    if (ax[j].size() < 2) return 0.0;
  std::vector<size_t> idx(m, 0);  // the cell [ax[j][idx[j]], ax[j][idx[j] + 1]) per objective
  double total = 0;
  while (true) {
    bool covered = false;
    for (int64_t i = 0; i < n && !covered; ++i) {
      bool in = true;
      for (int64_t j = 0; j < m && in; ++j)
        in = F[i * m + j] <= ax[j][idx[j]] && F[i * m + j] < ref[j];
      covered = in;
    }
    if (covered) {
      double v = 1;
      for (int64_t j = 0; j < m; ++j) v *= ax[j][idx[j] + 1] - ax[j][idx[j]];
      total += v;
    }
    int64_t j = 0;
    for (; j < m; ++j) {
      if (++idx[j] + 1 < ax[j].size()) break;
      idx[j] = 0;
    }
    if (j == m) break;
  }
  return total;
}

void check_hypervolume(std::mt19937& rng) {
  for (int trial = 0; trial < 150; ++trial) {
    const int64_t m = 1 + trial % 5;
    const int64_t n = std::uniform_int_distribution<int64_t>(0, m >= 4 ? 9 : 25)(rng);
    auto F = random_matrix(n, m, trial % 2 ? 4 : 0, rng);
    std::vector<double> ref(m, trial % 2 ? 3.0 : 0.9);
    const double want = grid_hv(F, n, m, ref);
    const double got = nasfast::pareto::cpu::hypervolume(F.data(), n, m, ref.data());
    CHECK_NEAR(got, want, 1e-12 * (1 + want));
  }
  const std::vector<double> one = {1, 2, 3};
  const std::vector<double> ref = {2, 4, 6};
  CHECK_NEAR(nasfast::pareto::cpu::hypervolume(one.data(), 1, 3, ref.data()), 1 * 2 * 3, 0);
  const std::vector<double> outside = {2, 0, 0};  // not strictly better in objective 0
  CHECK(nasfast::pareto::cpu::hypervolume(outside.data(), 1, 3, ref.data()) == 0.0);
}

}  // namespace

int main() {
  std::mt19937 rng(1234);
  check_ranks(rng);
  check_crowding();
  check_hypervolume(rng);
  TEST_MAIN_RETURN();
}

#pragma once
// Random test data for the C++ kernel tests.
#include <cstddef>
#include <random>
#include <vector>

namespace nasfast_test {

// n standard-normal values of type T.
template <typename T>
std::vector<T> randn(size_t n, std::mt19937& rng) {
  std::normal_distribution<double> nd;
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(nd(rng));
  return v;
}

}  // namespace nasfast_test

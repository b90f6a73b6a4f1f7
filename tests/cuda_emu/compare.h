#pragma once
// Elementwise comparison for the CUDA host emulation's tests: the emulated CUDA result against
// the CPU kernel's.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <type_traits>
#include <vector>

#include "check.h"

namespace nasfast_emu_test {

inline int& compared() {
  static int n = 0;
  return n;
}

// |a - b| <= tol * (1 + |b|) everywhere (b the CPU kernel's value); NaNs must match.
template <typename A, typename B>
void check_close(const char* what, const std::vector<A>& a, const std::vector<B>& b, double tol) {
  CHECK(a.size() == b.size());
  int bad = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    const double x = double(a[i]), y = double(b[i]);
    const bool ok = std::isnan(y) ? std::isnan(x) : std::fabs(x - y) <= tol * (1 + std::fabs(y));
    if (!ok && bad++ < 3)
      std::fprintf(stderr, "%s[%zu]: emulated CUDA %.17g, CPU %.17g\n", what, i, x, y);
  }
  CHECK(bad == 0);
  ++compared();
}

// The same bits as another element type of the same width (__nv_bfloat16 <-> c10::BFloat16).
template <typename To, typename From>
std::vector<To> same_bits(const std::vector<From>& v) {
  static_assert(sizeof(To) == sizeof(From));
  std::vector<To> out(v.size());
  std::memcpy(out.data(), v.data(), v.size() * sizeof(From));
  return out;
}

// The values of v, read as the CPU element type C (the same bits), in double.
template <typename C, typename G>
std::vector<double> values(const std::vector<G>& v) {
  std::vector<double> out;
  for (const C& c : same_bits<C>(v)) {
    if constexpr (std::is_arithmetic_v<C>) {
      out.push_back(double(c));
    } else {
      out.push_back(double(static_cast<float>(c)));  // bfloat16
    }
  }
  return out;
}

}  // namespace nasfast_emu_test

#pragma once
// Elementwise comparison for the CUDA host emulation's tests: the emulated CUDA result against
// the CPU kernel's.
#include <cmath>
#include <cstdio>
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

}  // namespace nasfast_emu_test

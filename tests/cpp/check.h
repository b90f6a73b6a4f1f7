#pragma once
// A minimal test harness for the C++ kernel tests: CHECK records failures, main returns them.
#include <cmath>
#include <cstdio>

namespace nasfast_test {
inline int& failures() {
  static int n = 0;
  return n;
}
}  // namespace nasfast_test

#define CHECK(cond)                                                                 \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++nasfast_test::failures();                                                   \
    }                                                                               \
  } while (0)

#define CHECK_NEAR(a, b, tol) \
  CHECK(std::fabs(static_cast<double>(a) - static_cast<double>(b)) <= (tol))

#define TEST_MAIN_RETURN()                                                          \
  do {                                                                              \
    std::printf("%s\n", nasfast_test::failures() ? "FAILED" : "all checks passed"); \
    return nasfast_test::failures() ? 1 : 0;                                        \
  } while (0)

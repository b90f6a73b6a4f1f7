#pragma once
// Per-ISA copies of CPU kernels, as PyTorch's CPU_CAPABILITY: a kernel source
// (csrc/**/cpu/*_kernels.cpp) is an ordinary .cpp that the build (setup.py, CMakeLists.txt)
// compiles once per capability: as is for the baseline ISA, and through a generated one-line
// wrapper that defines NASFAST_CPU_CAPABILITY_AVX2 for AVX2+FMA. The kernel code sits in
// `namespace ... ::NASFAST_CPU_CAPABILITY` (base or avx2) between NASFAST_CPU_CAPABILITY_BEGIN and
// NASFAST_CPU_CAPABILITY_END, and each copy exports a table of its kernels; the op picks a table
// at run time (cpu_has_avx2()). The extension itself is built without -march flags, so it runs
// on any x86-64.
#if defined(NASFAST_CPU_CAPABILITY_AVX2)
#define NASFAST_CPU_CAPABILITY avx2
#else
#define NASFAST_CPU_CAPABILITY base
#endif

#if defined(NASFAST_CPU_CAPABILITY_AVX2) && defined(__GNUC__) && \
    (defined(__x86_64__) || defined(__i386__))
// Planes and pixel runs are short rows: gcc turned their copies and fills into a libc call per
// row, which cost more than the copy (3% of a DARTS edge step at 32x32).
#define NASFAST_CPU_CAPABILITY_BEGIN                              \
  _Pragma("GCC push_options") _Pragma("GCC target(\"avx2,fma\")") \
      _Pragma("GCC optimize(\"fp-contract=fast\")")               \
          _Pragma("GCC optimize(\"no-tree-loop-distribute-patterns\")")
#define NASFAST_CPU_CAPABILITY_END _Pragma("GCC pop_options")
#else
#define NASFAST_CPU_CAPABILITY_BEGIN
#define NASFAST_CPU_CAPABILITY_END
#endif

namespace nasfast {

// Whether the AVX2+FMA copies of the kernels run here (checked once).
bool cpu_has_avx2();

}  // namespace nasfast

#pragma once
// NASFAST_MULTIVERSION compiles a hot loop twice, for x86-64-v3 (AVX2+FMA) and for the baseline
// ISA, and picks one at load time. The extension is built without -march flags so it runs on any
// x86-64; without this the compiler may also leave a memory-bound loop scalar.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define NASFAST_MULTIVERSION __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define NASFAST_MULTIVERSION
#endif

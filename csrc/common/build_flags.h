#pragma once

#ifndef NASFAST_VERSION
#define NASFAST_VERSION "unknown"
#endif

namespace nasfast {

#ifdef NASFAST_WITH_CUDA
inline constexpr bool kWithCuda = true;
#else
inline constexpr bool kWithCuda = false;
#endif

#ifdef _OPENMP
inline constexpr bool kWithOpenMP = true;
#else
inline constexpr bool kWithOpenMP = false;
#endif

}  // namespace nasfast

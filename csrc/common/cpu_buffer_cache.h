#pragma once
// A cache of freed CPU buffers for the fused ops' intermediates (like the CUDA caching
// allocator, for the CPU). glibc hands large freed blocks back to the OS (munmap, heap
// trimming), so a loop that runs the same op again page-faults all its intermediates in anew:
// measured ~15% of a standalone fused DARTS-edge step. A tensor made here gives its buffer back
// to the cache when freed; the next request of the same byte size reuses it. The cache holds
// at most max_cached_cpu_bytes() of free buffers and frees the rest.
#include <ATen/ATen.h>

#include <cstddef>

namespace nasfast {

// An uninitialised CPU tensor (contiguous, or options' memory format) from the cache.
at::Tensor cached_empty(at::IntArrayRef sizes, const at::TensorOptions& options);

// Bytes of free buffers the cache holds now, and the most it keeps.
size_t cached_cpu_bytes();
size_t max_cached_cpu_bytes();

// Frees every cached buffer (buffers in use return to the cache when their tensors go).
void release_cached_cpu_buffers();

}  // namespace nasfast

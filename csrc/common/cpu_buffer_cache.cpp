// See cpu_buffer_cache.h.
#include "common/cpu_buffer_cache.h"

#include <ATen/EmptyTensor.h>
#include <c10/core/Allocator.h>
#include <c10/core/impl/alloc_cpu.h>

#include <mutex>
#include <unordered_map>
#include <vector>

namespace nasfast {
namespace {

constexpr size_t kMaxCached = size_t(256) << 20;
// Each block starts with its byte size; the data follows, 64-byte aligned as c10's CPU memory.
constexpr size_t kHeader = 64;

class Cache {
 public:
  void* take(size_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = free_.find(n);
    if (it == free_.end() || it->second.empty()) return nullptr;
    void* base = it->second.back();
    it->second.pop_back();
    bytes_ -= n;
    return base;
  }
  void put(void* base, size_t n) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (bytes_ + n <= kMaxCached) {
        free_[n].push_back(base);
        bytes_ += n;
        return;
      }
    }
    c10::free_cpu(base);
  }
  size_t bytes() {
    std::lock_guard<std::mutex> lock(mu_);
    return bytes_;
  }
  void release() {
    std::unordered_map<size_t, std::vector<void*>> old;
    {
      std::lock_guard<std::mutex> lock(mu_);
      old.swap(free_);
      bytes_ = 0;
    }
    for (auto& [n, blocks] : old)
      for (void* b : blocks) c10::free_cpu(b);
  }

 private:
  std::mutex mu_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  size_t bytes_ = 0;
};

// Never destroyed: tensors may be freed during static destruction at exit.
Cache& cache() {
  static Cache* c = new Cache;
  return *c;
}

class CachingAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t n) override {
    void* base = cache().take(n);
    if (!base) base = c10::alloc_cpu(n + kHeader);
    *static_cast<size_t*>(base) = n;
    return {static_cast<char*>(base) + kHeader, base, &give_back, c10::Device(c10::kCPU)};
  }
  void copy_data(void* dest, const void* src, std::size_t count) const override {
    default_copy_data(dest, src, count);
  }

 private:
  static void give_back(void* base) { cache().put(base, *static_cast<size_t*>(base)); }
};

CachingAllocator& allocator() {
  static CachingAllocator* a = new CachingAllocator;
  return *a;
}

}  // namespace

at::Tensor cached_empty(at::IntArrayRef sizes, const at::TensorOptions& options) {
  return at::detail::empty_generic(sizes, &allocator(), c10::DispatchKeySet(c10::DispatchKey::CPU),
                                   c10::typeMetaToScalarType(options.dtype()),
                                   options.memory_format_opt());
}

size_t cached_cpu_bytes() { return cache().bytes(); }
size_t max_cached_cpu_bytes() { return kMaxCached; }
void release_cached_cpu_buffers() { cache().release(); }

}  // namespace nasfast

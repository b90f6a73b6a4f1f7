#pragma once
// Per-thread buffers kept between calls (header-only, internal). Repeated sorts (an NSGA-II
// run, a benchmark) would otherwise page-fault fresh memory on every call: glibc hands buffers
// over 128 KiB back to the kernel; at M = 5, N = 2*10^4 that doubled the set-up before the scan.
#include <cstddef>
#include <type_traits>
#include <vector>

namespace nasfast::pareto::cpu {

// A std::vector<T> of n elements (contents unspecified: the caller writes before reading) owned
// by this thread and this Tag. One live KeptBuffer per (T, Tag) per thread: give each call site
// its own Tag and use it only in non-recursive code. Buffers past kKeepBytes are freed on exit.
template <typename T, int Tag>
class KeptBuffer {
 public:
  explicit KeptBuffer(size_t n) : v_(store()) { v_.resize(n); }
  ~KeptBuffer() {
    if (v_.capacity() * sizeof(T) > kKeepBytes) std::vector<T>().swap(v_);
    if constexpr (is_vector<T>::value)  // a buffer of columns: the same limit for each
      for (T& x : v_)
        if (x.capacity() * sizeof(typename T::value_type) > kKeepBytes) T().swap(x);
  }
  KeptBuffer(const KeptBuffer&) = delete;
  KeptBuffer& operator=(const KeptBuffer&) = delete;
  T* data() { return v_.data(); }
  T& operator[](size_t i) { return v_[i]; }
  const T& operator[](size_t i) const { return v_[i]; }
  std::vector<T>& vec() { return v_; }

 private:
  template <typename U>
  struct is_vector : std::false_type {};
  template <typename U>
  struct is_vector<std::vector<U>> : std::true_type {};
  static constexpr size_t kKeepBytes = size_t{8} << 20;
  static std::vector<T>& store() {
    thread_local std::vector<T> v;
    return v;
  }
  std::vector<T>& v_;
};

}  // namespace nasfast::pareto::cpu

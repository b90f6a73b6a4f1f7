// The CPU buffer cache (csrc/common/cpu_buffer_cache.h): a freed tensor's buffer is reused by
// the next request of the same byte size and only then; memory formats; release; the cap. Under
// ASan this also checks that no buffer is used after it went back or was freed twice.
#include <ATen/ATen.h>

#include <vector>

#include "check.h"
#include "common/cpu_buffer_cache.h"

int main() {
  using nasfast::cached_cpu_bytes;
  using nasfast::cached_empty;
  nasfast::release_cached_cpu_buffers();
  CHECK(cached_cpu_bytes() == 0);

  const auto f32 = at::TensorOptions().dtype(at::kFloat);
  void* first = nullptr;
  {
    at::Tensor a = cached_empty({4, 8, 5, 5}, f32);
    CHECK(a.is_contiguous() && a.numel() == 800 && a.device().is_cpu());
    a.fill_(1.5f);
    first = a.data_ptr();
  }
  CHECK(cached_cpu_bytes() == 800 * sizeof(float));
  {
    at::Tensor b = cached_empty({4, 8, 5, 5}, f32.memory_format(at::MemoryFormat::ChannelsLast));
    CHECK(b.data_ptr() == first);  // same byte size: reused
    CHECK(b.is_contiguous(at::MemoryFormat::ChannelsLast) && !b.is_contiguous());
    CHECK(cached_cpu_bytes() == 0);
    at::Tensor c = cached_empty({800}, f32.dtype(at::kDouble));
    CHECK(c.data_ptr() != first);  // another size: a new buffer
    c.fill_(2.0);
    CHECK(c.sum().item<double>() == 1600.0);
    at::Tensor d = c.view({20, 40});  // a view keeps the buffer until the last user goes
    c.reset();
    CHECK(cached_cpu_bytes() == 0);
    CHECK(d.sum().item<double>() == 1600.0);
  }
  CHECK(cached_cpu_bytes() == 800 * sizeof(float) + 800 * sizeof(double));
  nasfast::release_cached_cpu_buffers();
  CHECK(cached_cpu_bytes() == 0);

  // resizing a cached tensor allocates through the cache as well
  at::Tensor r = cached_empty({3}, f32);
  r.resize_({1000});
  r.fill_(1.0f);
  CHECK(r.sum().item<float>() == 1000.0f);
  CHECK(cached_cpu_bytes() == 3 * sizeof(float));  // the old buffer went back
  r.reset();
  CHECK(cached_cpu_bytes() == 1003 * sizeof(float));

  // beyond the cap, freed buffers go back to the system
  const size_t cap = nasfast::max_cached_cpu_bytes();
  const int64_t big = static_cast<int64_t>(cap / sizeof(float) / 3 + 1);
  {
    std::vector<at::Tensor> ts;
    for (int i = 0; i < 4; ++i) ts.push_back(cached_empty({big}, f32));
  }
  CHECK(cached_cpu_bytes() <= cap);
  CHECK(cached_cpu_bytes() >= 2 * big * sizeof(float));
  nasfast::release_cached_cpu_buffers();
  CHECK(cached_cpu_bytes() == 0);
  TEST_MAIN_RETURN();
}

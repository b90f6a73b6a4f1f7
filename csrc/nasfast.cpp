// The nasfast library and the pybind11 module nasfast._C.
//
// Each op defines its own schemas with TORCH_LIBRARY_FRAGMENT in csrc/ops/<op>/<op>.cpp (so an op
// lives in one folder); this file opens the library and carries what is not a tensor op.
#include <torch/extension.h>

#include <ATen/Parallel.h>

#include "common/build_flags.h"
#include "common/cpu_buffer_cache.h"
#include "ops/darts_edge/darts_edge_layout.h"

TORCH_LIBRARY(nasfast, m) {}

namespace {

std::vector<std::string> compiled_backends() {
  std::vector<std::string> b{"cpu"};
  if (nasfast::kWithCuda) b.emplace_back("cuda");
  return b;
}

}  // namespace

PYBIND11_MODULE(_C, m) {
  m.doc() = "nasfast compiled kernels";
  m.attr("__version__") = NASFAST_VERSION;
  m.def("compiled_backends", &compiled_backends,
        "Backends whose kernels are compiled into this build");
  m.def("openmp_enabled", [] { return nasfast::kWithOpenMP; });
  m.def("num_threads", [] { return at::get_num_threads(); }, "Threads at::parallel_for uses now");
  m.def("parallel_info", [] { return at::get_parallel_info(); });
  m.def("cpu_cache_bytes", &nasfast::cached_cpu_bytes,
        "Bytes of freed CPU buffers the fused ops keep for reuse");
  m.def("max_cpu_cache_bytes", &nasfast::max_cached_cpu_bytes,
        "The most bytes of freed CPU buffers the fused ops keep");
  m.def("empty_cpu_cache", &nasfast::release_cached_cpu_buffers,
        "Free the CPU buffers the fused ops keep for reuse");
  m.def(
      "_darts_edge_layout",
      [](const std::string& name) {
        const std::string old = nasfast::darts_edge::layout_name();
        if (!name.empty()) nasfast::darts_edge::set_layout(name);
        return old;
      },
      "Set the CPU DartsEdge layout ('auto', 'nchw', 'nhwc'; '' keeps it); returns the old one",
      pybind11::arg("name") = "");
}

// The whole fused DARTS edge as the CUDA glue runs it (darts_edge_forward.h and
// darts_edge_backward.h with the CUDA kernel policy, mixing weights read from "device" memory
// behind 1.0 placeholders), executed by the host emulation of CUDA, against the same body with the
// CPU NCHW policy (which tests/ and tests/cpp check against the reference module): forward outputs,
// statistics, saved tensors and every gradient, in training and eval mode, stride 1 and 2, with and
// without saved tensors, the GDAS single path, a zero mixing weight, and partial gradient needs. It
// also holds the kernel launches of a training step (forward + backward) to a budget: on a GPU at
// DARTS sizes each launch costs the host more than its kernel takes.
#include <ATen/ATen.h>

#include <cstdio>
#include <string>
#include <tuple>
#include <vector>

#include "ops/darts_edge/cpu/darts_edge_nchw_policy.h"
#include "ops/darts_edge/cuda/darts_edge_cuda_policy.h"
#include "ops/darts_edge/darts_edge_backward.h"
#include "ops/darts_edge/darts_edge_boundary.h"
#include "ops/darts_edge/darts_edge_forward.h"
#undef CHECK  // c10's logging macro; the tests' own (check.h) replaces it
#include "check.h"
#include "compare.h"

namespace {

namespace de = nasfast::darts_edge;

struct HostStream {
  static cudaStream_t get() { return nullptr; }
};
using Emulated = de::CudaKernels<HostStream>;
using Cpu = de::CpuNchwKernels;

void check_close(const std::string& what, const at::Tensor& emu, const at::Tensor& cpu,
                 double tol) {
  const bool same_shape = emu.sizes() == cpu.sizes();
  const bool ok = same_shape && at::allclose(emu.to(at::kDouble), cpu.to(at::kDouble), tol, tol,
                                             /*equal_nan=*/true);
  if (!ok) {
    const double diff =
        same_shape ? (emu.to(at::kDouble) - cpu.to(at::kDouble)).abs().max().item<double>() : -1;
    std::fprintf(stderr, "%s: emulated CUDA differs from CPU (max |diff| %g, shapes %s)\n",
                 what.c_str(), diff, same_shape ? "equal" : "differ");
  }
  CHECK(ok);
  ++nasfast_emu_test::compared();
}

struct Case {
  int64_t N, C, H, W, s;
  bool training, save;
  int64_t active;
  de::NeedGrad need;
  bool zero_weight;
  int launch_budget = 0;  // > 0: at most this many kernel launches in forward + backward
};

template <typename T>
void check_case(const Case& c) {
  const double tol = sizeof(T) == 8 ? 1e-9 : 2e-3;
  const auto opts = at::TensorOptions().dtype(c10::CppTypeToScalarType<T>::value);
  const at::Tensor x = at::randn({c.N, c.C, c.H, c.W}, opts);
  at::Tensor weights = at::softmax(at::randn({de::kOps}, opts), 0);
  if (c.zero_weight) weights[5] = 0;
  std::vector<at::Tensor> cw;
  for (int i = 0; i < (c.s == 2 ? 14 : 12); ++i)
    cw.push_back(at::randn(de::conv_shape(i, c.C), opts));
  const at::Tensor running = at::rand({2, de::kSlots, c.C}, opts) + 0.5;
  const de::MixWeights<T> on_cpu{de::weight_values(weights)};
  const de::MixWeights<T> on_device{std::vector<double>(de::kOps, 1.0), weights.data_ptr<T>()};
  const double eps = 1e-5;

  const auto [out_c, stats_c, saved_c] =
      de::forward<Cpu, T>(x, on_cpu, cw, running, c.s, c.training, eps, c.active, c.save);
  const uint64_t launches0 = nasfast_emu::launch_count();
  const auto [out_e, stats_e, saved_e] =
      de::forward<Emulated, T>(x, on_device, cw, running, c.s, c.training, eps, c.active, c.save);
  const uint64_t launches1 = nasfast_emu::launch_count();
  check_close("out", out_e, out_c, tol);
  check_close("stats", stats_e, stats_c, tol);
  check_close("saved", saved_e, saved_c, tol);

  const at::Tensor grad = at::randn_like(out_c);
  const auto [gx_c, gw_c, gcw_c] = de::backward<Cpu, T>(grad, x, on_cpu, cw, stats_c, saved_c, c.s,
                                                        c.training, c.active, c.need);
  const auto [gx_e, gw_e, gcw_e] = de::backward<Emulated, T>(
      grad, x, on_device, cw, stats_e, saved_e, c.s, c.training, c.active, c.need);
  const uint64_t launches2 = nasfast_emu::launch_count();
  if (c.launch_budget > 0) {
    // the kernel launches of a training step: the host's cost on a GPU at these sizes
    const uint64_t step = launches2 - launches0;
    std::printf("stride %ld training step: %lu kernel launches (%lu forward)\n", long(c.s),
                (unsigned long)step, (unsigned long)(launches1 - launches0));
    CHECK(step <= uint64_t(c.launch_budget));
  }
  if (c.need.x) check_close("grad x", gx_e, gx_c, tol * 10);
  if (c.need.weights) check_close("grad weights", gw_e, gw_c, tol * 10);
  CHECK(gcw_e.size() == gcw_c.size());
  for (size_t i = 0; i < gcw_e.size() && i < gcw_c.size(); ++i)
    check_close("grad conv_weights[" + std::to_string(i) + "]", gcw_e[i], gcw_c[i], tol * 10);
}

}  // namespace

int main() {
  at::manual_seed(3);
  const int64_t all = (1 << de::kOps) - 1;
  const de::NeedGrad every{}, alpha_only{false, true, false}, no_weights{true, false, true};
  const Case cases[] = {
      {2, 4, 6, 7, 1, true, true, all, every, false, 40},
      {2, 4, 6, 6, 2, true, true, all, every, false, 44},
      {3, 4, 5, 5, 1, false, false, all, every, false},
      {2, 4, 6, 6, 2, false, true, all, every, false},
      {2, 4, 5, 6, 1, true, false, all, every, false},    // backward recomputes everything
      {2, 4, 5, 6, 1, true, true, 1 << 5, every, false},  // GDAS single path, sep_conv_5x5
      {2, 4, 6, 6, 2, true, true, 1 << 3, every, false},  // FactorizedReduce alone
      {2, 4, 6, 6, 2, true, true, (1 << 1) | (1 << 2), every, false},  // the pools
      {2, 4, 6, 7, 1, true, true, all, alpha_only, false},
      {2, 4, 6, 6, 2, true, true, all, no_weights, false},
      {2, 4, 6, 7, 1, true, true, all, every, true},
      {1, 2, 3, 3, 1, true, true, all, every, false},
  };
  for (const Case& c : cases) check_case<double>(c);
  check_case<float>(cases[0]);
  check_case<float>(cases[1]);
  std::printf("%d comparisons\n", nasfast_emu_test::compared());
  TEST_MAIN_RETURN();
}

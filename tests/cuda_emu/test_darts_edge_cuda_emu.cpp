// The darts_edge CUDA launchers (csrc/ops/darts_edge/cuda/darts_edge_kernel.cu), run by the host
// emulation of CUDA (tests/cuda_emu), against the CPU kernels with the same contracts
// (cpu/darts_edge_nchw.h; those are checked against naive loops in tests/cpp). Odd and even
// sizes, stride 1 and 2, one sample and many (so the per-channel reductions split into several
// chunks), float and double, the optional outputs left out, and the weights read from "device"
// memory.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "check.h"
#include "compare.h"
#include "ops/darts_edge/cpu/darts_edge_nchw.h"
#include "ops/darts_edge/cuda/darts_edge_kernel.h"
#include "random_data.h"

namespace {

namespace cpu = nasfast::darts_edge::cpu;
namespace gpu = nasfast::darts_edge::cuda;
using cpu::Dims;
using cpu::DwSpec;
using cpu::kStage1;
using nasfast_test::randn;

template <typename T>
double tol() {
  return sizeof(T) == 8 ? 1e-10 : 2e-4;
}

using nasfast_emu_test::check_close;

template <typename T>
std::vector<const T*> cptrs(const std::vector<std::vector<T>>& v) {
  std::vector<const T*> p;
  for (const auto& x : v) p.push_back(x.empty() ? nullptr : x.data());
  return p;
}
template <typename T>
std::vector<T*> mptrs(std::vector<std::vector<T>>& v) {
  std::vector<T*> p;
  for (auto& x : v) p.push_back(x.empty() ? nullptr : x.data());
  return p;
}

// stage1_forward and stage1_backward; `some` leaves out branches 1 and 3 and the max pool.
template <typename T>
void check_stage1(const Dims& d, bool some, std::mt19937& rng) {
  const int64_t n_in = d.N * d.C * d.H * d.W, n_out = d.N * d.C * d.Ho * d.Wo;
  const bool fr = d.s == 2 && d.H % 2 == 0 && d.W % 2 == 0;
  const auto x = randn<T>(n_in, rng);
  std::vector<std::vector<T>> w(4), g(4);
  for (int b = 0; b < 4; ++b) {
    w[b] = randn<T>(d.C * kStage1[b].k * kStage1[b].k, rng);
    if (!(some && b % 2)) g[b] = randn<T>(n_out, rng);
  }
  auto sized = [&](bool on) { return std::vector<T>(on ? n_out : 0); };
  std::vector<std::vector<T>> out_e(4), out_c(4);
  for (int b = 0; b < 4; ++b) out_e[b] = out_c[b] = sized(!(some && b % 2));
  std::vector<T> max_e = sized(!some), max_c = max_e, avg_e = sized(true), avg_c = avg_e;
  std::vector<T> fr0_e = sized(fr), fr0_c = fr0_e, fr1_e = sized(fr), fr1_c = fr1_e;
  auto nul = [](std::vector<T>& v) { return v.empty() ? nullptr : v.data(); };
  CHECK(gpu::stage1_forward<T>(x.data(), d, cptrs(w).data(), mptrs(out_e).data(), nul(max_e),
                               nul(avg_e), nul(fr0_e), nul(fr1_e), nullptr) == cudaSuccess);
  cpu::nchw::stage1_forward<T>(x.data(), d, cptrs(w).data(), mptrs(out_c).data(), nul(max_c),
                               nul(avg_c), nul(fr0_c), nul(fr1_c));
  for (int b = 0; b < 4; ++b) check_close("stage1 dw_out", out_e[b], out_c[b], tol<T>());
  check_close("stage1 max", max_e, max_c, 0.0);
  check_close("stage1 avg", avg_e, avg_c, tol<T>());
  check_close("stage1 fr0", fr0_e, fr0_c, 0.0);
  check_close("stage1 fr1", fr1_e, fr1_c, 0.0);

  const auto g_max = randn<T>(some ? 0 : n_out, rng), g_avg = randn<T>(n_out, rng);
  const auto g_fr0 = randn<T>(fr ? n_out : 0, rng), g_fr1 = randn<T>(fr ? n_out : 0, rng);
  const auto g_skip = randn<T>(d.s == 1 ? n_in : 0, rng);
  const std::vector<T> skip_w = {T(0.37)};
  auto cnul = [](const std::vector<T>& v) { return v.empty() ? nullptr : v.data(); };
  std::vector<std::vector<T>> gw_e(4), gw_c(4);
  for (int b = 0; b < 4; ++b) gw_e[b] = gw_c[b] = std::vector<T>(g[b].empty() ? 0 : w[b].size());
  std::vector<T> gx_e(n_in), gx_c(n_in);
  // the skip weight from "device" memory, the value argument deliberately wrong
  CHECK(gpu::stage1_backward<T>(x.data(), d, cptrs(w).data(), cptrs(g).data(), cnul(g_max),
                                cnul(g_avg), cnul(g_fr0), cnul(g_fr1), cnul(g_skip), T(-5),
                                skip_w.data(), gx_e.data(), mptrs(gw_e).data(),
                                nullptr) == cudaSuccess);
  cpu::nchw::stage1_backward<T>(x.data(), d, cptrs(w).data(), cptrs(g).data(), cnul(g_max),
                                cnul(g_avg), cnul(g_fr0), cnul(g_fr1), cnul(g_skip), skip_w[0],
                                gx_c.data(), mptrs(gw_c).data());
  check_close("stage1 gx", gx_e, gx_c, tol<T>() * 10);
  for (int b = 0; b < 4; ++b) check_close("stage1 dw_grad", gw_e[b], gw_c[b], tol<T>() * 10);
}

// bn_stats, bn_relu_dw_forward / _backward with the second sep-conv stage's kernels.
template <typename T>
void check_bn_dw(int64_t N, int64_t C, int64_t H, int64_t W, std::mt19937& rng) {
  const int64_t n = N * C * H * W;
  auto z = randn<T>(n, rng);
  for (auto& v : z) v = v * T(2) + T(0.5);
  std::vector<T> m_e(C), is_e(C), v_e(C), m_c(C), is_c(C), v_c(C);
  CHECK(gpu::bn_stats<T>(z.data(), N, C, H * W, 1e-5, m_e.data(), is_e.data(), v_e.data(),
                         nullptr) == cudaSuccess);
  cpu::nchw::bn_stats<T>(z.data(), N, C, H * W, 1e-5, m_c.data(), is_c.data(), v_c.data());
  check_close("bn_stats mean", m_e, m_c, tol<T>());
  check_close("bn_stats invstd", is_e, is_c, tol<T>());
  check_close("bn_stats var", v_e, v_c, tol<T>());
  for (const DwSpec sp : {kStage1[0], kStage1[1]}) {
    const auto w = randn<T>(C * sp.k * sp.k, rng), gout = randn<T>(n, rng);
    std::vector<T> out_e(n), out_c(n), ga_e(n), ga_c(n), dw_e(w.size()), dw_c(w.size());
    CHECK(gpu::bn_relu_dw_forward<T>(z.data(), m_c.data(), is_c.data(), N, C, H, W, w.data(), sp,
                                     out_e.data(), nullptr) == cudaSuccess);
    cpu::nchw::bn_relu_dw_forward<T>(z.data(), m_c.data(), is_c.data(), N, C, H, W, w.data(), sp,
                                     out_c.data());
    check_close("bn_relu_dw_forward", out_e, out_c, tol<T>());
    CHECK(gpu::bn_relu_dw_backward<T>(gout.data(), z.data(), m_c.data(), is_c.data(), N, C, H, W,
                                      w.data(), sp, ga_e.data(), dw_e.data(),
                                      nullptr) == cudaSuccess);
    cpu::nchw::bn_relu_dw_backward<T>(gout.data(), z.data(), m_c.data(), is_c.data(), N, C, H, W,
                                      w.data(), sp, ga_c.data(), dw_c.data());
    check_close("bn_relu_dw_backward ga", ga_e, ga_c, tol<T>());
    check_close("bn_relu_dw_backward dw", dw_e, dw_c, tol<T>() * 10);
    std::fill(ga_e.begin(), ga_e.end(), T(0));
    CHECK(gpu::bn_relu_dw_backward<T>(gout.data(), z.data(), m_c.data(), is_c.data(), N, C, H, W,
                                      w.data(), sp, ga_e.data(), nullptr, nullptr) == cudaSuccess);
    check_close("bn_relu_dw_backward ga (no dw)", ga_e, ga_c, tol<T>());
  }
}

// mix_forward (identity slots, weights as values and from device memory) and bn_backward in
// every mode.
template <typename T>
void check_mix_bn_backward(int64_t N, int64_t C, int64_t HW, std::mt19937& rng) {
  const int K = 7, n = N * C * HW;
  std::vector<std::vector<T>> z(K), mean(K), invstd(K);
  for (int k = 0; k < K; ++k) {
    z[k] = randn<T>(n, rng);
    if (k != 2) mean[k] = randn<T>(C, rng), invstd[k] = randn<T>(C, rng);
  }
  const auto wk = randn<T>(K, rng);
  const std::vector<T> wrong(K, T(-9));
  std::vector<const T*> wk_ptr(K), no_ptr(K, nullptr);
  for (int k = 0; k < K; ++k) wk_ptr[k] = k % 2 ? &wk[k] : nullptr;
  std::vector<T> wmixed = wk;
  for (int k = 1; k < K; k += 2) wmixed[k] = wrong[k];  // read through wk_ptr instead
  std::vector<T> out_e(n), out_p(n), out_c(n);
  CHECK(gpu::mix_forward<T>(cptrs(z).data(), cptrs(mean).data(), cptrs(invstd).data(), wk.data(),
                            no_ptr.data(), K, N, C, HW, out_e.data(), nullptr) == cudaSuccess);
  CHECK(gpu::mix_forward<T>(cptrs(z).data(), cptrs(mean).data(), cptrs(invstd).data(),
                            wmixed.data(), wk_ptr.data(), K, N, C, HW, out_p.data(),
                            nullptr) == cudaSuccess);
  cpu::nchw::mix_forward<T>(cptrs(z).data(), cptrs(mean).data(), cptrs(invstd).data(), wk.data(), K,
                            N, C, HW, out_c.data());
  check_close("mix_forward", out_e, out_c, tol<T>());
  check_close("mix_forward (device weights)", out_p, out_c, tol<T>());
  CHECK(gpu::mix_forward<T>(cptrs(z).data(), cptrs(mean).data(), cptrs(invstd).data(), wk.data(),
                            no_ptr.data(), gpu::kMaxMix + 1, N, C, HW, out_e.data(),
                            nullptr) == cudaErrorInvalidValue);

  const auto g = randn<T>(n, rng);
  const auto m = randn<T>(C, rng);
  std::vector<T> is(C);
  for (auto& v : is) v = T(0.5) + T(std::uniform_real_distribution<double>(0, 1)(rng));
  const T scale = T(0.7);
  for (int mode = 0; mode < 8; ++mode) {
    const bool relu = mode & 1, training = mode & 2, from_device = mode & 4;
    std::vector<T> dz_e(n), dz_c(n);
    std::vector<double> sg_e(C), sg_c(C);
    CHECK(gpu::bn_backward<T>(g.data(), z[0].data(), m.data(), is.data(),
                              from_device ? T(-3) : scale, from_device ? &scale : nullptr, relu,
                              training, N, C, HW, dz_e.data(), sg_e.data(),
                              nullptr) == cudaSuccess);
    cpu::nchw::bn_backward<T>(g.data(), z[0].data(), m.data(), is.data(), scale, relu, training, N,
                              C, HW, dz_c.data(), sg_c.data());
    check_close("bn_backward dz", dz_e, dz_c, tol<T>());
    check_close("bn_backward sum_gy", sg_e, sg_c, tol<T>());
    std::vector<double> sg_only(C);
    CHECK(gpu::bn_backward<T>(g.data(), z[0].data(), m.data(), is.data(), scale, nullptr, relu,
                              training, N, C, HW, nullptr, sg_only.data(), nullptr) == cudaSuccess);
    check_close("bn_backward sum_gy (no dz)", sg_only, sg_c, tol<T>());
    std::vector<T> dz_only(n);
    CHECK(gpu::bn_backward<T>(g.data(), z[0].data(), m.data(), is.data(), scale, nullptr, relu,
                              training, N, C, HW, dz_only.data(), nullptr, nullptr) == cudaSuccess);
    check_close("bn_backward dz (no sum_gy)", dz_only, dz_c, tol<T>());
  }
}

// bn_stats_batch and bn_backward_batch against the CPU kernels item by item: items with and
// without dz / sum_gy / a device scale, train and eval, and more items than a launch takes.
template <typename T>
void check_bn_batches(int64_t N, int64_t C, int64_t HW, std::mt19937& rng) {
  const int n = 3, len = N * C * HW;
  std::vector<std::vector<T>> z(n), mean(n, std::vector<T>(C)), invstd(mean), var(mean);
  for (auto& v : z) v = randn<T>(len, rng);
  CHECK(gpu::bn_stats_batch<T>(cptrs(z).data(), n, N, C, HW, 1e-5, mptrs(mean).data(),
                               mptrs(invstd).data(), mptrs(var).data(), nullptr) == cudaSuccess);
  for (int j = 0; j < n; ++j) {
    std::vector<T> m(C), is(C), v(C);
    cpu::nchw::bn_stats<T>(z[j].data(), N, C, HW, 1e-5, m.data(), is.data(), v.data());
    check_close("bn_stats_batch mean", mean[j], m, tol<T>());
    check_close("bn_stats_batch invstd", invstd[j], is, tol<T>());
    check_close("bn_stats_batch var", var[j], v, tol<T>());
  }
  CHECK(gpu::bn_stats_batch<T>(cptrs(z).data(), gpu::kMaxBatch + 1, N, C, HW, 1e-5,
                               mptrs(mean).data(), mptrs(invstd).data(), mptrs(var).data(),
                               nullptr) == cudaErrorInvalidValue);

  const auto g = randn<T>(len, rng);
  const std::vector<T> scale = {T(0.3), T(-1.1), T(0.8)};
  for (const bool training : {true, false}) {
    std::vector<std::vector<T>> dz(n, std::vector<T>(len));
    std::vector<std::vector<double>> sg(n, std::vector<double>(C));
    // item 0: dz and sum_gy; item 1: dz only, scale from device memory; item 2: sum_gy only;
    // item 3: the identity (null mean and invstd), sum_gy only
    std::vector<cpu::BnBackwardItem<T>> items;
    for (int j = 0; j < n; ++j)
      items.push_back({z[j].data(), mean[j].data(), invstd[j].data(), j == 1 ? T(-7) : scale[j],
                       j == 1 ? &scale[1] : nullptr, j == 2 ? nullptr : dz[j].data(),
                       j == 1 ? nullptr : sg[j].data()});
    std::vector<double> sg_identity(C);
    items.push_back({z[0].data(), nullptr, nullptr, T(0), nullptr, nullptr, sg_identity.data()});
    CHECK(gpu::bn_backward_batch<T>(g.data(), items.data(), n + 1, false, training, N, C, HW,
                                    nullptr) == cudaSuccess);
    std::vector<double> want_identity(C, 0.0);
    for (int64_t i = 0; i < len; ++i) want_identity[(i / HW) % C] += double(g[i]) * z[0][i];
    check_close("bn_backward_batch identity sum_gy", sg_identity, want_identity, tol<T>());
    for (int j = 0; j < n; ++j) {
      std::vector<T> dz_c(len);
      std::vector<double> sg_c(C);
      cpu::nchw::bn_backward<T>(g.data(), z[j].data(), mean[j].data(), invstd[j].data(), scale[j],
                                false, training, N, C, HW, dz_c.data(), sg_c.data());
      if (j != 2) check_close("bn_backward_batch dz", dz[j], dz_c, tol<T>());
      if (j != 1) check_close("bn_backward_batch sum_gy", sg[j], sg_c, tol<T>());
    }
  }
}

// pointwise, plain and with the transposed weight strides.
template <typename T>
void check_pointwise(int64_t N, int64_t Co, int64_t Ci, int64_t P, std::mt19937& rng) {
  const auto w = randn<T>(Co * Ci, rng), in = randn<T>(N * Ci * P, rng);
  const auto dz = randn<T>(N * Co * P, rng);
  std::vector<T> out_e(N * Co * P), out_c(out_e.size()), din_e(N * Ci * P), din_c(din_e.size());
  CHECK(gpu::pointwise<T>(w.data(), Ci, 1, in.data(), Ci * P, N, Co, Ci, P, out_e.data(), Co * P,
                          nullptr) == cudaSuccess);
  cpu::nchw::pointwise<T>(w.data(), Ci, 1, in.data(), Ci * P, N, Co, Ci, P, out_c.data(), Co * P);
  check_close("pointwise", out_e, out_c, tol<T>());
  CHECK(gpu::pointwise<T>(w.data(), 1, Ci, dz.data(), Co * P, N, Ci, Co, P, din_e.data(), Ci * P,
                          nullptr) == cudaSuccess);
  cpu::nchw::pointwise<T>(w.data(), 1, Ci, dz.data(), Co * P, N, Ci, Co, P, din_c.data(), Ci * P);
  check_close("pointwise (transposed)", din_e, din_c, tol<T>());
}

// running_update against its formula; more slots than the launcher takes is an error.
template <typename T>
void check_running_update(int64_t C, std::mt19937& rng) {
  constexpr int64_t kSlots = 9;
  const std::vector<int64_t> slots = {0, 3, 8};
  const int n = int(slots.size());
  const auto stats = randn<T>(3 * kSlots * C, rng);
  std::vector<std::vector<T>> mean(n), var(n);
  std::vector<std::vector<int64_t>> count(n, std::vector<int64_t>{5});
  for (int j = 0; j < n; ++j) mean[j] = randn<T>(C, rng), var[j] = randn<T>(C, rng);
  const auto mean0 = mean, var0 = var;
  const double mom = 0.1;
  CHECK(gpu::running_update<T>(mptrs(mean).data(), mptrs(var).data(), mptrs(count).data(),
                               stats.data(), slots.data(), n, C, kSlots, mom,
                               nullptr) == cudaSuccess);
  for (int j = 0; j < n; ++j) {
    std::vector<double> wm(C), wv(C);
    for (int64_t c = 0; c < C; ++c) {
      wm[c] = (1 - mom) * mean0[j][c] + mom * stats[slots[j] * C + c];
      wv[c] = (1 - mom) * var0[j][c] + mom * stats[(2 * kSlots + slots[j]) * C + c];
    }
    check_close("running mean", mean[j], wm, tol<T>());
    check_close("running var", var[j], wv, tol<T>());
    CHECK(count[j][0] == 6);
  }
  std::vector<T*> many(17, mean[0].data());
  std::vector<int64_t*> many_c(17, count[0].data());
  std::vector<int64_t> many_s(17, 0);
  CHECK(gpu::running_update<T>(many.data(), many.data(), many_c.data(), stats.data(), many_s.data(),
                               17, C, kSlots, mom, nullptr) == cudaErrorInvalidValue);
}

template <typename T>
void check_all(std::mt19937& rng) {
  for (const Dims d : {Dims{3, 5, 7, 9, 1, 7, 9}, Dims{2, 4, 8, 6, 2, 4, 3},
                       Dims{1, 3, 5, 5, 2, 3, 3}, Dims{12, 2, 4, 4, 1, 4, 4}})
    for (const bool some : {false, true}) check_stage1<T>(d, some, rng);
  check_bn_dw<T>(3, 5, 7, 9, rng);
  check_bn_dw<T>(1, 2, 6, 5, rng);
  check_bn_dw<T>(40, 3, 4, 4, rng);  // many samples a chunk (the chunk split of split_for)
  check_mix_bn_backward<T>(3, 5, 63, rng);
  check_mix_bn_backward<T>(300, 2, 5, rng);
  check_bn_batches<T>(3, 5, 63, rng);
  check_bn_batches<T>(70, 3, 4, rng);
  check_pointwise<T>(3, 5, 4, 63, rng);
  check_running_update<T>(300, rng);  // two blocks of channels
}

}  // namespace

int main() {
  std::mt19937 rng(7);
  check_all<float>(rng);
  check_all<double>(rng);
  std::printf("%d comparisons\n", nasfast_emu_test::compared());
  TEST_MAIN_RETURN();
}

// darts_edge CPU kernels against naive loops: the fused first stage (4 depthwise convs + pools)
// forward and backward, the 1x1 conv kernels, odd and even sizes, stride 1 and 2, float/double.
// Under ASan this also checks that the padded register blocks never read outside their buffers.
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <ATen/Parallel.h>

#include <cstring>

#include "check.h"
#include "ops/darts_edge/cpu/darts_edge_nchw.h"
#include "random_data.h"

namespace {

// The first stage as the library dispatches it (the AVX2 copy on this machine), and its
// baseline-ISA copy.
struct Dispatched {
  template <typename T, typename... A>
  static void fwd(A... a) {
    nasfast::darts_edge::cpu::nchw::stage1_forward<T>(a...);
  }
  template <typename T, typename... A>
  static void bwd(A... a) {
    nasfast::darts_edge::cpu::nchw::stage1_backward<T>(a...);
  }
};
struct Plain {
  template <typename T, typename... A>
  static void fwd(A... a) {
    nasfast::darts_edge::cpu::nchw::base::kernel_table<T>().stage1_forward(a...);
  }
  template <typename T, typename... A>
  static void bwd(A... a) {
    nasfast::darts_edge::cpu::nchw::base::kernel_table<T>().stage1_backward(a...);
  }
};

using nasfast::darts_edge::cpu::Dims;
using nasfast::darts_edge::cpu::kStage1;
namespace k = nasfast::darts_edge::cpu::nchw;

using nasfast_test::randn;

// FactorizedReduce inputs/gradients (fr0 = relu(x)[::2, ::2], fr1 = relu(x)[1::2, 1::2]) are
// checked at stride 2 with even H and W, the only case the op admits.
template <typename T, typename Impl = Dispatched>
void check_stage1(int64_t N, int64_t C, int64_t H, int64_t W, int64_t s, std::mt19937& rng) {
  const Dims d{N, C, H, W, s, (H - 1) / s + 1, (W - 1) / s + 1};
  const int64_t HW = H * W, HWo = d.Ho * d.Wo, n_out = N * C * HWo;
  const double tol = sizeof(T) == 8 ? 1e-11 : 1e-4;
  auto x = randn<T>(N * C * HW, rng);
  std::vector<std::vector<T>> w(4), out(4, std::vector<T>(n_out)), g(4), gw(4);
  for (int b = 0; b < 4; ++b) {
    w[b] = randn<T>(C * kStage1[b].k * kStage1[b].k, rng);
    g[b] = randn<T>(n_out, rng);
    gw[b].assign(w[b].size(), T(0));
  }
  const bool fr = s == 2 && H % 2 == 0 && W % 2 == 0;
  std::vector<T> maxp(n_out), avgp(n_out), fr0(fr ? n_out : 0), fr1(fr ? n_out : 0);
  const T* wp[4] = {w[0].data(), w[1].data(), w[2].data(), w[3].data()};
  T* op[4] = {out[0].data(), out[1].data(), out[2].data(), out[3].data()};
  Impl::template fwd<T>(x.data(), d, wp, op, maxp.data(), avgp.data(), fr ? fr0.data() : nullptr,
                        fr ? fr1.data() : nullptr);
  auto gmax = randn<T>(n_out, rng), gavg = randn<T>(n_out, rng);
  auto gfr0 = randn<T>(fr ? n_out : 0, rng), gfr1 = randn<T>(fr ? n_out : 0, rng);
  std::vector<T> gx(N * C * HW);
  const T* gp[4] = {g[0].data(), g[1].data(), g[2].data(), g[3].data()};
  T* gwp[4] = {gw[0].data(), gw[1].data(), gw[2].data(), gw[3].data()};
  const T* nul = nullptr;
  Impl::template bwd<T>(x.data(), d, wp, gp, static_cast<const T*>(gmax.data()),
                        static_cast<const T*>(gavg.data()), fr ? gfr0.data() : nul,
                        fr ? gfr1.data() : nul, nul, T(0), gx.data(), gwp);

  std::vector<double> gx_ref(N * C * HW, 0.0);
  for (int b = 0; b < 4; ++b) {
    const auto sp = kStage1[b];
    std::vector<double> gw_ref(w[b].size(), 0.0);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t c = 0; c < C; ++c)
        for (int64_t oy = 0; oy < d.Ho; ++oy)
          for (int64_t ox = 0; ox < d.Wo; ++ox) {
            double acc = 0;
            const int64_t o = ((n * C + c) * d.Ho + oy) * d.Wo + ox;
            for (int ki = 0; ki < sp.k; ++ki)
              for (int kj = 0; kj < sp.k; ++kj) {
                const int64_t iy = oy * s - sp.p + ki * sp.d, ix = ox * s - sp.p + kj * sp.d;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                const int64_t i = (n * C + c) * HW + iy * W + ix;
                const double r = std::max<double>(x[i], 0.0);
                const double wv = w[b][c * sp.k * sp.k + ki * sp.k + kj];
                acc += wv * r;
                gw_ref[c * sp.k * sp.k + ki * sp.k + kj] += g[b][o] * r;
                if (x[i] > 0) gx_ref[i] += wv * g[b][o];
              }
            CHECK_NEAR(out[b][o], acc, tol * (1 + std::fabs(acc)));
          }
    for (size_t t = 0; t < gw_ref.size(); ++t)
      CHECK_NEAR(gw[b][t], gw_ref[t], tol * (1 + std::fabs(gw_ref[t])) * 10);
  }
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t oy = 0; oy < d.Ho; ++oy)
        for (int64_t ox = 0; ox < d.Wo; ++ox) {
          const int64_t o = ((n * C + c) * d.Ho + oy) * d.Wo + ox;
          double m = -std::numeric_limits<double>::infinity(), sum = 0;
          int64_t arg = -1, cnt = 0;
          for (int64_t iy = std::max<int64_t>(oy * s - 1, 0); iy < std::min(oy * s + 2, H); ++iy)
            for (int64_t ix = std::max<int64_t>(ox * s - 1, 0); ix < std::min(ox * s + 2, W);
                 ++ix) {
              const int64_t i = (n * C + c) * HW + iy * W + ix;
              if (x[i] > m) {
                m = x[i];
                arg = i;
              }
              sum += x[i];
              ++cnt;
            }
          CHECK_NEAR(maxp[o], m, 0.0);
          CHECK_NEAR(avgp[o], sum / cnt, tol * (1 + std::fabs(sum)));
          gx_ref[arg] += gmax[o];
          for (int64_t iy = std::max<int64_t>(oy * s - 1, 0); iy < std::min(oy * s + 2, H); ++iy)
            for (int64_t ix = std::max<int64_t>(ox * s - 1, 0); ix < std::min(ox * s + 2, W); ++ix)
              gx_ref[(n * C + c) * HW + iy * W + ix] += static_cast<double>(gavg[o]) / cnt;
          if (fr) {
            const int64_t i0 = (n * C + c) * HW + (2 * oy) * W + 2 * ox;
            CHECK_NEAR(fr0[o], std::max<T>(x[i0], T(0)), 0.0);
            CHECK_NEAR(fr1[o], std::max<T>(x[i0 + W + 1], T(0)), 0.0);
            if (x[i0] > 0) gx_ref[i0] += gfr0[o];
            if (x[i0 + W + 1] > 0) gx_ref[i0 + W + 1] += gfr1[o];
          }
        }
  for (size_t i = 0; i < gx.size(); ++i)
    CHECK_NEAR(gx[i], gx_ref[i], tol * (1 + std::fabs(gx_ref[i])) * 10);
}

// Max-pool backward alone on integer-valued x (ties everywhere), a NaN, and a -inf corner block
// whose first window has no finite element: ATen's choice of element (first maximum in
// row-major order, the last NaN, else the window's first in-bounds element) gets the gradient.
template <typename T>
void check_maxpool_special(int64_t H, int64_t W, int64_t s, std::mt19937& rng) {
  const Dims d{1, 1, H, W, s, (H - 1) / s + 1, (W - 1) / s + 1};
  std::uniform_int_distribution<int> ud(-2, 2);
  std::vector<T> x(H * W);
  for (auto& v : x) v = static_cast<T>(ud(rng));
  const T inf = std::numeric_limits<T>::infinity();
  x[0] = x[1] = x[W] = x[W + 1] = -inf;
  if (H * W > 12) x[H * W / 2] = std::numeric_limits<T>::quiet_NaN();
  auto gmax = randn<T>(d.Ho * d.Wo, rng);
  std::vector<T> gx(H * W);
  const T* wp[4] = {nullptr, nullptr, nullptr, nullptr};
  const T* gp[4] = {nullptr, nullptr, nullptr, nullptr};
  T* gwp[4] = {nullptr, nullptr, nullptr, nullptr};
  k::stage1_backward<T>(x.data(), d, wp, gp, gmax.data(), nullptr, nullptr, nullptr, nullptr, T(0),
                        gx.data(), gwp);
  std::vector<double> ref(H * W, 0.0);
  for (int64_t oy = 0; oy < d.Ho; ++oy)
    for (int64_t ox = 0; ox < d.Wo; ++ox) {
      const int64_t y0 = std::max<int64_t>(oy * s - 1, 0), x0 = std::max<int64_t>(ox * s - 1, 0);
      double m = -std::numeric_limits<double>::infinity();
      int64_t arg = y0 * W + x0;
      for (int64_t iy = y0; iy < std::min(oy * s + 2, H); ++iy)
        for (int64_t ix = x0; ix < std::min(ox * s + 2, W); ++ix)
          if (x[iy * W + ix] > m || std::isnan(x[iy * W + ix])) {
            m = x[iy * W + ix];
            arg = iy * W + ix;
          }
      ref[arg] += gmax[oy * d.Wo + ox];
    }
  for (int64_t i = 0; i < H * W; ++i) CHECK_NEAR(gx[i], ref[i], 1e-5 * (1 + std::fabs(ref[i])));
}

template <typename T>
void check_pointwise(int64_t N, int64_t Co, int64_t Ci, int64_t P, std::mt19937& rng) {
  auto w = randn<T>(Co * Ci, rng), in = randn<T>(N * Ci * P, rng), dz = randn<T>(N * Co * P, rng);
  std::vector<T> out(N * Co * P), din(N * Ci * P);
  const double tol = sizeof(T) == 8 ? 1e-11 : 1e-4;
  k::pointwise<T>(w.data(), Ci, 1, in.data(), Ci * P, N, Co, Ci, P, out.data(), Co * P);
  k::pointwise<T>(w.data(), 1, Ci, dz.data(), Co * P, N, Ci, Co, P, din.data(), Ci * P);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t p = 0; p < P; ++p) {
      for (int64_t co = 0; co < Co; ++co) {
        double a = 0;
        for (int64_t ci = 0; ci < Ci; ++ci)
          a += double(w[co * Ci + ci]) * in[(n * Ci + ci) * P + p];
        CHECK_NEAR(out[(n * Co + co) * P + p], a, tol * (1 + std::fabs(a)));
      }
      for (int64_t ci = 0; ci < Ci; ++ci) {
        double a = 0;
        for (int64_t co = 0; co < Co; ++co)
          a += double(w[co * Ci + ci]) * dz[(n * Co + co) * P + p];
        CHECK_NEAR(din[(n * Ci + ci) * P + p], a, tol * (1 + std::fabs(a)));
      }
    }
}

}  // namespace

int main() {
  std::mt19937 rng(7);
  for (auto [H, W] : {std::pair<int64_t, int64_t>{7, 9}, {1, 1}, {5, 37}, {2, 3}}) {
    check_stage1<double>(2, 3, H, W, 1, rng);
    check_stage1<float>(1, 2, H, W, 1, rng);
  }
  // stride 2: planes narrower and wider than a vector, odd sizes (the kernels' contract allows
  // them; the op refuses them), and 7x7 outputs (short planes: remainder row blocks)
  for (auto [H, W] : {std::pair<int64_t, int64_t>{8, 10},
                      {2, 2},
                      {6, 36},
                      {14, 14},
                      {28, 28},
                      {7, 9},
                      {5, 37},
                      {1, 1},
                      {3, 2}}) {
    check_stage1<double>(2, 3, H, W, 2, rng);
    check_stage1<float>(1, 2, H, W, 2, rng);
  }
  // the baseline-ISA build of the same kernels
  for (int64_t s : {1, 2})
    for (auto [H, W] : {std::pair<int64_t, int64_t>{14, 14}, {6, 36}, {7, 9}}) {
      check_stage1<double, Plain>(2, 3, H, W, s, rng);
      check_stage1<float, Plain>(1, 2, H, W, s, rng);
    }
  for (int64_t s : {1, 2})
    for (auto [H, W] : {std::pair<int64_t, int64_t>{2, 2}, {6, 10}, {8, 20}, {4, 34}}) {
      check_maxpool_special<double>(H, W, s, rng);
      check_maxpool_special<float>(H, W, s, rng);
    }
  check_pointwise<double>(2, 5, 7, 37, rng);
  check_pointwise<float>(3, 8, 4, 100, rng);
  check_pointwise<double>(1, 3, 2, 1, rng);
  TEST_MAIN_RETURN();
}

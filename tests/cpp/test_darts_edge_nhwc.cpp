// darts_edge channels-innermost CPU kernels (cpu/darts_edge_nhwc.h) against the NCHW kernels
// (checked against naive loops in test_darts_edge_nchw.cpp) on the same data transposed: odd and
// even sizes, stride 1 and 2, one vector of channels up to more than one channel group (C > 64),
// float and double, and max-pool ties, NaNs and -inf. Under ASan this also checks that the
// padded planes and scatters stay inside their buffers.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <vector>

#include "check.h"
#include "ops/darts_edge/cpu/darts_edge_nchw.h"
#include "ops/darts_edge/cpu/darts_edge_nhwc.h"
#include "random_data.h"

namespace {

namespace k = nasfast::darts_edge::cpu;  // k::nchw, k::nhwc
using k::Dims;
using k::DwSpec;
using k::kStage1;

using nasfast_test::randn;

// a [N, R, S] -> [N, S, R] (an empty vector stays empty)
template <typename T>
std::vector<T> transposed(const std::vector<T>& a, int64_t N, int64_t R, int64_t S) {
  if (a.empty()) return {};
  std::vector<T> b(a.size());
  for (int64_t n = 0; n < N; ++n)
    for (int64_t r = 0; r < R; ++r)
      for (int64_t s = 0; s < S; ++s) b[(n * S + s) * R + r] = a[(n * R + r) * S + s];
  return b;
}
template <typename T>
std::vector<T> to_nhwc(const std::vector<T>& a, int64_t N, int64_t C, int64_t P) {
  return transposed(a, N, C, P);
}
template <typename T>
std::vector<T> to_nchw(const std::vector<T>& b, int64_t N, int64_t C, int64_t P) {
  return transposed(b, N, P, C);
}

template <typename T>
double tol() {
  return sizeof(T) == 8 ? 1e-11 : 2e-4;
}

// got (NHWC, transposed back) against want (NCHW); NaN matches NaN and infinities match exactly.
// Reports the first mismatch.
template <typename T>
void check_close(const char* what, const std::vector<T>& got, const std::vector<T>& want,
                 double scale = 1) {
  CHECK(got.size() == want.size());
  for (size_t i = 0; i < want.size() && i < got.size(); ++i) {
    if (std::isnan(want[i]) || std::isinf(want[i])) {
      CHECK(std::isnan(want[i]) ? std::isnan(got[i]) : got[i] == want[i]);
      continue;
    }
    const double err = std::fabs(static_cast<double>(got[i]) - static_cast<double>(want[i]));
    if (!(err <= tol<T>() * scale * (1 + std::fabs(static_cast<double>(want[i]))))) {
      std::fprintf(stderr, "%s [%zu]: got %g, want %g\n", what, i, static_cast<double>(got[i]),
                   static_cast<double>(want[i]));
      ++nasfast_test::failures();
      return;
    }
  }
}

// Normal samples; with specials, ties, -inf and NaN in the pool windows too.
template <typename T>
std::vector<T> pool_input(int64_t n, std::mt19937& rng, bool specials) {
  auto x = randn<T>(n, rng);
  if (specials)
    for (size_t i = 0; i < x.size(); ++i) {
      if (i % 5 == 0) x[i] = T(1);
      if (i % 11 == 0) x[i] = -std::numeric_limits<T>::infinity();
      if (i % 17 == 0) x[i] = std::numeric_limits<T>::quiet_NaN();
    }
  return x;
}

template <typename T>
void check_stage1(int64_t N, int64_t C, int64_t H, int64_t W, int64_t s, std::mt19937& rng,
                  bool specials = false) {
  const Dims d{N, C, H, W, s, (H - 1) / s + 1, (W - 1) / s + 1};
  const int64_t HW = H * W, HWo = d.Ho * d.Wo, n_out = N * C * HWo;
  // no convs with specials: NaN would spread
  const auto x = pool_input<T>(N * C * HW, rng, specials);
  const bool fr = s == 2 && H % 2 == 0 && W % 2 == 0 && !specials;
  std::vector<std::vector<T>> w(4), g(4);
  for (int b = 0; b < 4; ++b) {
    w[b] = randn<T>(C * kStage1[b].k * kStage1[b].k, rng);
    g[b] = randn<T>(n_out, rng);
  }
  const auto xl = to_nhwc(x, N, C, HW);
  // two runs: NCHW (index 0) and NHWC (1), inputs transposed for the second
  std::vector<T> out[2][4], maxp[2], avgp[2], fr0[2], fr1[2], gx[2], gw[2][4];
  auto gmax = randn<T>(n_out, rng), gavg = randn<T>(n_out, rng);
  auto gfr0 = randn<T>(fr ? n_out : 0, rng), gfr1 = randn<T>(fr ? n_out : 0, rng);
  auto gskip = randn<T>(s == 1 ? N * C * HW : 0, rng);
  for (int l = 0; l < 2; ++l) {
    auto lay = [&](const std::vector<T>& v, int64_t P) { return l ? to_nhwc(v, N, C, P) : v; };
    const T* wp[4] = {w[0].data(), w[1].data(), w[2].data(), w[3].data()};
    T* op[4] = {};
    for (int b = 0; b < 4 && !specials; ++b) op[b] = (out[l][b] = std::vector<T>(n_out)).data();
    maxp[l].assign(n_out, T(0));
    avgp[l].assign(n_out, T(0));
    fr0[l].assign(fr ? n_out : 0, T(0));
    fr1[l].assign(fr ? n_out : 0, T(0));
    const T* xp = l ? xl.data() : x.data();
    (l ? k::nhwc::stage1_forward<T>
       : k::nchw::stage1_forward<T>)(xp, d, wp, op, maxp[l].data(), avgp[l].data(),
                                     fr ? fr0[l].data() : nullptr, fr ? fr1[l].data() : nullptr);
    std::vector<T> gl[4];
    const T* gp[4] = {};
    T* gwp[4] = {};
    for (int b = 0; b < 4 && !specials; ++b) {
      gl[b] = lay(g[b], HWo);
      gp[b] = gl[b].data();
      gwp[b] = (gw[l][b] = std::vector<T>(w[b].size())).data();
    }
    const auto gm = lay(gmax, HWo), ga = lay(gavg, HWo), g0 = lay(gfr0, HWo), g1 = lay(gfr1, HWo),
               gs = lay(gskip, HW);
    gx[l].assign(N * C * HW, T(0));
    (l ? k::nhwc::stage1_backward<T>
       : k::nchw::stage1_backward<T>)(xp, d, wp, gp, gm.data(), ga.data(), fr ? g0.data() : nullptr,
                                      fr ? g1.data() : nullptr, s == 1 ? gs.data() : nullptr,
                                      T(0.7), gx[l].data(), gwp);
  }
  for (int b = 0; b < 4 && !specials; ++b) {
    check_close("dw out", to_nchw(out[1][b], N, C, HWo), out[0][b]);
    check_close("dw grad", gw[1][b], gw[0][b], 10);
  }
  check_close("maxpool", to_nchw(maxp[1], N, C, HWo), maxp[0]);
  check_close("avgpool", to_nchw(avgp[1], N, C, HWo), avgp[0]);
  if (fr) {
    check_close("fr0", to_nchw(fr0[1], N, C, HWo), fr0[0]);
    check_close("fr1", to_nchw(fr1[1], N, C, HWo), fr1[0]);
  }
  check_close("grad x", to_nchw(gx[1], N, C, HW), gx[0]);
}

// The pools' gradients formed from their BatchNorms' coefficients inside the scatter
// (stage1_backward_pool_bn) equal bn_backward_final's dz for the pool slots, then
// stage1_backward; for both pools and each alone, in training and eval mode.
template <typename T>
void check_pool_bn(int64_t N, int64_t C, int64_t H, int64_t W, int64_t s, std::mt19937& rng,
                   bool specials = false) {
  const Dims d{N, C, H, W, s, (H - 1) / s + 1, (W - 1) / s + 1};
  const int64_t HW = H * W, HWo = d.Ho * d.Wo, n_out = N * C * HWo;
  const auto x = pool_input<T>(N * C * HW, rng, specials);
  const auto xl = to_nhwc(x, N, C, HW);
  std::vector<T> pool[2] = {std::vector<T>(n_out), std::vector<T>(n_out)};
  const T* no_w[4] = {};
  T* no_out[4] = {};
  k::nhwc::stage1_forward<T>(xl.data(), d, no_w, no_out, pool[0].data(), pool[1].data(), nullptr,
                             nullptr);
  // statistics of the pools, or (specials: NaN pools) arbitrary finite ones
  std::vector<T> st[2];
  for (int p = 0; p < 2; ++p) {
    st[p].assign(3 * C, T(0));
    if (specials) {
      auto r = randn<T>(2 * C, rng);
      for (int64_t c = 0; c < C; ++c) {
        st[p][c] = r[c];
        st[p][C + c] = T(0.5) + std::fabs(r[C + c]);
      }
    } else {
      k::nhwc::bn_stats<T>(pool[p].data(), N, C, HWo, 1e-5, st[p].data(), st[p].data() + C,
                           st[p].data() + 2 * C);
    }
  }
  const auto g = randn<T>(n_out, rng);
  const auto gskip = randn<T>(s == 1 ? N * C * HW : 0, rng);
  const std::vector<T> gsl = s == 1 ? to_nhwc(gskip, N, C, HW) : std::vector<T>();
  const T* gs = s == 1 ? gsl.data() : nullptr;
  const T* zs[2] = {pool[0].data(), pool[1].data()};
  const T* ms[2] = {st[0].data(), st[1].data()};
  const T* is[2] = {st[0].data() + C, st[1].data() + C};
  const T scale[2] = {T(0.6), T(-1.3)};
  // the recompute's sums of g * y instead of the pools (stage1_forward_pool_sums) give
  // bn_backward_final the sums and coefficients it takes from the pools
  if (!specials) {
    std::vector<double> gy[2] = {std::vector<double>(C, 0.0), std::vector<double>(C, 0.0)};
    const k::nhwc::PoolGySums<T> ps{
        g.data(), {ms[0], ms[1]}, {is[0], is[1]}, {gy[0].data(), gy[1].data()}};
    k::nhwc::stage1_forward_pool_sums<T>(xl.data(), d, no_w, no_out, nullptr, nullptr, ps);
    std::vector<double> sum[2][2];
    std::vector<T> cf[2][2];
    for (int v = 0; v < 2; ++v) {  // v = 0: from the pools, 1: from gy
      double* sp[2];
      T* cp[2];
      for (int p = 0; p < 2; ++p) {
        sp[p] = (sum[v][p] = std::vector<double>(C)).data();
        cp[p] = (cf[v][p] = std::vector<T>(3 * C)).data();
      }
      T* no_dz[2] = {};
      const T* no_z[2] = {};
      const double* gyp[2] = {gy[0].data(), gy[1].data()};
      k::nhwc::bn_backward_final<T>(g.data(), 2, v ? no_z : zs, ms, is, scale, true, N, C, HWo,
                                    no_dz, sp, cp, v ? gyp : nullptr);
    }
    for (int p = 0; p < 2; ++p) {
      for (int64_t c = 0; c < C; ++c)
        CHECK_NEAR(sum[1][p][c], sum[0][p][c], tol<T>() * 10 * (1 + std::fabs(sum[0][p][c])));
      check_close("pool coefficients from the recompute's sums", cf[1][p], cf[0][p], 10);
    }
  }
  for (bool training : {true, false})
    for (int use : {3, 1, 2}) {  // bit 0: max pool, bit 1: avg pool
      std::vector<T> dz[2], coef[2];
      T* dzp[2] = {};
      T* cp[2] = {};
      double* no_sums[2] = {};
      for (int p = 0; p < 2; ++p) {
        if (!((use >> p) & 1)) continue;
        dzp[p] = (dz[p] = std::vector<T>(n_out)).data();
        cp[p] = (coef[p] = std::vector<T>(3 * C)).data();
      }
      k::nhwc::bn_backward_final<T>(g.data(), 2, zs, ms, is, scale, training, N, C, HWo, dzp,
                                    no_sums, cp, nullptr);
      const T* no_gd[4] = {};
      T* no_gw[4] = {};
      std::vector<T> want(N * C * HW, T(0)), got(N * C * HW, T(0));
      k::nhwc::stage1_backward<T>(xl.data(), d, no_w, no_gd, dzp[0], dzp[1], nullptr, nullptr, gs,
                                  T(0.7), want.data(), no_gw);
      const k::nhwc::PoolBnGrads<T> pools{g.data(), {ms[0], ms[1]}, {is[0], is[1]}, {cp[0], cp[1]}};
      k::nhwc::stage1_backward_pool_bn<T>(xl.data(), d, no_w, no_gd, pools, nullptr, nullptr, gs,
                                          T(0.7), got.data(), no_gw);
      check_close("pool grads from BatchNorm coefficients", got, want);
    }
}

// bn_stats, bn_relu_dw_forward/backward, mix_forward, bn_backward on [N, C, H, W].
template <typename T>
void check_bn_and_sep(int64_t N, int64_t C, int64_t H, int64_t W, std::mt19937& rng) {
  const int64_t HW = H * W, n = N * C * HW;
  auto z = randn<T>(n, rng), z2 = randn<T>(n, rng), g = randn<T>(n, rng);
  for (auto& v : z) v = v * T(2) + T(0.5);
  const auto zl = to_nhwc(z, N, C, HW), z2l = to_nhwc(z2, N, C, HW), gl = to_nhwc(g, N, C, HW);
  std::vector<T> st[2];
  for (int l = 0; l < 2; ++l) {
    st[l].assign(3 * C, T(0));
    (l ? k::nhwc::bn_stats<T> : k::nchw::bn_stats<T>)(l ? zl.data() : z.data(), N, C, HW, 1e-5,
                                                      st[l].data(), st[l].data() + C,
                                                      st[l].data() + 2 * C);
  }
  check_close("bn stats", st[1], st[0]);
  const T* mean = st[0].data();
  const T* invstd = st[0].data() + C;
  for (int kk : {3, 5}) {
    const DwSpec sp{kk, kk / 2, 1};
    const auto w = randn<T>(C * kk * kk, rng);
    std::vector<T> out[2], ga[2], dw[2];
    for (int l = 0; l < 2; ++l) {
      out[l].assign(n, T(0));
      ga[l].assign(n, T(0));
      dw[l].assign(w.size(), T(0));
      (l ? k::nhwc::bn_relu_dw_forward<T>
         : k::nchw::bn_relu_dw_forward<T>)(l ? zl.data() : z.data(), mean, invstd, N, C, H, W,
                                           w.data(), sp, out[l].data());
      (l ? k::nhwc::bn_relu_dw_backward<T>
         : k::nchw::bn_relu_dw_backward<T>)(l ? gl.data() : g.data(), l ? zl.data() : z.data(),
                                            mean, invstd, N, C, H, W, w.data(), sp, ga[l].data(),
                                            dw[l].data());
    }
    check_close("sep dw2", to_nchw(out[1], N, C, HW), out[0]);
    check_close("sep dw2 grad in", to_nchw(ga[1], N, C, HW), ga[0]);
    check_close("sep dw2 grad w", dw[1], dw[0], 10);
    // with the first BatchNorm's coefficients from the same pass: ga and dw bit for bit, the
    // coefficients those of bn_backward_coef on ga (its sums in another order)
    for (bool training : {true, false})
      for (bool with_dw : {true, false}) {
        std::vector<T> ga2(n), dw2(w.size()), coef(3 * C), coef_want(3 * C);
        k::nhwc::bn_relu_dw_backward_coef<T>(gl.data(), zl.data(), mean, invstd, N, C, H, W,
                                             w.data(), sp, training, ga2.data(),
                                             with_dw ? dw2.data() : nullptr, coef.data());
        k::nhwc::bn_backward_coef<T>(ga[1].data(), zl.data(), mean, invstd, T(1), true, training, N,
                                     C, HW, coef_want.data());
        CHECK(ga2 == ga[1]);
        if (with_dw) CHECK(dw2 == dw[1]);
        check_close("sep bn1 coefficients", coef, coef_want, 10);
      }
  }
  // mix of a normalised slot and the identity
  const T wk[2] = {T(0.3), T(-1.2)};
  std::vector<T> mix[2];
  for (int l = 0; l < 2; ++l) {
    mix[l].assign(n, T(0));
    const T* zs[2] = {l ? zl.data() : z.data(), l ? z2l.data() : z2.data()};
    const T* ms[2] = {mean, nullptr};
    const T* is[2] = {invstd, nullptr};
    (l ? k::nhwc::mix_forward<T> : k::nchw::mix_forward<T>)(zs, ms, is, wk, 2, N, C, HW,
                                                            mix[l].data());
  }
  check_close("mix", to_nchw(mix[1], N, C, HW), mix[0]);
  for (bool relu_mask : {false, true})
    for (bool training : {false, true}) {
      std::vector<T> dz[2];
      std::vector<double> sgy[2];
      for (int l = 0; l < 2; ++l) {
        dz[l].assign(n, T(0));
        sgy[l].assign(C, 0.0);
        (l ? k::nhwc::bn_backward<T>
           : k::nchw::bn_backward<T>)(l ? gl.data() : g.data(), l ? zl.data() : z.data(), mean,
                                      invstd, T(0.8), relu_mask, training, N, C, HW, dz[l].data(),
                                      sgy[l].data());
      }
      check_close("bn backward", to_nchw(dz[1], N, C, HW), dz[0]);
      for (int64_t c = 0; c < C; ++c)
        CHECK_NEAR(sgy[1][c], sgy[0][c], tol<T>() * 10 * (1 + std::fabs(sgy[0][c])));
    }
  // the final BatchNorms together (slots z and z2; no dz for the second, no sum for the first)
  // equal one channels-last bn_backward per slot, bit for bit
  for (bool training : {false, true}) {
    const T scale[2] = {T(0.8), T(-0.3)};
    std::vector<T> m2(C), i2(C), v2(C);
    k::nhwc::bn_stats<T>(z2l.data(), N, C, HW, 1e-5, m2.data(), i2.data(), v2.data());
    const T* zs[2] = {zl.data(), z2l.data()};
    const T* ms[2] = {mean, m2.data()};
    const T* is[2] = {invstd, i2.data()};
    std::vector<T> dz_one(n, T(0)), dz_all(n, T(0));
    std::vector<double> s_one(C, 0.0), s_all(C, 0.0);
    T* dzs[2] = {dz_all.data(), nullptr};
    double* sgs[2] = {nullptr, s_all.data()};
    std::vector<T> coef(3 * C), coef_one(3 * C);
    T* coefs[2] = {nullptr, coef.data()};
    k::nhwc::bn_backward_final<T>(gl.data(), 2, zs, ms, is, scale, training, N, C, HW, dzs, sgs,
                                  coefs, nullptr);
    k::nhwc::bn_backward<T>(gl.data(), zl.data(), mean, invstd, scale[0], false, training, N, C, HW,
                            dz_one.data(), nullptr);
    k::nhwc::bn_backward<T>(gl.data(), z2l.data(), m2.data(), i2.data(), scale[1], false, training,
                            N, C, HW, nullptr, s_one.data());
    CHECK(dz_all == dz_one);
    CHECK(s_all == s_one);
    // the coefficients of the second slot are bn_backward_coef's
    k::nhwc::bn_backward_coef<T>(gl.data(), z2l.data(), m2.data(), i2.data(), scale[1], false,
                                 training, N, C, HW, coef_one.data());
    CHECK(coef == coef_one);
  }
}

// A BatchNorm's input gradient formed inside the GEMMs of the 1x1 conv below it equals
// bn_backward then gemm_grads, bit for bit.
template <typename T>
void check_bn_gemm_grads(int64_t M, int64_t Co, int64_t Ci, std::mt19937& rng) {
  const int64_t ldi = Ci + 2, ldd = Ci + 1;
  auto z = randn<T>(M * Co, rng);
  const auto g = randn<T>(M * Co, rng), w = randn<T>(Co * Ci, rng), in = randn<T>(M * ldi, rng);
  for (auto& v : z) v = v * T(1.5) + T(0.3);
  std::vector<T> st(3 * Co);
  k::nhwc::bn_stats<T>(z.data(), M, Co, 1, 1e-5, st.data(), st.data() + Co, st.data() + 2 * Co);
  for (bool relu_mask : {false, true})
    for (bool training : {false, true}) {
      std::vector<T> coef(3 * Co), dz(M * Co);
      k::nhwc::bn_backward_coef<T>(g.data(), z.data(), st.data(), st.data() + Co, T(0.7), relu_mask,
                                   training, M, Co, 1, coef.data());
      k::nhwc::bn_backward<T>(g.data(), z.data(), st.data(), st.data() + Co, T(0.7), relu_mask,
                              training, M, Co, 1, dz.data(), nullptr);
      std::vector<T> din(M * ldd, T(7)), din_ref(M * ldd, T(7)), gw(Co * Ci), gw_ref(Co * Ci);
      const k::nhwc::BnGrad<T> f{g.data(),       z.data(),    st.data(),
                                 st.data() + Co, coef.data(), relu_mask};
      const bool taken = k::nhwc::bn_gemm_grads<T>(f, M, Co, w.data(), Ci, din.data(), ldd,
                                                   in.data(), ldi, gw.data());
      const bool ref = k::nhwc::gemm_grads<T>(dz.data(), Co, M, Co, w.data(), Ci, din_ref.data(),
                                              ldd, in.data(), ldi, gw_ref.data());
      CHECK(taken == ref);
      if (!taken) continue;
      CHECK(din == din_ref);
      CHECK(gw == gw_ref);
      std::vector<T> din2(M * ldd, T(7));
      CHECK(
          k::nhwc::bn_gemm_grads<T>(f, M, Co, w.data(), Ci, din2.data(), ldd, nullptr, 0, nullptr));
      CHECK(din2 == din_ref);
    }
}

// The op's own layout changes against the test's loops (exact).
template <typename T>
void check_transposes(int64_t N, int64_t C, int64_t P, std::mt19937& rng) {
  const auto a = randn<T>(N * C * P, rng);
  std::vector<T> b(a.size()), back(a.size());
  k::nhwc::to_nhwc<T>(a.data(), N, C, P, b.data());
  k::nhwc::to_nchw<T>(b.data(), N, C, P, back.data());
  CHECK(b == to_nhwc(a, N, C, P));
  CHECK(back == a);
}

// gemm_rows against a naive product, on row slices of wider matrices (lda > I, ldo > J).
template <typename T>
void check_gemm_rows(int64_t M, int64_t I, int64_t J, std::mt19937& rng) {
  const int64_t lda = I + 3, ldo = J + 5;
  const auto a = randn<T>(M * lda, rng), b = randn<T>(I * J, rng);
  std::vector<T> out(M * ldo, T(7));
  const bool taken = k::nhwc::gemm_rows<T>(a.data(), lda, M, I, b.data(), J, out.data(), ldo);
  const int64_t L = k::nhwc::lanes<T>();
  CHECK(taken == (J % L == 0 && J <= 16 * L && I <= 256));
  for (int64_t m = 0; m < M; ++m)
    for (int64_t j = 0; j < ldo; ++j) {
      if (!taken || j >= J) {
        CHECK(out[m * ldo + j] == T(7));  // nothing written outside the slice
        continue;
      }
      double want = 0;
      for (int64_t i = 0; i < I; ++i) want += double(a[m * lda + i]) * double(b[i * J + j]);
      CHECK_NEAR(out[m * ldo + j], want, tol<T>() * 10 * (1 + std::fabs(want)));
    }
}

// gemm_tn (a^T b over rows) against a naive sum, row slices of wider matrices, several chunks.
template <typename T>
void check_gemm_tn(int64_t M, int64_t I, int64_t J, std::mt19937& rng) {
  const int64_t lda = I + 2, ldb = J + 3;
  const auto a = randn<T>(M * lda, rng), b = randn<T>(M * ldb, rng);
  std::vector<T> out(I * J, T(7));
  const bool taken = k::nhwc::gemm_tn<T>(a.data(), lda, b.data(), ldb, M, I, J, out.data());
  const int64_t L = k::nhwc::lanes<T>();
  CHECK(taken == (J % L == 0 && J <= 16 * L && I <= 256));
  for (int64_t i = 0; i < I; ++i)
    for (int64_t j = 0; j < J; ++j) {
      if (!taken) {
        CHECK(out[i * J + j] == T(7));
        continue;
      }
      double want = 0;
      for (int64_t m = 0; m < M; ++m) want += double(a[m * lda + i]) * double(b[m * ldb + j]);
      CHECK_NEAR(out[i * J + j], want, tol<T>() * 10 * (1 + std::fabs(want)) * (1 + M / 256));
    }
}

// gemm_grads (one pass over dz) against gemm_rows and gemm_tn called apart: the same values, bit
// for bit; without gw only din.
template <typename T>
void check_gemm_grads(int64_t M, int64_t Co, int64_t Ci, std::mt19937& rng) {
  const int64_t ldz = Co + 3, ldi = Ci + 2, ldd = Ci + 1;
  const auto dz = randn<T>(M * ldz, rng), w = randn<T>(Co * Ci, rng), in = randn<T>(M * ldi, rng);
  std::vector<T> din(M * ldd, T(7)), din_ref(M * ldd, T(7)), gw(Co * Ci), gw_ref(Co * Ci);
  const bool taken = k::nhwc::gemm_grads<T>(dz.data(), ldz, M, Co, w.data(), Ci, din.data(), ldd,
                                            in.data(), ldi, gw.data());
  const bool rows = k::nhwc::gemm_rows<T>(dz.data(), ldz, M, Co, w.data(), Ci, din_ref.data(), ldd);
  const bool tn = k::nhwc::gemm_tn<T>(dz.data(), ldz, in.data(), ldi, M, Co, Ci, gw_ref.data());
  CHECK(taken == rows && taken == tn);
  if (!taken) return;
  CHECK(din == din_ref);
  CHECK(gw == gw_ref);
  std::vector<T> din2(M * ldd, T(7));
  CHECK(k::nhwc::gemm_grads<T>(dz.data(), ldz, M, Co, w.data(), Ci, din2.data(), ldd, nullptr, 0,
                               nullptr));
  CHECK(din2 == din_ref);
}

}  // namespace

int main() {
  std::mt19937 rng(11);
  // C: one vector, two (a pair-of-vectors block), and more than one 32-channel task group (kGroup)
  for (int64_t s : {1, 2})
    for (auto [H, W] :
         {std::pair<int64_t, int64_t>{8, 8}, {7, 9}, {1, 1}, {6, 10}, {3, 2}, {2, 1}, {1, 5}}) {
      check_stage1<double>(2, 4, H, W, s, rng);
      check_stage1<double>(1, 12, H, W, s, rng);
      check_stage1<float>(2, 8, H, W, s, rng);
      check_stage1<float>(1, 72, H, W, s, rng);
      check_stage1<float>(2, 16, H, W, s, rng, /*specials=*/true);
      check_stage1<double>(1, 8, H, W, s, rng, /*specials=*/true);
      check_pool_bn<float>(2, 16, H, W, s, rng);
      check_pool_bn<double>(1, 72, H, W, s, rng);
      check_pool_bn<float>(2, 8, H, W, s, rng, /*specials=*/true);
      check_pool_bn<double>(1, 12, H, W, s, rng, /*specials=*/true);
    }
  for (auto [H, W] : {std::pair<int64_t, int64_t>{8, 8}, {5, 7}, {1, 1}}) {
    check_bn_and_sep<double>(3, 8, H, W, rng);
    check_bn_and_sep<float>(2, 24, H, W, rng);
    check_bn_and_sep<float>(1, 136, H, W, rng);
    // channel counts the per-row loops are compiled for (with_channel_count)
    check_bn_and_sep<float>(2, 16, H, W, rng);
    check_bn_and_sep<float>(1, 64, H, W, rng);
    check_bn_and_sep<double>(1, 32, H, W, rng);
  }
  // taken: 1 vector (12-row blocks), 3 (1-vector column blocks), 2, 4 and 8 (2-vector column
  // blocks), 16; not taken: 17 vectors, 300 rows of out
  for (int64_t M : {1, 5, 300, 1000})
    for (int64_t I : {1, 6, 13, 16, 64}) {
      for (int64_t J : {8, 16, 24, 32, 64, 136}) check_gemm_tn<float>(M, I, J, rng);
      check_gemm_tn<double>(M, I, 8, rng);
      check_gemm_tn<double>(M, I, 12, rng);
    }
  check_gemm_tn<float>(300, 300, 8, rng);
  for (int64_t M : {1, 3, 5, 7, 11, 13, 600})  // remainders of the 6- and 12-row blocks
    for (int64_t J : {8, 16, 24, 32, 64, 12, 128, 136}) {
      check_gemm_rows<float>(M, 16, J, rng);
      check_gemm_rows<double>(M, 9, J / 2, rng);
    }
  check_gemm_rows<float>(20, 300, 8, rng);
  for (int64_t M : {1, 7, 300, 600})
    for (auto [Co, Ci] :
         {std::pair<int64_t, int64_t>{64, 64}, {8, 16}, {16, 24}, {32, 8}, {4, 136}}) {
      check_gemm_grads<float>(M, Co, Ci, rng);
      check_gemm_grads<double>(M, Co, Ci / 2, rng);
    }
  // row counts around the chunk size, channel counts with and without a compiled loop
  for (int64_t M : {1, 255, 256, 700})
    for (auto [Co, Ci] : {std::pair<int64_t, int64_t>{64, 64}, {16, 32}, {24, 8}, {40, 136}}) {
      check_bn_gemm_grads<float>(M, Co, Ci, rng);
      check_bn_gemm_grads<double>(M, Co, Ci, rng);
    }
  for (auto [C, P] :
       {std::pair<int64_t, int64_t>{64, 64}, {3, 37}, {17, 1}, {1, 5}, {17, 37}, {24, 10}}) {
    check_transposes<float>(3, C, P, rng);
    check_transposes<double>(2, C, P, rng);
  }
  TEST_MAIN_RETURN();
}

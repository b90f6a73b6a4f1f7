// Kernel bodies of the fused DARTS edge in the channels-innermost layout: every tensor argument
// is [N, H, W, C] (channels-last), C a multiple of kLanes<T>, and the inner loops run over
// channels in whole vectors. Same contracts as darts_edge_nchw.h otherwise (see
// darts_edge_nhwc.h). Compiled once per ISA into namespace nhwc::NASFAST_CPU_CAPABILITY
// (common/cpu_capability.h), with the internals in darts_edge_nhwc_planes.h, _conv.h and _pool.h;
// each copy exports its kernel_table.
//
// Work is split into (channel group, sample) tasks. A task copies its sample's channel group
// into a zero-bordered plane (PadPlane) once, and every conv tap is then a plain vector load.
// Channel sums run over fixed row chunks (bn_stats, bn_backward) or per sample (depthwise weight
// gradients) and are added up in a fixed order, so results do not depend on the thread count.
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/cpu_buffer_cache.h"
#include "common/cpu_capability.h"
#include "ops/darts_edge/cpu/darts_edge_nhwc.h"
#include "ops/darts_edge/cpu/darts_edge_nhwc_conv.h"
#include "ops/darts_edge/cpu/darts_edge_nhwc_planes.h"
#include "ops/darts_edge/cpu/darts_edge_nhwc_pool.h"
#include "ops/darts_edge/cpu/darts_edge_simd.h"

NASFAST_CPU_CAPABILITY_BEGIN
namespace nasfast::darts_edge::cpu::nhwc::NASFAST_CPU_CAPABILITY {

// The per-branch constants of the first depthwise stage: weights tap-major (as they are and
// reversed, for the input gradient) and tap offsets in a PadPlane of the input's size.
template <typename T>
struct Stage1Taps {
  std::vector<T> w[4], wflip[4];
  int64_t off[4][25];
  int kk[4];
  Stage1Taps(const T* const* dw_w, const bool* use, const Dims& d, bool flipped) {
    const int64_t wp = d.W + 2 * kPad, g = group_pitch(d.C);
    for (int b = 0; b < 4; ++b) {
      const DwSpec sp = kStage1[b];
      kk[b] = sp.k * sp.k;
      if (!use[b]) continue;
      w[b] = taps_major(dw_w[b], d.C, kk[b]);
      if (flipped) wflip[b] = taps_major(dw_w[b], d.C, kk[b], true);
      tap_offsets(sp, wp, g, off[b]);
    }
  }
};

// sums[k] [G] += per channel sum over one task's pool plane k (pixels ldp apart, [0] max,
// [1] avg) of g * (pool - mean) * invstd (see PoolGySums; g, mean, invstd at the task's pixel 0 /
// channel c0). Each output row sums in T, the rows are added in double.
template <typename T>
void pool_gy_sums(const T* const* pool, int64_t ldp, const T* g, int64_t C, int64_t G,
                  const Dims& d, const PoolGySums<T>& ps, int64_t c0, double* const* sums) {
  constexpr int L = kLanes<T>;
  for (int k = 0; k < 2; ++k) {
    if (!sums[k]) continue;
    for (int64_t oy = 0; oy < d.Ho; ++oy)
      for (int64_t c = 0; c < G; c += L) {
        const Vec<T> mean = load(ps.mean[k] + c0 + c), invstd = load(ps.invstd[k] + c0 + c);
        Vec<T> acc{};
        for (int64_t ox = 0; ox < d.Wo; ++ox) {
          const int64_t p = oy * d.Wo + ox;
          acc += load(g + p * C + c) * ((load(pool[k] + p * ldp + c) - mean) * invstd);
        }
        for (int i = 0; i < L; ++i) sums[k][c + i] += static_cast<double>(acc[i]);
      }
  }
}

// stage1_forward; with ps, the pools are not written (maxp, avgp null) but summed against g
// (pool_gy_sums, per task, added in task order into ps.sums).
template <typename T>
void stage1_forward_with(const T* x, const Dims& d, const T* const* dw_w, T* const* dw_out, T* maxp,
                         T* avgp, T* fr0, T* fr1, const PoolGySums<T>* ps) {
  constexpr int L = kLanes<T>;
  const int64_t C = d.C, Gp = group_pitch(C), HW = d.H * d.W, HWo = d.Ho * d.Wo;
  bool use[4];
  bool any_r = fr0 != nullptr;
  for (int b = 0; b < 4; ++b) any_r = (use[b] = dw_out[b] != nullptr) || any_r;
  const Stage1Taps<T> taps(dw_w, use, d, false);
  const Tasks tasks(C);
  const int64_t ntasks = tasks.count(d.N);
  const bool sum_pool[2] = {ps && ps->sums[0], ps && ps->sums[1]};
  std::vector<double> task_sums(ps ? ntasks * 2 * Gp : 0, 0.0);  // [task, pool, Gp]
  at::parallel_for(0, ntasks, 1, [&](int64_t begin, int64_t end) {
    PadPlane<T> r(any_r ? d.H : 0, d.W, Gp);
    std::vector<T> pool_buf[2];  // with ps: one task's pools, pixels Gp apart
    for (int k = 0; k < 2; ++k)
      if (sum_pool[k]) pool_buf[k].resize(HWo * Gp);
    for (int64_t task = begin; task < end; ++task) {
      const int64_t n = tasks.n(task), c0 = tasks.c0(task), G = tasks.width(task);
      const T* xs = x + n * HW * C + c0;
      const int64_t o = n * HWo * C + c0;
      if (any_r) fill_plane(xs, C, G, r, ReluMap<T>{});
      for (int b = 0; b < 4; ++b)
        if (use[b])
          dw_conv(r.at(0, 0), r.Wp * Gp, Gp, kStage1[b], d.s, taps.w[b].data() + c0, C, G,
                  dw_out[b] + o, d.Wo * C, C, d.Ho, d.Wo, false);
      if (sum_pool[0] || sum_pool[1]) {
        T* pb[2] = {sum_pool[0] ? pool_buf[0].data() : nullptr,
                    sum_pool[1] ? pool_buf[1].data() : nullptr};
        pools_fwd(xs, C, G, d, pb[0], pb[1], Gp);
        double* ts = task_sums.data() + task * 2 * Gp;
        double* sums[2] = {sum_pool[0] ? ts : nullptr, sum_pool[1] ? ts + Gp : nullptr};
        pool_gy_sums<T>(pb, Gp, ps->g + o, C, G, d, *ps, c0, sums);
      } else if (maxp || avgp) {
        pools_fwd(xs, C, G, d, maxp ? maxp + o : nullptr, avgp ? avgp + o : nullptr, C);
      }
      if (fr0)  // stride 2 only: r[2 oy, 2 ox] and r[2 oy + 1, 2 ox + 1] (the border is zero)
        for (int64_t oy = 0; oy < d.Ho; ++oy)
          for (int64_t ox = 0; ox < d.Wo; ++ox) {
            const int64_t p = o + (oy * d.Wo + ox) * C;
            const T* e = r.at(2 * oy, 2 * ox);
            const T* od = r.at(2 * oy + 1, 2 * ox + 1);
            for (int64_t c = 0; c < G; c += L) {
              store(fr0 + p + c, load(e + c), L);
              store(fr1 + p + c, load(od + c), L);
            }
          }
    }
  });
  if (ps) add_task_sums(tasks, d.N, task_sums, 2, ps->sums);
}

template <typename T>
void stage1_forward(const T* x, const Dims& d, const T* const* dw_w, T* const* dw_out, T* maxp,
                    T* avgp, T* fr0, T* fr1) {
  stage1_forward_with<T>(x, d, dw_w, dw_out, maxp, avgp, fr0, fr1, nullptr);
}

template <typename T>
void stage1_forward_pool_sums(const T* x, const Dims& d, const T* const* dw_w, T* const* dw_out,
                              T* fr0, T* fr1, const PoolGySums<T>& ps) {
  stage1_forward_with<T>(x, d, dw_w, dw_out, nullptr, nullptr, fr0, fr1, &ps);
}

// Calls f(Cn), Cn the channel count: a compile-time constant for the common counts, so the
// channel loops of per-row work unroll and per-channel constants stay in registers; else C.
template <typename F>
void with_channel_count(int64_t C, const F& f) {
  switch (C) {
    case 8: return f(std::integral_constant<int64_t, 8>{});
    case 16: return f(std::integral_constant<int64_t, 16>{});
    case 32: return f(std::integral_constant<int64_t, 32>{});
    case 64: return f(std::integral_constant<int64_t, 64>{});
    default: return f(C);
  }
}

// Column sums over the M rows of [M, C]: `term(m, acc, Cn)` adds row m's nsum summands per
// channel into acc [nsum, C] (type T; Cn == C, see with_channel_count). Each chunk of kRows rows
// sums in T, the chunks are added in double and in order.
template <typename T, typename F>
std::vector<double> channel_sums(int64_t M, int64_t C, int nsum, F term) {
  const int64_t chunks = (M + kRows - 1) / kRows, n = nsum * C;
  std::vector<double> part(chunks * n);
  with_channel_count(C, [&](auto Cn) {
    at::parallel_for(0, chunks, 1, [&](int64_t begin, int64_t end) {
      std::vector<T> acc(n);
      for (int64_t ch = begin; ch < end; ++ch) {
        std::fill(acc.begin(), acc.end(), T(0));
        const int64_t m1 = std::min(M, (ch + 1) * kRows);
        for (int64_t m = ch * kRows; m < m1; ++m) term(m, acc.data(), Cn);
        double* p = part.data() + ch * n;
        for (int64_t i = 0; i < n; ++i) p[i] = static_cast<double>(acc[i]);
      }
    });
  });
  std::vector<double> sum(n, 0.0);
  for (int64_t ch = 0; ch < chunks; ++ch)
    for (int64_t i = 0; i < n; ++i) sum[i] += part[ch * n + i];
  return sum;
}

// Accumulators per channel in stats_chunk: rows are summed into kStatLanes interleaved partials
// (one chain of adds per partial, so consecutive rows do not wait on each other).
constexpr int64_t kStatLanes = 4;

// The partial statistics of rows [m0, m1) (<= kRows, in L1) of z [M, Cn]: their sum and their
// sum of squares about their own mean, in T, into p [2, C] (double). acc: scratch of
// 2 * kStatLanes * Cn.
template <typename T, typename CN>
void stats_chunk(const T* z, int64_t m0, int64_t m1, CN Cn, T* __restrict acc, double* p) {
  constexpr int64_t R = kStatLanes;
  static_assert(R == 4, "the partials are added pairwise below");
  T* __restrict sum = acc;          // [R, Cn]
  T* __restrict m2 = acc + R * Cn;  // [R, Cn]
  for (int64_t c = 0; c < 2 * R * Cn; ++c) acc[c] = T(0);
  // row m goes to partial (m - m0) % R; the partials are added pairwise at the end
  auto rows = [&](auto&& f) {
    int64_t m = m0;
    for (; m + R <= m1; m += R)
#pragma GCC unroll 4
      for (int64_t r = 0; r < R; ++r) f(z + (m + r) * Cn, r * Cn);
    for (int64_t r = 0; m < m1; ++m, ++r) f(z + m * Cn, r * Cn);
  };
  rows([&](const T* __restrict zr, int64_t o) {
#pragma omp simd
    for (int64_t c = 0; c < Cn; ++c) sum[o + c] += zr[c];
  });
  for (int64_t c = 0; c < Cn; ++c)
    sum[c] = (sum[c] + sum[Cn + c]) + (sum[2 * Cn + c] + sum[3 * Cn + c]);
  const T inv = T(1) / static_cast<T>(m1 - m0);
  rows([&](const T* __restrict zr, int64_t o) {
#pragma omp simd
    for (int64_t c = 0; c < Cn; ++c) {
      const T t = zr[c] - sum[c] * inv;
      m2[o + c] += t * t;
    }
  });
  for (int64_t c = 0; c < Cn; ++c) {
    p[c] = static_cast<double>(sum[c]);
    p[Cn + c] = static_cast<double>((m2[c] + m2[Cn + c]) + (m2[2 * Cn + c] + m2[3 * Cn + c]));
  }
}

// bn_stats from the partials of its chunks (part [chunks, 2, C], see stats_chunk), merged in
// order, in double: total mean, then M2 = sum over chunks of M2_chunk + n_chunk * (mean_chunk -
// mean)^2.
template <typename T>
void stats_merge(const std::vector<double>& part, int64_t M, int64_t C, double eps, T* mean,
                 T* invstd, T* var_unbiased) {
  const int64_t chunks = (M + kRows - 1) / kRows;
  std::vector<double> mu(C, 0.0), v(C, 0.0);
  for (int64_t ch = 0; ch < chunks; ++ch)
    for (int64_t c = 0; c < C; ++c) mu[c] += part[ch * 2 * C + c];
  const double Md = static_cast<double>(M);
  for (int64_t c = 0; c < C; ++c) mu[c] /= Md;
  for (int64_t ch = 0; ch < chunks; ++ch) {
    const double n = static_cast<double>(std::min(M, (ch + 1) * kRows) - ch * kRows);
    const double* p = part.data() + ch * 2 * C;
    for (int64_t c = 0; c < C; ++c) {
      const double dm = p[c] / n - mu[c];
      v[c] += p[C + c] + n * dm * dm;
    }
  }
  for (int64_t c = 0; c < C; ++c) {
    mean[c] = static_cast<T>(mu[c]);
    invstd[c] = static_cast<T>(1.0 / std::sqrt(v[c] / Md + eps));
    var_unbiased[c] =
        static_cast<T>(M > 1 ? v[c] / (Md - 1) : std::numeric_limits<double>::quiet_NaN());
  }
}

// Batch mean, 1 / sqrt(biased var + eps) and unbiased var per channel, in one pass over z: the
// partials of each chunk of kRows rows (stats_chunk), merged in order (stats_merge).
template <typename T>
void bn_stats(const T* z, int64_t N, int64_t C, int64_t HW, double eps, T* mean, T* invstd,
              T* var_unbiased) {
  const int64_t M = N * HW, chunks = (M + kRows - 1) / kRows;
  std::vector<double> part(chunks * 2 * C);
  with_channel_count(C, [&](auto Cn) {
    at::parallel_for(0, chunks, 1, [&](int64_t begin, int64_t end) {
      std::vector<T> acc(2 * kStatLanes * C);
      for (int64_t ch = begin; ch < end; ++ch)
        stats_chunk(z, ch * kRows, std::min(M, (ch + 1) * kRows), Cn, acc.data(),
                    part.data() + ch * 2 * C);
    });
  });
  stats_merge(part, M, C, eps, mean, invstd, var_unbiased);
}

template <typename T>
void bn_relu_dw_forward(const T* z, const T* mean, const T* invstd, int64_t N, int64_t C, int64_t H,
                        int64_t W, const T* w, DwSpec spec, T* out) {
  const int64_t Gp = group_pitch(C), HW = H * W;
  const int kk = spec.k * spec.k;
  const std::vector<T> wt = taps_major(w, C, kk);
  const Tasks tasks(C);
  at::parallel_for(0, tasks.count(N), 1, [&](int64_t begin, int64_t end) {
    PadPlane<T> a(H, W, Gp);
    for (int64_t task = begin; task < end; ++task) {
      const int64_t n = tasks.n(task), c0 = tasks.c0(task), G = tasks.width(task);
      fill_plane(z + n * HW * C + c0, C, G, a, BnReluMap<T>{mean + c0, invstd + c0});
      dw_conv(a.at(0, 0), a.Wp * Gp, Gp, spec, 1, wt.data() + c0, C, G, out + n * HW * C + c0,
              W * C, C, H, W, false);
    }
  });
}

// mix_forward for RB rows from row m and NV vectors of channels from channel c. The RB * NV sums
// stay in registers over the K terms, as independent FMA chains; summed in `out` instead, each
// term would wait on the store of the previous one. Per element: the same operations in order.
template <typename T, int RB, int NV>
__attribute__((always_inline)) inline void mix_block(const T* const* z, const T* const* mean,
                                                     const T* const* invstd, const T* wk, int K,
                                                     int64_t C, int64_t m, int64_t c, T* out) {
  constexpr int L = kLanes<T>;
  Vec<T> acc[RB][NV] = {};
  for (int k = 0; k < K; ++k) {
    const T* zk = z[k] + m * C + c;
    const T w = wk[k];
    if (mean[k]) {
      Vec<T> mv[NV], iv[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) {
        mv[v] = load(mean[k] + c + v * L);
        iv[v] = load(invstd[k] + c + v * L);
      }
#pragma GCC unroll 8
      for (int r = 0; r < RB; ++r)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[r][v] += w * ((load(zk + r * C + v * L) - mv[v]) * iv[v]);
    } else {
#pragma GCC unroll 8
      for (int r = 0; r < RB; ++r)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[r][v] += w * load(zk + r * C + v * L);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < RB; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) store(out + (m + r) * C + c + v * L, acc[r][v], L);
}

// RB rows of mix_forward from row m, every channel: pairs of vectors, then one vector.
template <typename T, int RB>
__attribute__((always_inline)) inline void mix_rows(const T* const* z, const T* const* mean,
                                                    const T* const* invstd, const T* wk, int K,
                                                    int64_t C, int64_t m, T* out) {
  constexpr int L = kLanes<T>;
  int64_t c = 0;
  for (; c + 2 * L <= C; c += 2 * L) mix_block<T, RB, 2>(z, mean, invstd, wk, K, C, m, c, out);
  if (c < C) mix_block<T, RB, 1>(z, mean, invstd, wk, K, C, m, c, out);
}

template <typename T>
void mix_forward(const T* const* z, const T* const* mean, const T* const* invstd, const T* wk,
                 int K, int64_t N, int64_t C, int64_t HW, T* out) {
  constexpr int RB = 3;
  at::parallel_for(0, N * HW, kRows, [&](int64_t begin, int64_t end) {
    int64_t m = begin;
    for (; m + RB <= end; m += RB) mix_rows<T, RB>(z, mean, invstd, wk, K, C, m, out);
    for (; m < end; ++m) mix_rows<T, 1>(z, mean, invstd, wk, K, C, m, out);
  });
}

// bn_backward's per-channel terms as coef [3, C] (see BnGrad): scale * invstd, the mean of g'
// and the mean of g' y (both 0 in eval mode); sum_gy (may be null) as in bn_backward.
template <typename T>
void bn_grad_coef(const T* g, const T* z, const T* mean, const T* invstd, T scale, bool relu_mask,
                  bool training, int64_t N, int64_t C, int64_t HW, T* coef, double* sum_gy) {
  const int64_t M = N * HW;
  T* k = coef;
  T* mg = coef + C;
  T* mgy = coef + 2 * C;
  for (int64_t c = 0; c < C; ++c) {
    k[c] = scale * invstd[c];
    mg[c] = mgy[c] = T(0);
  }
  if (!training && !sum_gy) return;
  const std::vector<double> s = channel_sums<T>(M, C, 2, [&](int64_t m, T* __restrict p, auto Cn) {
    const T* __restrict gr = g + m * Cn;
    const T* __restrict zr = z + m * Cn;
#pragma omp simd
    for (int64_t c = 0; c < Cn; ++c) {
      const T y = (zr[c] - mean[c]) * invstd[c];
      const T gg = (!relu_mask || y > T(0)) ? gr[c] : T(0);
      p[c] += gg;
      p[Cn + c] += gg * y;
    }
  });
  if (sum_gy)
    for (int64_t c = 0; c < C; ++c) sum_gy[c] = s[C + c];
  if (training)
    for (int64_t c = 0; c < C; ++c) {
      mg[c] = static_cast<T>(s[c] / static_cast<double>(M));
      mgy[c] = static_cast<T>(s[C + c] / static_cast<double>(M));
    }
}

// Rows [m0, m1) of the BatchNorm input gradient f (Cn == C channels) into out (rows C apart,
// out[0] = row m0).
template <typename T, typename Cn>
__attribute__((always_inline)) inline void bn_grad_rows(const BnGrad<T>& f, int64_t m0, int64_t m1,
                                                        Cn C, T* out) {
  const T* __restrict kp = f.coef;
  const T* __restrict gp = f.coef + C;
  const T* __restrict yp = f.coef + 2 * C;
  const T* __restrict mean = f.mean;
  const T* __restrict invstd = f.invstd;
  for (int64_t m = m0; m < m1; ++m) {
    const T* __restrict gr = f.g + m * C;
    const T* __restrict zr = f.z + m * C;
    T* __restrict dr = out + (m - m0) * C;
    if (f.relu_mask) {
#pragma omp simd
      for (int64_t c = 0; c < C; ++c) {
        const T y = (zr[c] - mean[c]) * invstd[c];
        const T gg = y > T(0) ? gr[c] : T(0);
        dr[c] = kp[c] * (gg - gp[c] - y * yp[c]);
      }
    } else {
#pragma omp simd
      for (int64_t c = 0; c < C; ++c) {
        const T y = (zr[c] - mean[c]) * invstd[c];
        dr[c] = kp[c] * (gr[c] - gp[c] - y * yp[c]);
      }
    }
  }
}

template <typename T>
void bn_backward(const T* g, const T* z, const T* mean, const T* invstd, T scale, bool relu_mask,
                 bool training, int64_t N, int64_t C, int64_t HW, T* dz, double* sum_gy) {
  const int64_t M = N * HW;
  std::vector<T> coef(3 * C);
  bn_grad_coef(g, z, mean, invstd, scale, relu_mask, training, N, C, HW, coef.data(), sum_gy);
  if (!dz) return;
  const BnGrad<T> f{g, z, mean, invstd, coef.data(), relu_mask};
  with_channel_count(C, [&](auto Cn) {
    at::parallel_for(0, M, kRows, [&](int64_t begin, int64_t end) {
      bn_grad_rows(f, begin, end, Cn, dz + begin * Cn);
    });
  });
}

template <typename T>
void bn_backward_coef(const T* g, const T* z, const T* mean, const T* invstd, T scale,
                      bool relu_mask, bool training, int64_t N, int64_t C, int64_t HW, T* coef) {
  bn_grad_coef(g, z, mean, invstd, scale, relu_mask, training, N, C, HW, coef, nullptr);
}

template <typename T>
void bn_backward_final(const T* g, int K, const T* const* z, const T* const* mean,
                       const T* const* invstd, const T* scale, bool training, int64_t N, int64_t C,
                       int64_t HW, T* const* dz, double* const* sum_gy, T* const* coef,
                       const double* const* gy) {
  const int64_t M = N * HW;
  std::vector<T> cf(K * 3 * C, T(0));  // slot k's coefficients (see BnGrad) at cf[k * 3 * C]
  bool sums = training, any_dz = false;
  for (int k = 0; k < K; ++k) {
    sums = sums || sum_gy[k];
    any_dz = any_dz || dz[k];
  }
  if (sums) {
    // [sum g, sum g * y_0, ..., sum g * y_{K-1}], the same per-slot terms as bn_backward
    const std::vector<double> s =
        channel_sums<T>(M, C, 1 + K, [&](int64_t m, T* __restrict p, auto Cn) {
          const T* __restrict gr = g + m * Cn;
#pragma omp simd
          for (int64_t c = 0; c < Cn; ++c) p[c] += gr[c];
          for (int k = 0; k < K; ++k) {
            if (!z[k]) continue;  // given in gy[k]
            const T* __restrict zr = z[k] + m * Cn;
            const T* __restrict mk = mean[k];
            const T* __restrict ik = invstd[k];
            T* __restrict pk = p + (1 + k) * Cn;
#pragma omp simd
            for (int64_t c = 0; c < Cn; ++c) pk[c] += gr[c] * ((zr[c] - mk[c]) * ik[c]);
          }
        });
    auto sgy = [&](int k, int64_t c) { return z[k] ? s[(1 + k) * C + c] : gy[k][c]; };
    for (int k = 0; k < K; ++k)
      if (sum_gy[k])
        for (int64_t c = 0; c < C; ++c) sum_gy[k][c] = sgy(k, c);
    if (training)
      for (int k = 0; k < K; ++k)
        for (int64_t c = 0; c < C; ++c) {
          cf[(k * 3 + 1) * C + c] = static_cast<T>(s[c] / static_cast<double>(M));
          cf[(k * 3 + 2) * C + c] = static_cast<T>(sgy(k, c) / static_cast<double>(M));
        }
  }
  for (int k = 0; k < K; ++k) {
    for (int64_t c = 0; c < C; ++c) cf[k * 3 * C + c] = scale[k] * invstd[k][c];
    if (coef[k]) std::copy_n(cf.data() + k * 3 * C, 3 * C, coef[k]);
  }
  if (!any_dz) return;
  // bn_backward's rows for every slot, a block of kRows rows at a time (g's block stays in L1)
  with_channel_count(C, [&](auto Cn) {
    at::parallel_for(0, M, kRows, [&](int64_t begin, int64_t end) {
      for (int64_t m0 = begin; m0 < end; m0 += kRows) {
        const int64_t m1 = std::min(end, m0 + kRows);
        for (int k = 0; k < K; ++k)
          if (dz[k])
            bn_grad_rows(BnGrad<T>{g, z[k], mean[k], invstd[k], cf.data() + k * 3 * C, false}, m0,
                         m1, Cn, dz[k] + m0 * Cn);
      }
    });
  });
}

// sums[0] [G] and sums[1] [G] += the channel sums over one plane of bn_grad_coef with relu_mask,
// from the plane a = relu(y) of the same pixels: (a > 0 ? g : 0) and g * a (= g' y). g is one
// sample's channel group (pixels C apart); each image row sums in T, the rows are added in double.
template <typename T>
void relu_grad_sums(const T* g, int64_t C, int64_t G, PadPlane<T>& a, double* const* sums) {
  constexpr int L = kLanes<T>;
  for (int64_t iy = 0; iy < a.H; ++iy)
    for (int64_t c = 0; c < G; c += L) {
      Vec<T> s0{}, s1{};
      for (int64_t ix = 0; ix < a.W; ++ix) {
        const Vec<T> gv = load(g + (iy * a.W + ix) * C + c), av = load(a.at(iy, ix) + c);
        s0 += av > T(0) ? gv : Vec<T>{};
        s1 += gv * av;
      }
      for (int i = 0; i < L; ++i) {
        sums[0][c + i] += static_cast<double>(s0[i]);
        sums[1][c + i] += static_cast<double>(s1[i]);
      }
    }
}

// bn_relu_dw_backward; with `sums` ([2, C], zeroed), also relu_grad_sums of ga over every
// plane (per task, added in task order).
template <typename T>
void bn_relu_dw_backward_with(const T* gout, const T* z, const T* mean, const T* invstd, int64_t N,
                              int64_t C, int64_t H, int64_t W, const T* w, DwSpec spec, T* ga,
                              T* dw, double* sums) {
  const int64_t Gp = group_pitch(C), HW = H * W;
  const int kk = spec.k * spec.k;
  const std::vector<T> wflip = taps_major(w, C, kk, true);
  int64_t off[25];
  tap_offsets(spec, W + 2 * kPad, Gp, off);
  const Scratch<T> part(dw ? N * kk * C : 0);  // per-sample weight gradients [N, kk, C]
  const Tasks tasks(C);
  std::vector<double> task_sums(sums ? tasks.count(N) * 2 * Gp : 0, 0.0);  // [task, 2, Gp]
  const bool relu_plane = dw || sums;
  at::parallel_for(0, tasks.count(N), 1, [&](int64_t begin, int64_t end) {
    PadPlane<T> gq(H, W, Gp), a(relu_plane ? H : 0, W, Gp);
    for (int64_t task = begin; task < end; ++task) {
      const int64_t n = tasks.n(task), c0 = tasks.c0(task), G = tasks.width(task);
      const T* gs = gout + n * HW * C + c0;
      T* gas = ga + n * HW * C + c0;
      fill_plane(gs, C, G, gq, CopyMap<T>{});
      dw_conv(gq.at(0, 0), gq.Wp * Gp, Gp, spec, 1, wflip.data() + c0, C, G, gas, W * C, C, H, W,
              false);
      if (!relu_plane) continue;
      fill_plane(z + n * HW * C + c0, C, G, a, BnReluMap<T>{mean + c0, invstd + c0});
      if (sums) {
        double* ts[2] = {task_sums.data() + task * 2 * Gp, task_sums.data() + (task * 2 + 1) * Gp};
        relu_grad_sums(gas, C, G, a, ts);
      }
      if (dw)
        wgrad_plane(gs, C, a.at(0, 0), a.Wp * Gp, Gp, off, spec, 1, H, W,
                    part.data() + n * kk * C + c0, C, G);
    }
  });
  if (dw) reduce_wgrad(part.data(), N, C, kk, dw);
  if (sums) {
    double* out[2] = {sums, sums + C};
    add_task_sums(tasks, N, task_sums, 2, out);
  }
}

template <typename T>
void bn_relu_dw_backward(const T* gout, const T* z, const T* mean, const T* invstd, int64_t N,
                         int64_t C, int64_t H, int64_t W, const T* w, DwSpec spec, T* ga, T* dw) {
  bn_relu_dw_backward_with(gout, z, mean, invstd, N, C, H, W, w, spec, ga, dw, nullptr);
}

template <typename T>
void bn_relu_dw_backward_coef(const T* gout, const T* z, const T* mean, const T* invstd, int64_t N,
                              int64_t C, int64_t H, int64_t W, const T* w, DwSpec spec,
                              bool training, T* ga, T* dw, T* coef) {
  std::vector<double> s(training ? 2 * C : 0, 0.0);
  bn_relu_dw_backward_with(gout, z, mean, invstd, N, C, H, W, w, spec, ga, dw,
                           training ? s.data() : nullptr);
  const double M = static_cast<double>(N * H * W);
  for (int64_t c = 0; c < C; ++c) {
    coef[c] = invstd[c];
    coef[C + c] = training ? static_cast<T>(s[c] / M) : T(0);
    coef[2 * C + c] = training ? static_cast<T>(s[C + c] / M) : T(0);
  }
}

// stage1_backward with the pools' output gradients from `pools` (PoolDz, PoolBn).
template <typename T, typename PoolSrc>
void stage1_backward_with(const T* x, const Dims& d, const T* const* dw_w, const T* const* g_dw,
                          const PoolSrc& pools, const T* g_fr0, const T* g_fr1, const T* g_skip,
                          T skip_w, T* gx, T* const* dw_grad) {
  constexpr int L = kLanes<T>;
  const int64_t C = d.C, Gp = group_pitch(C), HW = d.H * d.W, HWo = d.Ho * d.Wo;
  const bool s2 = d.s == 2;
  bool use[4], wg[4];
  bool any_dw = false, any_g = false;
  std::vector<Scratch<T>> part;  // per-sample weight gradients [N, kk, C] of each branch
  for (int b = 0; b < 4; ++b) {
    use[b] = g_dw[b] != nullptr;
    wg[b] = use[b] && dw_grad[b];
    any_g = any_g || use[b];
    any_dw = any_dw || wg[b];
    part.emplace_back(wg[b] ? d.N * kStage1[b].k * kStage1[b].k * C : 0);
  }
  const Stage1Taps<T> taps(dw_w, use, d, !s2);
  const Tasks tasks(C);
  at::parallel_for(0, tasks.count(d.N), 1, [&](int64_t begin, int64_t end) {
    // r = relu(x) (for the weight gradients), gr = the gradient of r, gq = one branch's
    // output gradient, padded (stride 1)
    PadPlane<T> r(any_dw ? d.H : 0, d.W, Gp), gr(d.H, d.W, Gp);
    PadPlane<T> gq(any_g && !s2 ? d.H : 0, d.W, Gp);
    for (int64_t task = begin; task < end; ++task) {
      const int64_t n = tasks.n(task), c0 = tasks.c0(task), G = tasks.width(task);
      const T* xs = x + n * HW * C + c0;
      const int64_t o = n * HWo * C + c0;
      if (any_dw) fill_plane(xs, C, G, r, ReluMap<T>{});
      // at stride 1 the first branch's gather writes every pixel gx reads (the border of gr is
      // not read); scatters and the FR gradient add into it
      if (s2 || !any_g) gr.zero();
      bool first = !s2;
      for (int b = 0; b < 4; ++b) {
        if (!use[b]) continue;
        const T* gs = g_dw[b] + o;
        const T* wt = taps.w[b].data() + c0;
        if (s2) {
          scatter_s2(gs, C, d.Ho, d.Wo, taps.off[b], taps.kk[b], wt, C, G, gr);
        } else {
          fill_plane(gs, C, G, gq, CopyMap<T>{});
          dw_conv(gq.at(0, 0), gq.Wp * Gp, Gp, kStage1[b], 1, taps.wflip[b].data() + c0, C, G,
                  gr.at(0, 0), gr.Wp * Gp, Gp, d.H, d.W, /*acc=*/!first);
          first = false;
        }
        if (wg[b])
          wgrad_plane(gs, C, r.at(0, 0), d.s * r.Wp * Gp, Gp, taps.off[b], kStage1[b], d.s, d.Ho,
                      d.Wo, part[b].data() + n * taps.kk[b] * C + c0, C, G);
      }
      if (g_fr0)  // stride 2 only: r[2 oy, 2 ox] and r[2 oy + 1, 2 ox + 1] (past the image:
                  // the border)
        for (int64_t oy = 0; oy < d.Ho; ++oy)
          for (int64_t ox = 0; ox < d.Wo; ++ox) {
            const int64_t p = o + (oy * d.Wo + ox) * C;
            T* e = gr.at(2 * oy, 2 * ox);
            T* od = gr.at(2 * oy + 1, 2 * ox + 1);
            for (int64_t c = 0; c < G; c += L) {
              store(e + c, load(e + c) + load(g_fr0 + p + c), L);
              store(od + c, load(od + c) + load(g_fr1 + p + c), L);
            }
          }
      T* gxs = gx + n * HW * C + c0;
      for (int64_t iy = 0; iy < d.H; ++iy)
        for (int64_t ix = 0; ix < d.W; ++ix) {
          const int64_t p = (iy * d.W + ix) * C;
          const T* g = gr.at(iy, ix);
          for (int64_t c = 0; c < G; c += L) {
            Vec<T> v = load(xs + p + c) > T(0) ? load(g + c) : Vec<T>{};
            if (g_skip) v += skip_w * load(g_skip + n * HW * C + c0 + p + c);
            store(gxs + p + c, v, L);
          }
        }
      if (pools.max() || pools.avg()) pools_bwd(xs, C, G, d, pools.task(o, c0), gxs);
    }
  });
  for (int b = 0; b < 4; ++b)
    if (wg[b]) reduce_wgrad(part[b].data(), d.N, C, taps.kk[b], dw_grad[b]);
}

template <typename T>
void stage1_backward(const T* x, const Dims& d, const T* const* dw_w, const T* const* g_dw,
                     const T* g_max, const T* g_avg, const T* g_fr0, const T* g_fr1,
                     const T* g_skip, T skip_w, T* gx, T* const* dw_grad) {
  stage1_backward_with(x, d, dw_w, g_dw, PoolDz<T>{g_max, g_avg}, g_fr0, g_fr1, g_skip, skip_w, gx,
                       dw_grad);
}

template <typename T>
void stage1_backward_pool_bn(const T* x, const Dims& d, const T* const* dw_w, const T* const* g_dw,
                             const PoolBnGrads<T>& pools, const T* g_fr0, const T* g_fr1,
                             const T* g_skip, T skip_w, T* gx, T* const* dw_grad) {
  stage1_backward_with(x, d, dw_w, g_dw, PoolBn<T>{pools, d.C}, g_fr0, g_fr1, g_skip, skip_w, gx,
                       dw_grad);
}

// The kLanes x kLanes block at src (rows sst apart), transposed into dst (rows dst_stride apart):
// three rounds of lane shuffles between register pairs.
template <typename T>
struct BlockTranspose;
template <>
struct BlockTranspose<float> {
  typedef int32_t M __attribute__((vector_size(32)));
  static void run(const float* src, int64_t sst, float* dst, int64_t dstride) {
    Vec<float> r[8], t[8], u[8];
    for (int i = 0; i < 8; ++i) r[i] = load(src + i * sst);
    for (int i = 0; i < 8; i += 2) {
      t[i] = __builtin_shuffle(r[i], r[i + 1], M{0, 8, 1, 9, 4, 12, 5, 13});
      t[i + 1] = __builtin_shuffle(r[i], r[i + 1], M{2, 10, 3, 11, 6, 14, 7, 15});
    }
    for (int i = 0; i < 8; i += 4) {
      u[i] = __builtin_shuffle(t[i], t[i + 2], M{0, 1, 8, 9, 4, 5, 12, 13});
      u[i + 1] = __builtin_shuffle(t[i], t[i + 2], M{2, 3, 10, 11, 6, 7, 14, 15});
      u[i + 2] = __builtin_shuffle(t[i + 1], t[i + 3], M{0, 1, 8, 9, 4, 5, 12, 13});
      u[i + 3] = __builtin_shuffle(t[i + 1], t[i + 3], M{2, 3, 10, 11, 6, 7, 14, 15});
    }
    for (int i = 0; i < 4; ++i) {
      store(dst + i * dstride, __builtin_shuffle(u[i], u[i + 4], M{0, 1, 2, 3, 8, 9, 10, 11}), 8);
      store(dst + (i + 4) * dstride,
            __builtin_shuffle(u[i], u[i + 4], M{4, 5, 6, 7, 12, 13, 14, 15}), 8);
    }
  }
};
template <>
struct BlockTranspose<double> {
  typedef int64_t M __attribute__((vector_size(32)));
  static void run(const double* src, int64_t sst, double* dst, int64_t dstride) {
    Vec<double> r[4], t[4];
    for (int i = 0; i < 4; ++i) r[i] = load(src + i * sst);
    for (int i = 0; i < 4; i += 2) {
      t[i] = __builtin_shuffle(r[i], r[i + 1], M{0, 4, 2, 6});
      t[i + 1] = __builtin_shuffle(r[i], r[i + 1], M{1, 5, 3, 7});
    }
    for (int i = 0; i < 2; ++i) {
      store(dst + i * dstride, __builtin_shuffle(t[i], t[i + 2], M{0, 1, 4, 5}), 4);
      store(dst + (i + 2) * dstride, __builtin_shuffle(t[i], t[i + 2], M{2, 3, 6, 7}), 4);
    }
  }
};

// dst [N, S, R] = src [N, R, S] transposed per sample: whole kLanes x kLanes blocks in
// registers, the ragged edges element by element. Tasks are (sample, band of kLanes rows).
template <typename T>
void transpose_planes(const T* src, int64_t N, int64_t R, int64_t S, T* dst) {
  constexpr int64_t L = kLanes<T>;
  const int64_t bands = (R + L - 1) / L;
  at::parallel_for(0, N * bands, 4, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t n = t / bands, r0 = t % bands * L, r1 = std::min(R, r0 + L);
      const T* a = src + n * R * S;
      T* b = dst + n * R * S;
      int64_t s0 = 0;
      if (r1 - r0 == L)
        for (; s0 + L <= S; s0 += L) BlockTranspose<T>::run(a + r0 * S + s0, S, b + s0 * R + r0, R);
      for (int64_t s = s0; s < S; ++s)  // all columns of a partial band
        for (int64_t r = r0; r < r1; ++r) b[s * R + r] = a[r * S + s];
    }
  });
}

template <typename T>
void to_nhwc(const T* src, int64_t N, int64_t C, int64_t P, T* dst) {
  transpose_planes(src, N, C, P, dst);
}

template <typename T>
void to_nchw(const T* src, int64_t N, int64_t C, int64_t P, T* dst) {
  transpose_planes(src, N, P, C, dst);
}

// RB rows x NV vectors of out[m, :] = a[m, :] b (b [I, NV * L], rows ldb apart; rows of a lda
// apart, of out ldo apart): per input channel i, NV loads of b's row and RB broadcasts feed
// RB * NV independent FMA chains.
template <typename T, int RB, int NV>
__attribute__((always_inline)) inline void gemm_block(const T* a, int64_t lda, int64_t I,
                                                      const T* b, int64_t ldb, T* out,
                                                      int64_t ldo) {
  constexpr int L = kLanes<T>;
  Vec<T> acc[RB][NV];
#pragma GCC unroll 16
  for (int r = 0; r < RB; ++r)
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) acc[r][v] = Vec<T>{};
  for (int64_t i = 0; i < I; ++i) {
    Vec<T> bv[NV];
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) bv[v] = load(b + i * ldb + v * L);
#pragma GCC unroll 16
    for (int r = 0; r < RB; ++r) {
      const T ar = a[r * lda + i];
#pragma GCC unroll 16
      for (int v = 0; v < NV; ++v) acc[r][v] += ar * bv[v];
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < RB; ++r)
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) store(out + r * ldo + v * L, acc[r][v], L);
}

// Register blocks of 12 accumulators (the most the 16 vector registers hold beside b's row and
// a broadcast): 12 rows x 1 vector, or 6 rows x 2 vectors. Every column block of a band of rows
// is done before the next band, so the band and b stay in L1. Rows [m0, m1) only.
template <typename T, int NV>
void gemm_rows_range(const T* a, int64_t lda, int64_t m0, int64_t m1, int64_t I, const T* b,
                     int64_t J, T* out, int64_t ldo) {
  constexpr int L = kLanes<T>, RB = 12 / NV;
  int64_t m = m0;
  for (; m + RB <= m1; m += RB)
    for (int64_t j = 0; j < J; j += NV * L)
      gemm_block<T, RB, NV>(a + m * lda, lda, I, b + j, J, out + m * ldo + j, ldo);
  // the last rows of a 256-row chunk (256 = 42 * 6 + 4) in blocks of 4 and 2: a single row has
  // too few FMA chains to hide their latency
  for (; m + 4 <= m1; m += 4)
    for (int64_t j = 0; j < J; j += NV * L)
      gemm_block<T, 4, NV>(a + m * lda, lda, I, b + j, J, out + m * ldo + j, ldo);
  for (; m + 2 <= m1; m += 2)
    for (int64_t j = 0; j < J; j += NV * L)
      gemm_block<T, 2, NV>(a + m * lda, lda, I, b + j, J, out + m * ldo + j, ldo);
  for (; m < m1; ++m)
    for (int64_t j = 0; j < J; j += NV * L)
      gemm_block<T, 1, NV>(a + m * lda, lda, I, b + j, J, out + m * ldo + j, ldo);
}

// Rows per task of the row-parallel GEMMs, and per partial of the a^T b ones (fixed: the
// partials are summed in order, so results do not depend on the thread count).
constexpr int64_t kTnRows = 256;

template <typename T, int NV>
void gemm_rows_nv(const T* a, int64_t lda, int64_t M, int64_t I, const T* b, int64_t J, T* out,
                  int64_t ldo) {
  at::parallel_for(0, (M + kTnRows - 1) / kTnRows, 1, [&](int64_t begin, int64_t end) {
    gemm_rows_range<T, NV>(a, lda, begin * kTnRows, std::min(M, end * kTnRows), I, b, J, out, ldo);
  });
}

// own_gemm_size (darts_edge_nhwc.h): the sizes the own kernels beat the vendor BLAS at (which
// packs both operands first; measured at 8-128 channels).
// Runs f(nv), nv the vectors per register block (std::integral_constant: 2 when J is a
// multiple of two vectors, else 1), for the sizes the own kernels take; else returns false.
template <typename T, typename F>
bool with_block_width(int64_t I, int64_t J, const F& f) {
  if (!own_gemm_size<T>(I, J)) return false;
  if (J % (2 * kLanes<T>) != 0)
    f(std::integral_constant<int, 1>{});
  else
    f(std::integral_constant<int, 2>{});
  return true;
}

template <typename T>
bool gemm_rows(const T* a, int64_t lda, int64_t M, int64_t I, const T* b, int64_t J, T* out,
               int64_t ldo) {
  return with_block_width<T>(
      I, J, [&](auto nv) { gemm_rows_nv<T, decltype(nv)::value>(a, lda, M, I, b, J, out, ldo); });
}

// acc[r][v] (RB rows of out x NV vectors) += sum_{m in [m0, m1)} a[m, r] * b[m, v-th vector]:
// RB broadcasts of a's row and NV loads of b's row feed RB * NV independent FMA chains.
template <typename T, int RB, int NV>
__attribute__((always_inline)) inline void gemm_tn_block(const T* a, int64_t lda, const T* b,
                                                         int64_t ldb, int64_t m0, int64_t m1,
                                                         T* out, int64_t ldo) {
  constexpr int L = kLanes<T>;
  Vec<T> acc[RB][NV];
#pragma GCC unroll 16
  for (int r = 0; r < RB; ++r)
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) acc[r][v] = Vec<T>{};
  for (int64_t m = m0; m < m1; ++m) {
    Vec<T> bv[NV];
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) bv[v] = load(b + m * ldb + v * L);
#pragma GCC unroll 16
    for (int r = 0; r < RB; ++r) {
      const T ar = a[m * lda + r];
#pragma GCC unroll 16
      for (int v = 0; v < NV; ++v) acc[r][v] += ar * bv[v];
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < RB; ++r)
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) store(out + r * ldo + v * L, acc[r][v], L);
}

// p [I, J] = a^T b over rows [m0, m1) (a [M, I], b [M, J], rows lda / ldb apart): blocks of
// 12 / NV rows of p x NV vectors (J a multiple of NV vectors).
template <typename T, int NV>
void gemm_tn_range(const T* a, int64_t lda, const T* b, int64_t ldb, int64_t m0, int64_t m1,
                   int64_t I, int64_t J, T* p) {
  constexpr int64_t JB = NV * kLanes<T>;
  constexpr int RB = 12 / NV;
  int64_t i = 0;
  for (; i + RB <= I; i += RB)
    for (int64_t j = 0; j < J; j += JB)
      gemm_tn_block<T, RB, NV>(a + i, lda, b + j, ldb, m0, m1, p + i * J + j, J);
  for (; i + 4 <= I; i += 4)
    for (int64_t j = 0; j < J; j += JB)
      gemm_tn_block<T, 4, NV>(a + i, lda, b + j, ldb, m0, m1, p + i * J + j, J);
  for (; i + 2 <= I; i += 2)
    for (int64_t j = 0; j < J; j += JB)
      gemm_tn_block<T, 2, NV>(a + i, lda, b + j, ldb, m0, m1, p + i * J + j, J);
  for (; i < I; ++i)
    for (int64_t j = 0; j < J; j += JB)
      gemm_tn_block<T, 1, NV>(a + i, lda, b + j, ldb, m0, m1, p + i * J + j, J);
}

// out [n] = sum over chunks of part [chunks, n], in chunk order (in double), over slices of out
// in parallel.
template <typename T>
void sum_partials(const T* part, int64_t chunks, int64_t n, T* out) {
  at::parallel_for(0, (n + 255) / 256, 4, [&](int64_t begin, int64_t end) {
    double s[256];
    for (int64_t k0 = begin * 256; k0 < std::min(n, end * 256); k0 += 256) {
      const int64_t len = std::min<int64_t>(256, n - k0);
      for (int64_t k = 0; k < len; ++k) s[k] = 0;
      for (int64_t ch = 0; ch < chunks; ++ch) {
        const T* p = part + ch * n + k0;
        for (int64_t k = 0; k < len; ++k) s[k] += static_cast<double>(p[k]);
      }
      for (int64_t k = 0; k < len; ++k) out[k0 + k] = static_cast<T>(s[k]);
    }
  });
}

// out [I, J] = a^T b over M rows: one partial per chunk of kTnRows rows (each element written
// by one block), summed in chunk order.
template <typename T, int NV>
void gemm_tn_nv(const T* a, int64_t lda, const T* b, int64_t ldb, int64_t M, int64_t I, int64_t J,
                T* out) {
  const int64_t chunks = (M + kTnRows - 1) / kTnRows;
  const Scratch<T> part(chunks * I * J);
  at::parallel_for(0, chunks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t ch = begin; ch < end; ++ch)
      gemm_tn_range<T, NV>(a, lda, b, ldb, ch * kTnRows, std::min(M, (ch + 1) * kTnRows), I, J,
                           part.data() + ch * I * J);
  });
  sum_partials(part.data(), chunks, I * J, out);
}

// Asks for the cache lines of n values from p.
template <typename T>
__attribute__((always_inline)) inline void prefetch_values(const T* p, int64_t n) {
  for (int64_t c = 0; c < n; c += 64 / static_cast<int64_t>(sizeof(T))) __builtin_prefetch(p + c);
}

// Rows of din per step of gemm_grads_by_chunk, each step prefetching as many rows ahead: a
// multiple of both register-block heights of gemm_rows_range (6 and 12 rows), so a step leaves
// no short block behind (its few FMA chains would wait on their latency).
constexpr int64_t kPrefetchRows = 36;

// Both gradients of a 1x1 conv from one pass over dz's row chunks: din = dz w (w [Co, Ci]) and,
// with gw, gw = dz^T in. Each chunk of dz is read for the second product while it is in cache.
// chunk_source() makes a thread's source of chunks: source(m0, m1) returns rows [m0, m1) of dz
// as (pointer to row m0, row pitch); prefetch_source(m) asks for what source reads for row m.
// The values are those of gemm_rows and gemm_tn.
template <typename T, int NV, typename ChunkSource, typename Prefetch>
void gemm_grads_by_chunk(int64_t M, int64_t Co, const T* w, int64_t Ci, T* din, int64_t ldd,
                         const T* in, int64_t ldi, T* gw, const ChunkSource& chunk_source,
                         const Prefetch& prefetch_source) {
  const int64_t chunks = (M + kTnRows - 1) / kTnRows;
  const Scratch<T> part(gw ? chunks * Co * Ci : 0);
  at::parallel_for(0, chunks, 1, [&](int64_t begin, int64_t end) {
    auto source = chunk_source();
    for (int64_t ch = begin; ch < end; ++ch) {
      const int64_t m0 = ch * kTnRows, m1 = std::min(M, m0 + kTnRows);
      const auto [dz, ldz] = source(m0, m1);
      // The rows of `in` (gw's second operand) and the thread's next chunk of source rows come
      // from L2 or beyond and stalled their first readers; the din GEMM is bound by its FMAs, so
      // they are fetched while it runs.
      const int64_t next = ch + 1 < end ? std::min(M - m1, kTnRows) : 0;
      for (int64_t r = 0; r < m1 - m0; r += kPrefetchRows) {
        const int64_t r1 = std::min(m1 - m0, r + kPrefetchRows);
        for (int64_t q = r; q < r1; ++q) {
          if (gw) prefetch_values(in + (m0 + q) * ldi, Ci);
          if (q < next) prefetch_source(m1 + q);
        }
        gemm_rows_range<T, NV>(dz, ldz, r, r1, Co, w, Ci, din + m0 * ldd, ldd);
      }
      if (gw)
        gemm_tn_range<T, NV>(dz, ldz, in + m0 * ldi, ldi, 0, m1 - m0, Co, Ci,
                             part.data() + ch * Co * Ci);
    }
  });
  if (gw) sum_partials(part.data(), chunks, Co * Ci, gw);
}

// dz given: its chunks are read in place.
template <typename T, int NV>
void gemm_grads_nv(const T* dz, int64_t ldz, int64_t M, int64_t Co, const T* w, int64_t Ci, T* din,
                   int64_t ldd, const T* in, int64_t ldi, T* gw) {
  gemm_grads_by_chunk<T, NV>(
      M, Co, w, Ci, din, ldd, in, ldi, gw,
      [&] {
        return
            [&](int64_t m0, int64_t) { return std::pair<const T*, int64_t>(dz + m0 * ldz, ldz); };
      },
      [&](int64_t m) { prefetch_values(dz + m * ldz, Co); });
}

// dz = f (a BatchNorm input gradient, see BnGrad; Co channels): each chunk formed in a per-thread
// buffer, so dz is never written out.
template <typename T, int NV>
void bn_gemm_grads_nv(const BnGrad<T>& f, int64_t M, int64_t Co, const T* w, int64_t Ci, T* din,
                      int64_t ldd, const T* in, int64_t ldi, T* gw) {
  gemm_grads_by_chunk<T, NV>(
      M, Co, w, Ci, din, ldd, in, ldi, gw,
      [&] {
        return [&f, Co, buf = std::vector<T>(kTnRows * Co)](int64_t m0, int64_t m1) mutable {
          with_channel_count(Co, [&](auto Cn) { bn_grad_rows(f, m0, m1, Cn, buf.data()); });
          return std::pair<const T*, int64_t>(buf.data(), Co);
        };
      },
      [&](int64_t m) {
        prefetch_values(f.g + m * Co, Co);
        prefetch_values(f.z + m * Co, Co);
      });
}

template <typename T>
bool bn_gemm_grads(const BnGrad<T>& f, int64_t M, int64_t Co, const T* w, int64_t Ci, T* din,
                   int64_t ldd, const T* in, int64_t ldi, T* gw) {
  return with_block_width<T>(Co, Ci, [&](auto nv) {
    bn_gemm_grads_nv<T, decltype(nv)::value>(f, M, Co, w, Ci, din, ldd, in, ldi, gw);
  });
}

template <typename T>
bool gemm_grads(const T* dz, int64_t ldz, int64_t M, int64_t Co, const T* w, int64_t Ci, T* din,
                int64_t ldd, const T* in, int64_t ldi, T* gw) {
  return with_block_width<T>(Co, Ci, [&](auto nv) {
    gemm_grads_nv<T, decltype(nv)::value>(dz, ldz, M, Co, w, Ci, din, ldd, in, ldi, gw);
  });
}

template <typename T>
bool gemm_tn(const T* a, int64_t lda, const T* b, int64_t ldb, int64_t M, int64_t I, int64_t J,
             T* out) {
  return with_block_width<T>(
      I, J, [&](auto nv) { gemm_tn_nv<T, decltype(nv)::value>(a, lda, b, ldb, M, I, J, out); });
}

template <typename T>
const KernelTable<T>& kernel_table() {
  static const KernelTable<T> table{&stage1_forward<T>,
                                    &bn_stats<T>,
                                    &bn_relu_dw_forward<T>,
                                    &mix_forward<T>,
                                    &bn_backward<T>,
                                    &bn_relu_dw_backward<T>,
                                    &stage1_backward<T>,
                                    &gemm_rows<T>,
                                    &gemm_tn<T>,
                                    &gemm_grads<T>,
                                    &bn_gemm_grads<T>,
                                    &bn_backward_coef<T>,
                                    &bn_backward_final<T>,
                                    &stage1_forward_pool_sums<T>,
                                    &stage1_backward_pool_bn<T>,
                                    &bn_relu_dw_backward_coef<T>,
                                    &to_nhwc<T>,
                                    &to_nchw<T>};
  return table;
}
template const KernelTable<float>& kernel_table<float>();
template const KernelTable<double>& kernel_table<double>();

}  // namespace nasfast::darts_edge::cpu::nhwc::NASFAST_CPU_CAPABILITY
NASFAST_CPU_CAPABILITY_END

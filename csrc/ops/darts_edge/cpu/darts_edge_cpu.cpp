// CPU kernels of the fused DARTS edge. See darts_edge_cpu.h for the contracts.
#include "ops/darts_edge/cpu/darts_edge_cpu.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace nasfast::darts_edge::cpu {
namespace {

// Output columns [lo, hi) whose input column ox * s + off lies in [0, W).
inline void col_range(int64_t off, int64_t s, int64_t W, int64_t Wo, int64_t& lo, int64_t& hi) {
  lo = off >= 0 ? 0 : (-off + s - 1) / s;
  hi = (W - 1 - off) < 0 ? 0 : std::min<int64_t>(Wo, (W - 1 - off) / s + 1);
  if (hi < lo) hi = lo;
}

// out[Ho, Wo] = depthwise conv of in[H, W] with w[k*k] (stride s, padding p, dilation d).
template <typename T>
void dw_plane_fwd(const T* __restrict in, int64_t H, int64_t W, const T* __restrict w, DwSpec sp,
                  int64_t s, T* __restrict out, int64_t Ho, int64_t Wo) {
  for (int64_t oy = 0; oy < Ho; ++oy) {
    T* __restrict orow = out + oy * Wo;
    for (int64_t ox = 0; ox < Wo; ++ox) orow[ox] = T(0);
    for (int ki = 0; ki < sp.k; ++ki) {
      const int64_t iy = oy * s - sp.p + ki * sp.d;
      if (iy < 0 || iy >= H) continue;
      const T* __restrict irow = in + iy * W;
      for (int kj = 0; kj < sp.k; ++kj) {
        const int64_t off = kj * sp.d - sp.p;
        int64_t lo, hi;
        col_range(off, s, W, Wo, lo, hi);
        const T wv = w[ki * sp.k + kj];
        if (s == 1) {
          const T* __restrict src = irow + off;
#pragma omp simd
          for (int64_t ox = lo; ox < hi; ++ox) orow[ox] += wv * src[ox];
        } else {
          for (int64_t ox = lo; ox < hi; ++ox) orow[ox] += wv * irow[ox * s + off];
        }
      }
    }
  }
}

// gin[H, W] += conv^T(gout) and acc[k*k] += <gout, shifted in> for the conv of dw_plane_fwd.
template <typename T>
void dw_plane_bwd(const T* __restrict gout, const T* __restrict in, int64_t H, int64_t W,
                  const T* __restrict w, DwSpec sp, int64_t s, int64_t Ho, int64_t Wo,
                  T* __restrict gin, double* __restrict acc) {
  for (int64_t oy = 0; oy < Ho; ++oy) {
    const T* __restrict grow = gout + oy * Wo;
    for (int ki = 0; ki < sp.k; ++ki) {
      const int64_t iy = oy * s - sp.p + ki * sp.d;
      if (iy < 0 || iy >= H) continue;
      const T* __restrict irow = in + iy * W;
      T* __restrict girow = gin + iy * W;
      for (int kj = 0; kj < sp.k; ++kj) {
        const int64_t off = kj * sp.d - sp.p;
        int64_t lo, hi;
        col_range(off, s, W, Wo, lo, hi);
        const T wv = w[ki * sp.k + kj];
        T a = T(0);
        if (s == 1) {
          const T* __restrict src = irow + off;
          T* __restrict dst = girow + off;
#pragma omp simd reduction(+ : a)
          for (int64_t ox = lo; ox < hi; ++ox) {
            a += grow[ox] * src[ox];
            dst[ox] += wv * grow[ox];
          }
        } else {
          for (int64_t ox = lo; ox < hi; ++ox) {
            a += grow[ox] * irow[ox * s + off];
            girow[ox * s + off] += wv * grow[ox];
          }
        }
        acc[ki * sp.k + kj] += static_cast<double>(a);
      }
    }
  }
}

template <typename T>
inline void pool_window(int64_t o, int64_t s, int64_t n, int64_t& a, int64_t& b) {
  a = std::max<int64_t>(o * s - 1, 0);
  b = std::min<int64_t>(o * s + 2, n);
}

// max_pool_3x3 (padding 1, stride s) and avg_pool_3x3 (count_include_pad=False) of one plane.
template <typename T>
void pools_plane_fwd(const T* __restrict x, int64_t H, int64_t W, int64_t s, int64_t Ho,
                     int64_t Wo, T* __restrict maxp, T* __restrict avgp) {
  for (int64_t oy = 0; oy < Ho; ++oy) {
    int64_t y0, y1;
    pool_window<T>(oy, s, H, y0, y1);
    for (int64_t ox = 0; ox < Wo; ++ox) {
      int64_t x0, x1;
      pool_window<T>(ox, s, W, x0, x1);
      T m = -std::numeric_limits<T>::infinity();
      T sum = T(0);
      for (int64_t iy = y0; iy < y1; ++iy) {
        for (int64_t ix = x0; ix < x1; ++ix) {
          const T v = x[iy * W + ix];
          if (v > m || std::isnan(v)) m = v;
          sum += v;
        }
      }
      if (maxp) maxp[oy * Wo + ox] = m;
      if (avgp) avgp[oy * Wo + ox] = sum / static_cast<T>((y1 - y0) * (x1 - x0));
    }
  }
}

template <typename T>
void pools_plane_bwd(const T* __restrict x, int64_t H, int64_t W, int64_t s, int64_t Ho,
                     int64_t Wo, const T* __restrict gmax, const T* __restrict gavg,
                     T* __restrict gx) {
  for (int64_t oy = 0; oy < Ho; ++oy) {
    int64_t y0, y1;
    pool_window<T>(oy, s, H, y0, y1);
    for (int64_t ox = 0; ox < Wo; ++ox) {
      int64_t x0, x1;
      pool_window<T>(ox, s, W, x0, x1);
      if (gmax) {
        T m = -std::numeric_limits<T>::infinity();
        int64_t arg = y0 * W + x0;
        for (int64_t iy = y0; iy < y1; ++iy) {
          for (int64_t ix = x0; ix < x1; ++ix) {
            const T v = x[iy * W + ix];
            if (v > m || std::isnan(v)) {
              m = v;
              arg = iy * W + ix;
            }
          }
        }
        gx[arg] += gmax[oy * Wo + ox];
      }
      if (gavg) {
        const T g = gavg[oy * Wo + ox] / static_cast<T>((y1 - y0) * (x1 - x0));
        for (int64_t iy = y0; iy < y1; ++iy)
          for (int64_t ix = x0; ix < x1; ++ix) gx[iy * W + ix] += g;
      }
    }
  }
}

}  // namespace

template <typename T>
void stage1_forward(const T* x, const Dims& d, const T* const* dw_w, T* const* dw_out, T* maxp,
                    T* avgp, T* fr0, T* fr1) {
  const int64_t HW = d.H * d.W, HWo = d.Ho * d.Wo;
  at::parallel_for(0, d.N * d.C, 1, [&](int64_t begin, int64_t end) {
    std::vector<T> r(HW);
    for (int64_t pl = begin; pl < end; ++pl) {
      const int64_t c = pl % d.C;
      const T* xp = x + pl * HW;
#pragma omp simd
      for (int64_t i = 0; i < HW; ++i) r[i] = xp[i] > T(0) ? xp[i] : T(0);
      for (int b = 0; b < 4; ++b) {
        if (!dw_out[b]) continue;
        const DwSpec sp = kStage1[b];
        dw_plane_fwd(r.data(), d.H, d.W, dw_w[b] + c * sp.k * sp.k, sp, d.s, dw_out[b] + pl * HWo,
                     d.Ho, d.Wo);
      }
      if (maxp || avgp)
        pools_plane_fwd(xp, d.H, d.W, d.s, d.Ho, d.Wo, maxp ? maxp + pl * HWo : nullptr,
                        avgp ? avgp + pl * HWo : nullptr);
      if (fr0) {
        for (int64_t oy = 0; oy < d.Ho; ++oy)
          for (int64_t ox = 0; ox < d.Wo; ++ox) {
            fr0[pl * HWo + oy * d.Wo + ox] = r[(2 * oy) * d.W + 2 * ox];
            fr1[pl * HWo + oy * d.Wo + ox] = r[(2 * oy + 1) * d.W + 2 * ox + 1];
          }
      }
    }
  });
}

template <typename T>
void bn_stats(const T* z, int64_t N, int64_t C, int64_t HW, double eps, T* mean, T* invstd,
              T* var_unbiased) {
  const double M = static_cast<double>(N * HW);
  at::parallel_for(0, C, 1, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      double sum = 0;
      for (int64_t n = 0; n < N; ++n) {
        const T* p = z + (n * C + c) * HW;
        double a = 0;
#pragma omp simd reduction(+ : a)
        for (int64_t i = 0; i < HW; ++i) a += static_cast<double>(p[i]);
        sum += a;
      }
      const double m = sum / M;
      double vs = 0;
      for (int64_t n = 0; n < N; ++n) {
        const T* p = z + (n * C + c) * HW;
        double a = 0;
#pragma omp simd reduction(+ : a)
        for (int64_t i = 0; i < HW; ++i) {
          const double t = static_cast<double>(p[i]) - m;
          a += t * t;
        }
        vs += a;
      }
      mean[c] = static_cast<T>(m);
      invstd[c] = static_cast<T>(1.0 / std::sqrt(vs / M + eps));
      var_unbiased[c] = static_cast<T>(M > 1 ? vs / (M - 1) : std::numeric_limits<double>::quiet_NaN());
    }
  });
}

template <typename T>
void bn_relu_dw_forward(const T* z, const T* mean, const T* invstd, int64_t N, int64_t C,
                        int64_t H, int64_t W, const T* w, DwSpec spec, T* out) {
  const int64_t HW = H * W;
  at::parallel_for(0, N * C, 1, [&](int64_t begin, int64_t end) {
    std::vector<T> a(HW);
    for (int64_t pl = begin; pl < end; ++pl) {
      const int64_t c = pl % C;
      const T m = mean[c], is = invstd[c];
      const T* zp = z + pl * HW;
#pragma omp simd
      for (int64_t i = 0; i < HW; ++i) {
        const T y = (zp[i] - m) * is;
        a[i] = y > T(0) ? y : T(0);
      }
      dw_plane_fwd(a.data(), H, W, w + c * spec.k * spec.k, spec, 1, out + pl * HW, H, W);
    }
  });
}

template <typename T>
void mix_forward(const T* const* z, const T* const* mean, const T* const* invstd, const T* wk,
                 int K, int64_t N, int64_t C, int64_t HW, T* out) {
  at::parallel_for(0, N * C, 1, [&](int64_t begin, int64_t end) {
    for (int64_t pl = begin; pl < end; ++pl) {
      const int64_t c = pl % C;
      T* o = out + pl * HW;
      for (int64_t i = 0; i < HW; ++i) o[i] = T(0);
      for (int k = 0; k < K; ++k) {
        const T* zp = z[k] + pl * HW;
        const T w = wk[k];
        if (mean[k]) {
          const T m = mean[k][c], is = invstd[k][c];
#pragma omp simd
          for (int64_t i = 0; i < HW; ++i) o[i] += w * ((zp[i] - m) * is);
        } else {
#pragma omp simd
          for (int64_t i = 0; i < HW; ++i) o[i] += w * zp[i];
        }
      }
    }
  });
}

template <typename T>
void bn_backward(const T* g, const T* z, const T* mean, const T* invstd, T scale, bool relu_mask,
                 bool training, int64_t N, int64_t C, int64_t HW, T* dz, double* sum_gy) {
  const double M = static_cast<double>(N * HW);
  at::parallel_for(0, C, 1, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      const T m = mean[c], is = invstd[c];
      double sg = 0, sgy = 0;
      if (training || sum_gy) {
        for (int64_t n = 0; n < N; ++n) {
          const T* gp = g + (n * C + c) * HW;
          const T* zp = z + (n * C + c) * HW;
          double a = 0, b = 0;
#pragma omp simd reduction(+ : a, b)
          for (int64_t i = 0; i < HW; ++i) {
            const T y = (zp[i] - m) * is;
            const T gg = (!relu_mask || y > T(0)) ? gp[i] : T(0);
            a += static_cast<double>(gg);
            b += static_cast<double>(gg) * static_cast<double>(y);
          }
          sg += a;
          sgy += b;
        }
      }
      if (sum_gy) sum_gy[c] = sgy;
      if (!dz) continue;
      const T k = scale * is;
      const T mg = training ? static_cast<T>(sg / M) : T(0);
      const T mgy = training ? static_cast<T>(sgy / M) : T(0);
      for (int64_t n = 0; n < N; ++n) {
        const T* gp = g + (n * C + c) * HW;
        const T* zp = z + (n * C + c) * HW;
        T* dp = dz + (n * C + c) * HW;
#pragma omp simd
        for (int64_t i = 0; i < HW; ++i) {
          const T y = (zp[i] - m) * is;
          const T gg = (!relu_mask || y > T(0)) ? gp[i] : T(0);
          dp[i] = k * (gg - mg - y * mgy);
        }
      }
    }
  });
}

template <typename T>
void bn_relu_dw_backward(const T* gout, const T* z, const T* mean, const T* invstd, int64_t N,
                         int64_t C, int64_t H, int64_t W, const T* w, DwSpec spec, T* ga, T* dw) {
  const int64_t HW = H * W, kk = spec.k * spec.k;
  at::parallel_for(0, C, 1, [&](int64_t begin, int64_t end) {
    std::vector<T> a(HW);
    std::vector<double> acc(kk);
    for (int64_t c = begin; c < end; ++c) {
      const T m = mean[c], is = invstd[c];
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t n = 0; n < N; ++n) {
        const int64_t pl = n * C + c;
        const T* zp = z + pl * HW;
#pragma omp simd
        for (int64_t i = 0; i < HW; ++i) {
          const T y = (zp[i] - m) * is;
          a[i] = y > T(0) ? y : T(0);
        }
        T* gp = ga + pl * HW;
        for (int64_t i = 0; i < HW; ++i) gp[i] = T(0);
        dw_plane_bwd(gout + pl * HW, a.data(), H, W, w + c * kk, spec, 1, H, W, gp, acc.data());
      }
      for (int64_t t = 0; t < kk; ++t) dw[c * kk + t] = static_cast<T>(acc[t]);
    }
  });
}

template <typename T>
void stage1_backward(const T* x, const Dims& d, const T* const* dw_w, const T* const* g_dw,
                     const T* g_max, const T* g_avg, const T* g_fr0, const T* g_fr1,
                     const T* g_skip, T skip_w, T* gx, T* const* dw_grad) {
  const int64_t HW = d.H * d.W, HWo = d.Ho * d.Wo;
  at::parallel_for(0, d.C, 1, [&](int64_t begin, int64_t end) {
    std::vector<T> r(HW), gr(HW);
    std::vector<double> acc[4];
    for (int b = 0; b < 4; ++b) acc[b].resize(kStage1[b].k * kStage1[b].k);
    for (int64_t c = begin; c < end; ++c) {
      for (auto& a : acc) std::fill(a.begin(), a.end(), 0.0);
      for (int64_t n = 0; n < d.N; ++n) {
        const int64_t pl = n * d.C + c;
        const T* xp = x + pl * HW;
#pragma omp simd
        for (int64_t i = 0; i < HW; ++i) r[i] = xp[i] > T(0) ? xp[i] : T(0);
        std::fill(gr.begin(), gr.end(), T(0));
        for (int b = 0; b < 4; ++b) {
          if (!g_dw[b]) continue;
          const DwSpec sp = kStage1[b];
          dw_plane_bwd(g_dw[b] + pl * HWo, r.data(), d.H, d.W, dw_w[b] + c * sp.k * sp.k, sp, d.s,
                       d.Ho, d.Wo, gr.data(), acc[b].data());
        }
        if (g_fr0) {
          for (int64_t oy = 0; oy < d.Ho; ++oy)
            for (int64_t ox = 0; ox < d.Wo; ++ox) {
              gr[(2 * oy) * d.W + 2 * ox] += g_fr0[pl * HWo + oy * d.Wo + ox];
              gr[(2 * oy + 1) * d.W + 2 * ox + 1] += g_fr1[pl * HWo + oy * d.Wo + ox];
            }
        }
        T* gp = gx + pl * HW;
#pragma omp simd
        for (int64_t i = 0; i < HW; ++i) gp[i] = xp[i] > T(0) ? gr[i] : T(0);
        if (g_max || g_avg)
          pools_plane_bwd(xp, d.H, d.W, d.s, d.Ho, d.Wo, g_max ? g_max + pl * HWo : nullptr,
                          g_avg ? g_avg + pl * HWo : nullptr, gp);
        if (g_skip) {
          const T* sp = g_skip + pl * HW;
#pragma omp simd
          for (int64_t i = 0; i < HW; ++i) gp[i] += skip_w * sp[i];
        }
      }
      for (int b = 0; b < 4; ++b) {
        if (!g_dw[b]) continue;
        const int64_t kk = kStage1[b].k * kStage1[b].k;
        for (int64_t t = 0; t < kk; ++t) dw_grad[b][c * kk + t] = static_cast<T>(acc[b][t]);
      }
    }
  });
}

template <typename T>
void pointwise(const T* w, int64_t ws_co, int64_t ws_ci, const T* in, int64_t in_bstride,
               int64_t N, int64_t Co, int64_t Ci, int64_t P, T* out, int64_t out_bstride) {
  constexpr int64_t kTile = 256;
  constexpr int kRows = 4;
  const int64_t tiles = (P + kTile - 1) / kTile;
  at::parallel_for(0, N * tiles, 1, [&](int64_t begin, int64_t end) {
    alignas(64) T acc[kRows][kTile];
    for (int64_t task = begin; task < end; ++task) {
      const int64_t n = task / tiles, p0 = (task % tiles) * kTile;
      const int64_t len = std::min(kTile, P - p0);
      const T* ip = in + n * in_bstride + p0;
      T* op = out + n * out_bstride + p0;
      for (int64_t co = 0; co < Co; co += kRows) {
        const int rows = static_cast<int>(std::min<int64_t>(kRows, Co - co));
        for (int r = 0; r < kRows; ++r)
          for (int64_t i = 0; i < len; ++i) acc[r][i] = T(0);
        for (int64_t ci = 0; ci < Ci; ++ci) {
          const T* src = ip + ci * P;
          T wr[kRows];
          for (int r = 0; r < kRows; ++r) wr[r] = r < rows ? w[(co + r) * ws_co + ci * ws_ci] : T(0);
#pragma omp simd
          for (int64_t i = 0; i < len; ++i) {
            const T v = src[i];
            acc[0][i] += wr[0] * v;
            acc[1][i] += wr[1] * v;
            acc[2][i] += wr[2] * v;
            acc[3][i] += wr[3] * v;
          }
        }
        for (int r = 0; r < rows; ++r) {
          T* dst = op + (co + r) * P;
          for (int64_t i = 0; i < len; ++i) dst[i] = acc[r][i];
        }
      }
    }
  });
}

template <typename T>
void pointwise_grad_w(const T* dz, int64_t dz_bstride, const T* in, int64_t in_bstride,
                      int64_t N, int64_t Co, int64_t Ci, int64_t P, T* dw) {
  at::parallel_for(0, Co, 1, [&](int64_t begin, int64_t end) {
    std::vector<double> acc(Ci);
    for (int64_t co = begin; co < end; ++co) {
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t n = 0; n < N; ++n) {
        const T* g = dz + n * dz_bstride + co * P;
        for (int64_t ci = 0; ci < Ci; ++ci) {
          const T* src = in + n * in_bstride + ci * P;
          T a = T(0);
#pragma omp simd reduction(+ : a)
          for (int64_t i = 0; i < P; ++i) a += g[i] * src[i];
          acc[ci] += static_cast<double>(a);
        }
      }
      for (int64_t ci = 0; ci < Ci; ++ci) dw[co * Ci + ci] = static_cast<T>(acc[ci]);
    }
  });
}

template <typename T>
double dot(const T* a, const T* b, int64_t n) {
  constexpr int64_t kBlock = 4096;
  const int64_t nb = (n + kBlock - 1) / kBlock;
  std::vector<double> part(nb, 0.0);
  at::parallel_for(0, nb, 1, [&](int64_t begin, int64_t end) {
    for (int64_t blk = begin; blk < end; ++blk) {
      const int64_t i0 = blk * kBlock, i1 = std::min(n, i0 + kBlock);
      double s = 0;
#pragma omp simd reduction(+ : s)
      for (int64_t i = i0; i < i1; ++i) s += static_cast<double>(a[i]) * static_cast<double>(b[i]);
      part[blk] = s;
    }
  });
  double s = 0;
  for (double p : part) s += p;
  return s;
}

#define NASFAST_DARTS_EDGE_INSTANTIATE(T)                                                         \
  template void stage1_forward<T>(const T*, const Dims&, const T* const*, T* const*, T*, T*, T*, \
                                  T*);                                                            \
  template void bn_stats<T>(const T*, int64_t, int64_t, int64_t, double, T*, T*, T*);             \
  template void bn_relu_dw_forward<T>(const T*, const T*, const T*, int64_t, int64_t, int64_t,    \
                                      int64_t, const T*, DwSpec, T*);                             \
  template void mix_forward<T>(const T* const*, const T* const*, const T* const*, const T*, int,  \
                               int64_t, int64_t, int64_t, T*);                                    \
  template void bn_backward<T>(const T*, const T*, const T*, const T*, T, bool, bool, int64_t,    \
                               int64_t, int64_t, T*, double*);                                    \
  template void bn_relu_dw_backward<T>(const T*, const T*, const T*, const T*, int64_t, int64_t,  \
                                       int64_t, int64_t, const T*, DwSpec, T*, T*);               \
  template void stage1_backward<T>(const T*, const Dims&, const T* const*, const T* const*,       \
                                   const T*, const T*, const T*, const T*, const T*, T, T*,       \
                                   T* const*);                                                    \
  template double dot<T>(const T*, const T*, int64_t);                                            \
  template void pointwise<T>(const T*, int64_t, int64_t, const T*, int64_t, int64_t, int64_t,     \
                             int64_t, int64_t, T*, int64_t);                                      \
  template void pointwise_grad_w<T>(const T*, int64_t, const T*, int64_t, int64_t, int64_t,       \
                                    int64_t, int64_t, T*);

NASFAST_DARTS_EDGE_INSTANTIATE(float)
NASFAST_DARTS_EDGE_INSTANTIATE(double)

}  // namespace nasfast::darts_edge::cpu

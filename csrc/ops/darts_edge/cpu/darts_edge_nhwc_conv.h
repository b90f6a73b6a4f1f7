#pragma once
// Channels-last kernels of the fused DARTS edge, internals: depthwise convs, their weight
// gradients and the stride-2 input-gradient scatter (see darts_edge_nhwc_planes.h).
#include <algorithm>
#include <cstdint>
#include <vector>

#include "common/cpu_capability.h"
#include "ops/darts_edge/cpu/darts_edge_nhwc_planes.h"

NASFAST_CPU_CAPABILITY_BEGIN
namespace nasfast::darts_edge::cpu::nhwc::NASFAST_CPU_CAPABILITY {

// Element offsets of the taps of a depthwise conv in a plane of row pitch wp pixels and pixel
// pitch g, row-major.
inline void tap_offsets(DwSpec sp, int64_t wp, int64_t g, int64_t* off) {
  for (int ki = 0; ki < sp.k; ++ki)
    for (int kj = 0; kj < sp.k; ++kj)
      off[ki * sp.k + kj] = ((ki * sp.d - sp.p) * wp + (kj * sp.d - sp.p)) * g;
}

// PX consecutive output pixels x one vector of channels of a depthwise conv with kernel K,
// dilation D, stride S: `in` is the input pixel under tap (0, 0) of the first output (rows rp
// elements apart, pixels gp apart), w[(ki * K + kj) * wst] the tap weights. Each input vector of
// a kernel row is loaded once and feeds every (output, tap) pair that reads it; per output the
// taps are summed in row-major order.
template <typename T, int K, int D, int S, int PX, typename Gp>
__attribute__((always_inline)) inline void dw_block(const T* in, int64_t rp, Gp gp, const T* w,
                                                    int64_t wst, T* out, int64_t ost, bool acc) {
  constexpr int NJ = S * (PX - 1) + (K - 1) * D + 1;  // input columns of one kernel row
  Vec<T> a[PX];
#pragma GCC unroll 8
  for (int p = 0; p < PX; ++p) a[p] = Vec<T>{};
  for (int ki = 0; ki < K; ++ki) {
    const T* row = in + ki * D * rp;
    Vec<T> wv[K];
#pragma GCC unroll 5
    for (int kj = 0; kj < K; ++kj) wv[kj] = load(w + (ki * K + kj) * wst);
#pragma GCC unroll 32
    for (int j = 0; j < NJ; ++j) {
      const Vec<T> v = load(row + j * gp);
#pragma GCC unroll 5
      for (int kj = 0; kj < K; ++kj) {
        const int q = j - kj * D;
        if (q >= 0 && q % S == 0 && q / S < PX) a[q / S] += wv[kj] * v;
      }
    }
  }
#pragma GCC unroll 8
  for (int p = 0; p < PX; ++p) {
    T* o = out + p * ost;
    store(o, acc ? load(o) + a[p] : a[p], kLanes<T>);
  }
}

// Gp is int64_t or std::integral_constant (see dw_conv): a compile-time pixel pitch makes the
// block's input loads constant displacements.
template <typename T, int K, int D, int S, typename Gp>
void dw_conv_kds(const T* in, int64_t rp, Gp gp, const T* w, int64_t wst, int64_t G, T* out,
                 int64_t orow, int64_t ost, int64_t Ho, int64_t Wo, bool acc) {
  constexpr int L = kLanes<T>;
  constexpr int64_t pad = (K - 1) * D / 2;
  for (int64_t oy = 0; oy < Ho; ++oy) {
    const T* ir = in + (oy * S - pad) * rp - pad * gp;
    T* outr = out + oy * orow;
    int64_t ox = 0;
    for (; ox + 8 <= Wo; ox += 8)
      for (int64_t c = 0; c < G; c += L)
        dw_block<T, K, D, S, 8>(ir + ox * S * gp + c, rp, gp, w + c, wst, outr + ox * ost + c, ost,
                                acc);
    for (; ox + 4 <= Wo; ox += 4)
      for (int64_t c = 0; c < G; c += L)
        dw_block<T, K, D, S, 4>(ir + ox * S * gp + c, rp, gp, w + c, wst, outr + ox * ost + c, ost,
                                acc);
    for (; ox < Wo; ++ox)
      for (int64_t c = 0; c < G; c += L)
        dw_block<T, K, D, S, 1>(ir + ox * S * gp + c, rp, gp, w + c, wst, outr + ox * ost + c, ost,
                                acc);
  }
}

template <int V>
using IntC = std::integral_constant<int, V>;

// Calls f(K, D, S, gp) with the kernel size, dilation and stride of the conv sp at stride s as
// std::integral_constant, and the pixel pitch gp as one too for 32- and 16-channel groups (else
// as int64_t): the kernels instantiated for each first- and second-stage conv.
template <typename F>
void with_kds(DwSpec sp, int64_t s, int64_t gp, const F& f) {
  auto run = [&](auto gp_c) {
    switch (sp.k * 100 + sp.d * 10 + static_cast<int>(s)) {
      case 311: return f(IntC<3>{}, IntC<1>{}, IntC<1>{}, gp_c);
      case 511: return f(IntC<5>{}, IntC<1>{}, IntC<1>{}, gp_c);
      case 321: return f(IntC<3>{}, IntC<2>{}, IntC<1>{}, gp_c);
      case 521: return f(IntC<5>{}, IntC<2>{}, IntC<1>{}, gp_c);
      case 312: return f(IntC<3>{}, IntC<1>{}, IntC<2>{}, gp_c);
      case 512: return f(IntC<5>{}, IntC<1>{}, IntC<2>{}, gp_c);
      case 322: return f(IntC<3>{}, IntC<2>{}, IntC<2>{}, gp_c);
      default: return f(IntC<5>{}, IntC<2>{}, IntC<2>{}, gp_c);  // (5, 2, 2)
    }
  };
  if (gp == 32) return run(std::integral_constant<int64_t, 32>{});
  if (gp == 16) return run(std::integral_constant<int64_t, 16>{});
  run(gp);
}

// Depthwise conv (spec sp, stride s; padding (k - 1) * d / 2) of the padded plane whose pixel
// (0, 0) is `in` (rows rp elements apart, pixels gp apart) over G channels: output (oy, ox)
// (rows orow apart, pixels ost apart) (=, or += with acc) sum_t w[t * wst + c] * input. The
// gradient of a stride-1 conv w.r.t. its input is this conv with the taps reversed
// (taps_major(..., flip=true)). The pitch of 32- and 16-channel groups (kGroup; C = 16) is a
// compile-time constant.
template <typename T>
void dw_conv(const T* in, int64_t rp, int64_t gp, DwSpec sp, int64_t s, const T* w, int64_t wst,
             int64_t G, T* out, int64_t orow, int64_t ost, int64_t Ho, int64_t Wo, bool acc) {
  with_kds(sp, s, gp, [&](auto k, auto d, auto st, auto gp_c) {
    dw_conv_kds<T, decltype(k)::value, decltype(d)::value, decltype(st)::value>(
        in, rp, gp_c, w, wst, G, out, orow, ost, Ho, Wo, acc);
  });
}

// a[t] += sum_p g[p * gst] * in[(p * S + t * D) * gp] for the K taps t of one kernel row and
// the PX consecutive output pixels p of one row (one vector of channels), even p into a, odd p
// into b (two independent FMA chains per tap): the PX output gradients stay in registers and
// each input vector of the row is loaded once, for every (pixel, tap) pair that reads it.
template <typename T, int K, int D, int S, int PX, typename Gp>
__attribute__((always_inline)) inline void wgrad_block(const T* g, int64_t gst, const T* in, Gp gp,
                                                       Vec<T>* a, Vec<T>* b) {
  constexpr int NJ = S * (PX - 1) + (K - 1) * D + 1;  // input columns of one kernel row
  Vec<T> gv[PX];
#pragma GCC unroll 8
  for (int p = 0; p < PX; ++p) gv[p] = load(g + p * gst);
#pragma GCC unroll 32
  for (int j = 0; j < NJ; ++j) {
    const Vec<T> v = load(in + j * gp);
#pragma GCC unroll 5
    for (int t = 0; t < K; ++t) {
      const int q = j - t * D;
      if (q >= 0 && q % S == 0 && q / S < PX) (q / S % 2 ? b : a)[t] += gv[q / S] * v;
    }
  }
}

// Depthwise weight gradient of one plane (kernel K, dilation D, stride S) over G channels:
// acc[t * ast + c] = sum_{oy, ox} g[(oy * Wo + ox) * gst + c] * in[oy * rstep + ox * S * gp +
// off[t] + c] (gp the input's pixel pitch, off the tap offsets of tap_offsets). Per vector of
// channels, by strips of output rows (one row of a wide plane, a few of a narrow one), and
// within a strip kernel row by kernel row: the strip's output gradients and the input rows it
// reads stay in L1 (one kernel row at a time over the whole plane read both from L2 K times).
// Even and odd output columns sum into separate accumulators (two independent FMA chains per tap
// in every block of pixels, each in pixel order), kept in registers along a strip and in a small
// stack array between strips; added at the end. Gp as in dw_conv_kds.
template <typename T, int K, int D, int S, typename Gp>
void wgrad_plane_kds(const T* g, int64_t gst, const T* in, int64_t rstep, Gp gp, const int64_t* off,
                     int64_t Ho, int64_t Wo, T* acc, int64_t ast, int64_t G) {
  constexpr int L = kLanes<T>;
  constexpr int PX = K <= 3 ? 8 : 4;  // 2K accumulators + PX output gradients in 16 registers
  // output rows per strip: ~32 pixels, so that narrow planes (8x8) do not reload and store the
  // accumulators every few blocks
  const int64_t rows = std::max<int64_t>(1, 32 / std::max<int64_t>(Wo, 1));
  Vec<T> s0[K * K], s1[K * K];
  for (int64_t c = 0; c < G; c += L) {
#pragma GCC unroll 25
    for (int t = 0; t < K * K; ++t) s0[t] = s1[t] = Vec<T>{};
    for (int64_t y0 = 0; y0 < Ho; y0 += rows) {
      const int64_t y1 = std::min(Ho, y0 + rows);
      for (int ki = 0; ki < K; ++ki) {
        Vec<T> a0[K], a1[K];
#pragma GCC unroll 5
        for (int t = 0; t < K; ++t) {
          a0[t] = s0[ki * K + t];
          a1[t] = s1[ki * K + t];
        }
        for (int64_t oy = y0; oy < y1; ++oy) {
          const T* gr = g + oy * Wo * gst + c;
          const T* ir = in + oy * rstep + off[ki * K] + c;
          int64_t ox = 0;  // even at every block start: a block's even pixels are even columns
          for (; ox + PX <= Wo; ox += PX)
            wgrad_block<T, K, D, S, PX>(gr + ox * gst, gst, ir + ox * S * gp, gp, a0, a1);
          for (; ox + 2 <= Wo; ox += 2)
            wgrad_block<T, K, D, S, 2>(gr + ox * gst, gst, ir + ox * S * gp, gp, a0, a1);
          if (ox < Wo) wgrad_block<T, K, D, S, 1>(gr + ox * gst, gst, ir + ox * S * gp, gp, a0, a1);
        }
#pragma GCC unroll 5
        for (int t = 0; t < K; ++t) {
          s0[ki * K + t] = a0[t];
          s1[ki * K + t] = a1[t];
        }
      }
    }
#pragma GCC unroll 25
    for (int t = 0; t < K * K; ++t) store(acc + t * ast + c, s0[t] + s1[t], L);
  }
}

// wgrad_plane_kds for the conv sp at stride s; the input's pixel pitch is gp (its rows rstep
// elements apart per output row), a compile-time constant for 32- and 16-channel groups.
template <typename T>
void wgrad_plane(const T* g, int64_t gst, const T* in, int64_t rstep, int64_t gp,
                 const int64_t* off, DwSpec sp, int64_t s, int64_t Ho, int64_t Wo, T* acc,
                 int64_t ast, int64_t G) {
  with_kds(sp, s, gp, [&](auto k, auto d, auto st, auto gp_c) {
    wgrad_plane_kds<T, decltype(k)::value, decltype(d)::value, decltype(st)::value>(
        g, gst, in, rstep, gp_c, off, Ho, Wo, acc, ast, G);
  });
}

// w [C, k*k] as [k*k, C], so a tap's weights over channels are one vector load; flip reverses
// the taps (the kernel rotated by 180 degrees).
template <typename T>
std::vector<T> taps_major(const T* w, int64_t C, int kk, bool flip = false) {
  std::vector<T> t(kk * C);
  for (int64_t c = 0; c < C; ++c)
    for (int i = 0; i < kk; ++i) t[i * C + c] = w[c * kk + (flip ? kk - 1 - i : i)];
  return t;
}

// dw[c * kk + t] = sum_n part[(n * kk + t) * C + c], summed over n in order (double); tasks are
// (tap, block of 64 channels), whose rows of part are read contiguously.
template <typename T>
void reduce_wgrad(const T* part, int64_t N, int64_t C, int kk, T* dw) {
  constexpr int64_t B = 64;
  const int64_t nb = (C + B - 1) / B;
  at::parallel_for(0, kk * nb, 1, [&](int64_t begin, int64_t end) {
    double s[B];
    for (int64_t task = begin; task < end; ++task) {
      const int64_t t = task / nb, c0 = task % nb * B, len = std::min(B, C - c0);
      for (int64_t c = 0; c < len; ++c) s[c] = 0;
      for (int64_t n = 0; n < N; ++n) {
        const T* p = part + (n * kk + t) * C + c0;
        for (int64_t c = 0; c < len; ++c) s[c] += static_cast<double>(p[c]);
      }
      for (int64_t c = 0; c < len; ++c) dw[(c0 + c) * kk + t] = static_cast<T>(s[c]);
    }
  });
}

// Depthwise input gradient of a stride-2 conv, as a scatter: out.at(2 oy, 2 ox)[off[t] + c] +=
// w[t * wst + c] * g[(oy * Wo + ox) * gst + c]. Taps past the image land in the border.
template <typename T>
void scatter_s2(const T* g, int64_t gst, int64_t Ho, int64_t Wo, const int64_t* off, int nt,
                const T* w, int64_t wst, int64_t G, PadPlane<T>& out) {
  constexpr int L = kLanes<T>;
  for (int64_t oy = 0; oy < Ho; ++oy)
    for (int64_t ox = 0; ox < Wo; ++ox) {
      const T* gp = g + (oy * Wo + ox) * gst;
      T* base = out.at(2 * oy, 2 * ox);
      for (int64_t c = 0; c < G; c += L) {
        const Vec<T> gv = load(gp + c);
        for (int t = 0; t < nt; ++t) {
          T* p = base + off[t] + c;
          store(p, load(p) + load(w + t * wst + c) * gv, L);
        }
      }
    }
}

}  // namespace nasfast::darts_edge::cpu::nhwc::NASFAST_CPU_CAPABILITY
NASFAST_CPU_CAPABILITY_END

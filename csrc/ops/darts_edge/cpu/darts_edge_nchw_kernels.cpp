// The NCHW kernels of the fused DARTS edge (contracts in darts_edge_nchw.h), compiled once per
// ISA into namespace nchw::NASFAST_CPU_CAPABILITY (common/cpu_capability.h); each copy exports
// its kernel_table.
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "common/cpu_capability.h"
#include "ops/darts_edge/cpu/darts_edge_nchw.h"
#include "ops/darts_edge/cpu/darts_edge_simd.h"

NASFAST_CPU_CAPABILITY_BEGIN
namespace nasfast::darts_edge::cpu::nchw::NASFAST_CPU_CAPABILITY {

using namespace cpu::NASFAST_CPU_CAPABILITY;  // Vec, load, store (darts_edge_simd.h)

constexpr int kPad = 4;     // the largest padding of any conv/pool here (dil_conv_5x5)
constexpr int kBlock = 16;  // output columns per register block

// A plane stored with a border of kPad on each side plus 3 * kBlock spare columns, so every
// conv/pool tap of a register block reads inside the buffer without bounds checks.
template <typename T>
struct Padded {
  int64_t H, W, pitch;
  std::vector<T> buf;
  Padded(int64_t h, int64_t w, T fill)
      : H(h), W(w), pitch(w + 2 * kPad + 3 * kBlock), buf((h + 2 * kPad) * pitch, fill) {}
  T* at(int64_t iy, int64_t ix) { return buf.data() + (iy + kPad) * pitch + ix + kPad; }
  const T* at(int64_t iy, int64_t ix) const { return buf.data() + (iy + kPad) * pitch + ix + kPad; }
  T* row(int64_t iy) { return at(iy, 0); }
};

// dst[0, n) = src[0, n), reading and writing nothing else. Rows are short (W elements): a copy
// loop or std::copy here became a memmove call per row, which cost more than the copy.
template <typename T>
__attribute__((always_inline)) inline void copy_row(const T* __restrict src, int64_t n,
                                                    T* __restrict dst) {
  constexpr int L = kLanes<T>;
  int64_t k = 0;
  for (; k + L <= n; k += L) store(dst + k, load(src + k), L);
  if (k < n) store(dst + k, load_n(src + k, n - k), n - k);
}

// dst[0, n) = src[0, n) in whole vectors, then dst[n, n + kLanes) = fill: src must be readable
// and dst writable to the next multiple of kLanes past n (and to n + kLanes).
template <typename T>
__attribute__((always_inline)) inline void copy_row_fill(const T* __restrict src, int64_t n,
                                                         T* __restrict dst, T fill) {
  constexpr int L = kLanes<T>;
  for (int64_t k = 0; k < n; k += L) store(dst + k, load(src + k), L);
  store(dst + n, Vec<T>{} + fill, L);
}

// Lane shuffles between two vectors a, b (lanes of b numbered from kLanes): interleave makes
// (a0 b0 a1 b1 ...) from the low halves (lo) and the high halves (hi); deinterleave is its
// inverse (even lanes, odd lanes of the pair (a, b)).
template <typename T>
struct Shuffle;
template <>
struct Shuffle<float> {
  typedef int32_t mask __attribute__((vector_size(32)));
  static constexpr mask lo{0, 8, 1, 9, 2, 10, 3, 11}, hi{4, 12, 5, 13, 6, 14, 7, 15};
  static constexpr mask even{0, 2, 4, 6, 8, 10, 12, 14}, odd{1, 3, 5, 7, 9, 11, 13, 15};
};
template <>
struct Shuffle<double> {
  typedef int64_t mask __attribute__((vector_size(32)));
  static constexpr mask lo{0, 4, 1, 5}, hi{2, 6, 3, 7};
  static constexpr mask even{0, 2, 4, 6}, odd{1, 3, 5, 7};
};
// p[0 .. 2L) = a0 b0 a1 b1 ...
template <typename T>
__attribute__((always_inline)) inline void load_pairs(const T* p, Vec<T>& even, Vec<T>& odd) {
  const Vec<T> a = load(p), b = load(p + kLanes<T>);
  even = __builtin_shuffle(a, b, Shuffle<T>::even);
  odd = __builtin_shuffle(a, b, Shuffle<T>::odd);
}
template <typename T>
__attribute__((always_inline)) inline void interleave(const Vec<T>& a, const Vec<T>& b, Vec<T>& lo,
                                                      Vec<T>& hi) {
  lo = __builtin_shuffle(a, b, Shuffle<T>::lo);
  hi = __builtin_shuffle(a, b, Shuffle<T>::hi);
}

template <typename T>
void relu_into(const T* __restrict x, int64_t H, int64_t W, Padded<T>& p) {
  for (int64_t iy = 0; iy < H; ++iy) {
    const T* src = x + iy * W;
    T* dst = p.row(iy);
#pragma omp simd
    for (int64_t ix = 0; ix < W; ++ix) dst[ix] = src[ix] > T(0) ? src[ix] : T(0);
  }
}

template <typename T>
void copy_into(const T* __restrict x, int64_t H, int64_t W, Padded<T>& p) {
  for (int64_t iy = 0; iy < H; ++iy) copy_row(x + iy * W, W, p.row(iy));
}

template <typename T>
void bn_relu_into(const T* __restrict z, T m, T is, int64_t H, int64_t W, Padded<T>& p) {
  for (int64_t iy = 0; iy < H; ++iy) {
    const T* src = z + iy * W;
    T* dst = p.row(iy);
#pragma omp simd
    for (int64_t ix = 0; ix < W; ++ix) {
      const T y = (src[ix] - m) * is;
      dst[ix] = y > T(0) ? y : T(0);
    }
  }
}

// Stores (=, or += when accumulate) the R x NV register block a into rows [oy, oy + R) x
// columns [ox0, ox0 + NV * L) of out[., Wo], clipped at Wo.
template <typename T, int NV, int R>
__attribute__((always_inline)) inline void store_block(const Vec<T> (&a)[R][NV], T* __restrict out,
                                                       int64_t oy, int64_t ox0, int64_t Wo,
                                                       bool accumulate) {
  constexpr int L = kLanes<T>;
  for (int r = 0; r < R; ++r) {
    T* orow = out + (oy + r) * Wo;
    for (int v = 0; v < NV; ++v) {
      const int64_t n = std::min<int64_t>(L, Wo - ox0 - v * L);
      if (n <= 0) break;
      T* dst = orow + ox0 + v * L;
      if (accumulate) {
        if (n == L) {
          store(dst, load(dst) + a[r][v], L);
        } else {
          for (int64_t b = 0; b < n; ++b) dst[b] += a[r][v][b];
        }
      } else {
        store(dst, a[r][v], n);
      }
    }
  }
}

// Rows [oy, oy + R) x columns [ox0, ox0 + NV * L) of dw_fwd_k: R * NV independent FMA chains
// (narrow planes take several rows at once so the FMA latency is hidden).
template <typename T, int K, int NV, int R>
__attribute__((always_inline)) inline void dw_fwd_block(const Padded<T>& in, const T* __restrict w,
                                                        DwSpec sp, T* __restrict out, int64_t oy,
                                                        int64_t ox0, int64_t Wo, bool accumulate) {
  constexpr int L = kLanes<T>;
  Vec<T> a[R][NV];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < NV; ++v) a[r][v] = Vec<T>{};
  for (int ki = 0; ki < K; ++ki) {
    for (int kj = 0; kj < K; ++kj) {
      const T wv = w[ki * K + kj];
      for (int r = 0; r < R; ++r) {
        const T* src = in.at(oy + r - sp.p + ki * sp.d, -sp.p) + ox0 + kj * sp.d;
        for (int v = 0; v < NV; ++v) a[r][v] += wv * load(src + v * L);
      }
    }
  }
  store_block<T, NV, R>(a, out, oy, ox0, Wo, accumulate);
}

// Rows [oy, Ho) in blocks of R rows, then one block of the remaining rows (a short plane still
// gets several independent chains).
template <typename T, int K, int NV, int R>
void dw_fwd_rows(const Padded<T>& in, const T* __restrict w, DwSpec sp, T* __restrict out,
                 int64_t oy, int64_t Ho, int64_t Wo, bool accumulate) {
  constexpr int L = kLanes<T>;
  for (; oy + R <= Ho; oy += R)
    for (int64_t ox0 = 0; ox0 < Wo; ox0 += NV * L)
      dw_fwd_block<T, K, NV, R>(in, w, sp, out, oy, ox0, Wo, accumulate);
  if constexpr (R > 1) dw_fwd_rows<T, K, NV, R - 1>(in, w, sp, out, oy, Ho, Wo, accumulate);
}

// out[H, W] (=, or += when accumulate) = stride-1 depthwise conv of the padded plane with
// w[k*k] (padding sp.p, dilation sp.d; (k - 1) * d == 2 * p for every conv here).
template <typename T, int K>
void dw_fwd_k(const Padded<T>& in, const T* w, DwSpec sp, T* out, int64_t Ho, int64_t Wo,
              bool accumulate) {
  constexpr int L = kLanes<T>;
  if (Wo <= L)
    dw_fwd_rows<T, K, 1, 8>(in, w, sp, out, 0, Ho, Wo, accumulate);
  else if (Wo <= 2 * L)
    dw_fwd_rows<T, K, 2, 4>(in, w, sp, out, 0, Ho, Wo, accumulate);
  else
    dw_fwd_rows<T, K, 4, 1>(in, w, sp, out, 0, Ho, Wo, accumulate);
}

template <typename T>
void dw_fwd(const Padded<T>& in, const T* __restrict w, DwSpec sp, T* __restrict out, int64_t Ho,
            int64_t Wo, bool accumulate) {
  if (sp.k == 3)
    dw_fwd_k<T, 3>(in, w, sp, out, Ho, Wo, accumulate);
  else
    dw_fwd_k<T, 5>(in, w, sp, out, Ho, Wo, accumulate);
}

// ---- Stride 2 ----
// A stride-2 window reads every other column. Splitting a padded plane once into its even and
// odd columns makes every tap a contiguous load, and a correlation becomes a list of taps
// (weight, pointer of output (0, 0)'s input), each output row `rstep` elements further.

inline int64_t floor_half(int64_t v) { return (v - (v & 1)) / 2; }

// A plane's even (e) and odd (o) columns, each (W + 1) / 2 wide, padded like Padded.
template <typename T>
struct Split {
  Padded<T> e, o;
  T fill;
  Split(int64_t h, int64_t w, T f) : e(h, (w + 1) / 2, f), o(h, (w + 1) / 2, f), fill(f) {}
  // row iy, input column 2 * j + off
  const T* at(int64_t iy, int64_t j, int64_t off) const {
    return (off & 1 ? o : e).at(iy, j + floor_half(off));
  }
};

// Splits x[H, W] into the split planes rel (rectified) and raw0, raw1 (as is); null ones are
// skipped, and each plane's padding is left as it was filled. For even W the rows of the even
// (odd) columns are consecutive in the flat plane, so the split runs once over the whole plane
// into `tmp`, and the rows are then copied into place in whole vectors.
template <typename T>
void split_into(const T* __restrict x, int64_t H, int64_t W, Split<T>* rel, Split<T>* raw0,
                Split<T>* raw1, std::vector<T>& tmp) {
  constexpr int L = kLanes<T>;
  const int64_t W2 = W / 2;
  auto relu = [](T v) { return v > T(0) ? v : T(0); };
  if (W % 2 == 0) {
    const int64_t n = H * W2;
    tmp.resize(2 * n + L);
    T* e = tmp.data();
    T* o = e + n;
    int64_t k = 0;
    for (; k + L <= n; k += L) {
      Vec<T> ve, vo;
      load_pairs(x + 2 * k, ve, vo);
      store(e + k, ve, L);
      store(o + k, vo, L);
    }
    for (; k < n; ++k) {
      e[k] = x[2 * k];
      o[k] = x[2 * k + 1];
    }
    for (int64_t iy = 0; iy < H; ++iy) {  // the pitch has 3 * kBlock spare columns
      const T* er = e + iy * W2;
      const T* orow = o + iy * W2;
      for (Split<T>* d : {raw0, raw1}) {
        if (!d) continue;
        copy_row_fill(er, W2, d->e.row(iy), d->fill);
        copy_row_fill(orow, W2, d->o.row(iy), d->fill);
      }
      if (rel) {
        T* de = rel->e.row(iy);
        T* dd = rel->o.row(iy);
        for (int64_t j = 0; j < W2; j += L) {
          const Vec<T> ve = load(er + j), vo = load(orow + j);
          store(de + j, ve > T(0) ? ve : Vec<T>{}, L);
          store(dd + j, vo > T(0) ? vo : Vec<T>{}, L);
        }
        store(de + W2, Vec<T>{} + rel->fill, L);
        store(dd + W2, Vec<T>{} + rel->fill, L);
      }
    }
    return;
  }
  for (int64_t iy = 0; iy < H; ++iy) {
    const T* src = x + iy * W;
    for (Split<T>* d : {rel, raw0, raw1}) {
      if (!d) continue;
      T* e = d->e.row(iy);
      T* o = d->o.row(iy);
      const bool r = d == rel;
      for (int64_t j = 0; j < W2; ++j) {
        e[j] = r ? relu(src[2 * j]) : src[2 * j];
        o[j] = r ? relu(src[2 * j + 1]) : src[2 * j + 1];
      }
      e[W2] = r ? relu(src[W - 1]) : src[W - 1];
    }
  }
}

template <typename T>
struct Tap {
  T w;
  const T* p;
};
constexpr int kMaxTaps = 25;

template <typename T, int NV, int R>
__attribute__((always_inline)) inline void taps_block(const Tap<T>* __restrict taps, int nt,
                                                      int64_t rstep, T* __restrict out, int64_t oy,
                                                      int64_t ox0, int64_t Wo, bool accumulate) {
  constexpr int L = kLanes<T>;
  Vec<T> a[R][NV];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < NV; ++v) a[r][v] = Vec<T>{};
  for (int t = 0; t < nt; ++t) {
    const T wv = taps[t].w;
    const T* base = taps[t].p + oy * rstep + ox0;
    for (int r = 0; r < R; ++r)
      for (int v = 0; v < NV; ++v) a[r][v] += wv * load(base + r * rstep + v * L);
  }
  store_block<T, NV, R>(a, out, oy, ox0, Wo, accumulate);
}

template <typename T, int NV, int R>
void taps_rows(const Tap<T>* taps, int nt, int64_t rstep, T* out, int64_t oy, int64_t Ho,
               int64_t Wo, bool accumulate) {
  constexpr int L = kLanes<T>;
  for (; oy + R <= Ho; oy += R)
    for (int64_t ox0 = 0; ox0 < Wo; ox0 += NV * L)
      taps_block<T, NV, R>(taps, nt, rstep, out, oy, ox0, Wo, accumulate);
  if constexpr (R > 1) taps_rows<T, NV, R - 1>(taps, nt, rstep, out, oy, Ho, Wo, accumulate);
}

// out[oy, ox] (=, or += when accumulate) sum_t taps[t].w * taps[t].p[oy * rstep + ox], the taps
// summed in list order; every tap must be readable kBlock * 2 columns past Wo.
template <typename T>
void taps_conv(const Tap<T>* taps, int nt, int64_t rstep, T* out, int64_t Ho, int64_t Wo,
               bool accumulate) {
  constexpr int L = kLanes<T>;
  if (Wo <= L)
    taps_rows<T, 1, 8>(taps, nt, rstep, out, 0, Ho, Wo, accumulate);
  else if (Wo <= 2 * L)
    taps_rows<T, 2, 4>(taps, nt, rstep, out, 0, Ho, Wo, accumulate);
  else
    taps_rows<T, 4, 1>(taps, nt, rstep, out, 0, Ho, Wo, accumulate);
}

// The taps of a stride-2 depthwise conv (spec sp) of the split plane `in`, in row-major order
// (as dw_fwd); their pointers stay valid for every plane split into `in`, so a task builds them
// once and sets the weights per plane (set_weights).
template <typename T>
struct S2Taps {
  Tap<T> t[kMaxTaps];
  int nt = 0;
  int64_t rstep = 0;
  void build(const Split<T>& in, DwSpec sp) {
    nt = 0;
    rstep = 2 * in.e.pitch;
    for (int ki = 0; ki < sp.k; ++ki)
      for (int kj = 0; kj < sp.k; ++kj)
        t[nt++] = Tap<T>{T(0), in.at(ki * sp.d - sp.p, 0, kj * sp.d - sp.p)};
  }
  void set_weights(const T* __restrict w) {
    for (int i = 0; i < nt; ++i) t[i].w = w[i];
  }
};

// The polyphase taps of the grad of a stride-2 depthwise conv w.r.t. its input (see
// dw_bwd_input_s2) for weights w, reading the zero-padded output gradient plane gq.
template <typename T>
struct PolyTaps {
  Tap<T> t[4][kMaxTaps];
  int nt[4] = {0, 0, 0, 0};
  int64_t rstep = 0;
  // Taps run in the order of dw_bwd_input's flipped kernel.
  void build(const Padded<T>& gq, const T* __restrict w, DwSpec sp) {
    rstep = gq.pitch;
    for (int py = 0; py < 2; ++py)
      for (int px = 0; px < 2; ++px) {
        int& n = nt[2 * py + px];
        n = 0;
        for (int ki = sp.k - 1; ki >= 0; --ki) {
          const int ry = py + sp.p - ki * sp.d;  // input row 2i + py <- output row i + ry / 2
          if (ry & 1) continue;
          for (int kj = sp.k - 1; kj >= 0; --kj) {
            const int rx = px + sp.p - kj * sp.d;
            if (rx & 1) continue;
            t[2 * py + px][n++] = Tap<T>{w[ki * sp.k + kj], gq.at(ry / 2, rx / 2)};
          }
        }
      }
  }
};

// g[Ho, Wo] into the zero-padded plane gq (gq's columns past Wo stay zero).
template <typename T>
void pad_plane(const T* __restrict g, int64_t Ho, int64_t Wo, Padded<T>& gq) {
  constexpr int L = kLanes<T>;
  const int64_t span = (Wo + L - 1) / L * L;  // what copy_row_fill reads of a row
  int64_t oy = 0;
  for (; oy < Ho && (Ho - oy) * Wo >= span; ++oy) copy_row_fill(g + oy * Wo, Wo, gq.row(oy), T(0));
  for (; oy < Ho; ++oy) copy_row(g + oy * Wo, Wo, gq.row(oy));  // must not read past g
}

// Grad of a stride-2 depthwise conv w.r.t. its input, by polyphase decomposition: input phase
// (py, px) (rows 2i + py, columns 2j + px) is a stride-1 correlation of the output gradient
// (in the plane the taps were built on) with the taps of matching parity, added into
// ph[2 * py + px] ([Ho, Wo] each; a phase row or column past the input is junk).
template <typename T>
void dw_bwd_input_s2(const PolyTaps<T>& pt, int64_t Ho, int64_t Wo, T* const* ph) {
  for (int q = 0; q < 4; ++q)
    if (pt.nt[q]) taps_conv(pt.t[q], pt.nt[q], pt.rstep, ph[q], Ho, Wo, /*accumulate=*/true);
}

// Grad of dw_fwd (stride 1) w.r.t. its input, added into gin[H, W]: a stride-1 conv of the
// output gradient (zero-padded in gp, see pad_plane) with the flipped kernel.
template <typename T>
void dw_bwd_input(const Padded<T>& gp, int64_t H, int64_t W, const T* __restrict w, DwSpec sp,
                  T* __restrict gin) {
  T wf[25];
  const int kk = sp.k * sp.k;
  for (int t = 0; t < kk; ++t) wf[t] = w[kk - 1 - t];
  dw_fwd(gp, wf, sp, gin, H, W, /*accumulate=*/true);
}

// acc[ki * K + kj] += sum_{oy, ox} gout[oy, ox] * base[kj][oy * rstep + ox] for row ki of the
// kernel (base[kj]: the input of output (0, 0) under tap (ki, kj)). gout's rows are gpitch apart
// and zero from Wo to gw, a multiple of the block. The K taps of one kernel row share each load
// of gout and form K independent FMA chains.
template <typename T, int K>
__attribute__((always_inline)) inline void dw_bwd_weight_row(const T* __restrict gpad,
                                                             int64_t gpitch, int64_t Ho, int64_t gw,
                                                             const T* const (&base)[K],
                                                             int64_t rstep,
                                                             double* __restrict acc) {
  constexpr int L = kLanes<T>;
  Vec<T> a[K];
  for (int kj = 0; kj < K; ++kj) a[kj] = Vec<T>{};
  for (int64_t oy = 0; oy < Ho; ++oy) {
    const T* g = gpad + oy * gpitch;
    for (int64_t ox0 = 0; ox0 < gw; ox0 += L) {
      const Vec<T> gv = load(g + ox0);
      for (int kj = 0; kj < K; ++kj) a[kj] += gv * load(base[kj] + oy * rstep + ox0);
    }
  }
  for (int kj = 0; kj < K; ++kj) {
    double t = 0;
    for (int b = 0; b < L; ++b) t += static_cast<double>(a[kj][b]);
    acc[kj] += t;
  }
}

// acc[k*k] += sum_{oy, ox} gout[oy, ox] * in[oy + ki * d - p, ox + kj * d - p] (stride 1);
// gq holds gout [Ho, Wo], zero-padded (pad_plane).
template <typename T, int K>
void dw_bwd_weight_k(const Padded<T>& gq, int64_t Ho, int64_t Wo, const Padded<T>& in, DwSpec sp,
                     double* __restrict acc) {
  constexpr int L = kLanes<T>;
  const int64_t gw = (Wo + L - 1) / L * L;
  for (int ki = 0; ki < K; ++ki) {
    const T* base[K];
    for (int kj = 0; kj < K; ++kj) base[kj] = in.at(ki * sp.d - sp.p, kj * sp.d - sp.p);
    dw_bwd_weight_row<T, K>(gq.at(0, 0), gq.pitch, Ho, gw, base, in.pitch, acc + ki * K);
  }
}

// The same at stride 2 from the split plane: in[2 oy + ki * d - p, 2 ox + kj * d - p].
template <typename T, int K>
void dw_bwd_weight_s2_k(const Padded<T>& gq, int64_t Ho, int64_t Wo, const Split<T>& in, DwSpec sp,
                        double* __restrict acc) {
  constexpr int L = kLanes<T>;
  const int64_t gw = (Wo + L - 1) / L * L;
  for (int ki = 0; ki < K; ++ki) {
    const T* base[K];
    for (int kj = 0; kj < K; ++kj) base[kj] = in.at(ki * sp.d - sp.p, 0, kj * sp.d - sp.p);
    dw_bwd_weight_row<T, K>(gq.at(0, 0), gq.pitch, Ho, gw, base, 2 * in.e.pitch, acc + ki * K);
  }
}

template <typename T>
void dw_bwd_weight(const Padded<T>& gq, int64_t Ho, int64_t Wo, const Padded<T>& in, DwSpec sp,
                   double* __restrict acc) {
  if (sp.k == 3)
    dw_bwd_weight_k<T, 3>(gq, Ho, Wo, in, sp, acc);
  else
    dw_bwd_weight_k<T, 5>(gq, Ho, Wo, in, sp, acc);
}

template <typename T>
void dw_bwd_weight_s2(const Padded<T>& gq, int64_t Ho, int64_t Wo, const Split<T>& in, DwSpec sp,
                      double* __restrict acc) {
  if (sp.k == 3)
    dw_bwd_weight_s2_k<T, 3>(gq, Ho, Wo, in, sp, acc);
  else
    dw_bwd_weight_s2_k<T, 5>(gq, Ho, Wo, in, sp, acc);
}

inline int64_t pool_count(int64_t o, int64_t s, int64_t n) {
  return std::min<int64_t>(o * s + 2, n) - std::max<int64_t>(o * s - 1, 0);
}

// Pool windows (3x3, padding 1) read through a view: tap (ki, kj) of outputs [ox0, ox0 + L) of
// row oy is a contiguous vector at at(oy, ki, ox0, kj).
template <typename T>
struct PoolView1 {  // stride 1, from the padded plane
  const Padded<T>& p;
  const T* at(int64_t oy, int ki, int64_t ox0, int kj) const {
    return p.at(oy - 1 + ki, ox0 - 1 + kj);
  }
};
template <typename T>
struct PoolView2 {  // stride 2, from the split plane
  const Split<T>& p;
  const T* at(int64_t oy, int ki, int64_t ox0, int kj) const {
    return p.at(2 * oy - 1 + ki, ox0, kj - 1);
  }
};

// max_pool_3x3 of a plane padded with -inf (view xm) and avg_pool_3x3 (count_include_pad=False)
// of the same plane padded with 0 (view x0), padding 1, stride s, input [H, W]. Taps are
// scanned row-major as in ATen, so ties and NaNs pick the same element.
template <typename T, typename V>
void pools_fwd(const V& xm, const V& x0, int64_t s, int64_t H, int64_t W, int64_t Ho, int64_t Wo,
               T* __restrict maxp, T* __restrict avgp) {
  constexpr int L = kLanes<T>;
  constexpr int NV = 2;
  std::vector<T> inv_cols(Wo + NV * L, T(1));
  for (int64_t ox = 0; ox < Wo; ++ox) inv_cols[ox] = T(pool_count(ox, s, W));
  for (int64_t oy = 0; oy < Ho; ++oy) {
    const T rc = T(pool_count(oy, s, H));
    for (int64_t ox0 = 0; ox0 < Wo; ox0 += NV * L) {
      Vec<T> m[NV], a[NV];
      for (int v = 0; v < NV; ++v) {
        m[v] = Vec<T>{} - std::numeric_limits<T>::infinity();
        a[v] = Vec<T>{};
      }
      for (int ki = 0; ki < 3; ++ki) {
        for (int kj = 0; kj < 3; ++kj) {
          const T* rm = xm.at(oy, ki, ox0, kj);
          const T* ra = x0.at(oy, ki, ox0, kj);
          for (int v = 0; v < NV; ++v) {
            const Vec<T> vm = load(rm + v * L);
            m[v] = ((vm > m[v]) | (vm != vm)) ? vm : m[v];
            a[v] += load(ra + v * L);
          }
        }
      }
      for (int v = 0; v < NV; ++v) {
        const int64_t n = std::min<int64_t>(L, Wo - ox0 - v * L);
        if (n <= 0) break;
        if (maxp) store(maxp + oy * Wo + ox0 + v * L, m[v], n);
        if (avgp)
          store(avgp + oy * Wo + ox0 + v * L, a[v] / (rc * load(inv_cols.data() + ox0 + v * L)), n);
      }
    }
  }
}

// The window tap (ki * 3 + kj) each max_pool_3x3 output of row oy, columns [ox0, ox0 + L),
// takes its value from (view xm of the -inf padded plane): the last NaN, else the first maximum
// in row-major order (as ATen), else (every element -inf) the window's first in-bounds element.
template <typename T, typename V>
__attribute__((always_inline)) inline Vec<T> max_taps(const V& xm, int64_t oy, int64_t ox0) {
  constexpr int L = kLanes<T>;
  Vec<T> m = Vec<T>{} - std::numeric_limits<T>::infinity(), arg = Vec<T>{} - T(1);
  for (int ki = 0; ki < 3; ++ki) {
    for (int kj = 0; kj < 3; ++kj) {
      const Vec<T> v = load(xm.at(oy, ki, ox0, kj));
      const auto take = (v > m) | (v != v);
      m = take ? v : m;
      arg = take ? Vec<T>{} + static_cast<T>(ki * 3 + kj) : arg;
    }
  }
  for (int b = 0; b < L; ++b)
    if (arg[b] < T(0)) arg[b] = static_cast<T>((oy == 0 ? 3 : 0) + (ox0 + b == 0 ? 1 : 0));
  return arg;
}

// gx[H, W] += maxpool^T gmax (a scatter), the argmax recomputed from the view xm.
template <typename T, typename V>
void maxpool_bwd(const V& xm, int64_t s, int64_t W, int64_t Ho, int64_t Wo,
                 const T* __restrict gmax, T* __restrict gx) {
  constexpr int L = kLanes<T>;
  for (int64_t oy = 0; oy < Ho; ++oy) {
    for (int64_t ox0 = 0; ox0 < Wo; ox0 += L) {
      const Vec<T> arg = max_taps<T>(xm, oy, ox0);
      const int64_t n = std::min<int64_t>(L, Wo - ox0);
      for (int64_t b = 0; b < n; ++b) {
        const int t = static_cast<int>(arg[b]);
        gx[(oy * s - 1 + t / 3) * W + (ox0 + b) * s - 1 + t % 3] += gmax[oy * Wo + ox0 + b];
      }
    }
  }
}

// gx[H, W] += maxpool^T gmax at stride 1 as a gather: each input element sums the gradients of
// the (up to 9) windows whose maximum it is. `ma` / `mg` are scratch planes (any fill).
template <typename T>
void maxpool_bwd_s1(const Padded<T>& xm, const T* __restrict gmax, Padded<T>& ma, Padded<T>& mg,
                    T* __restrict gx) {
  constexpr int L = kLanes<T>;
  const int64_t H = xm.H, W = xm.W;
  for (int64_t oy = -1; oy <= H; ++oy) {  // the taps read rows and columns [-1, H/W]
    std::fill(ma.at(oy, -1), ma.at(oy, W + L + 1), T(-1));
    std::fill(mg.at(oy, -1), mg.at(oy, W + L + 1), T(0));
  }
  for (int64_t oy = 0; oy < H; ++oy) {
    for (int64_t ox0 = 0; ox0 < W; ox0 += L)
      store(ma.at(oy, ox0), max_taps<T>(PoolView1<T>{xm}, oy, ox0), std::min<int64_t>(L, W - ox0));
    copy_row(gmax + oy * W, W, mg.at(oy, 0));
  }
  for (int64_t iy = 0; iy < H; ++iy) {
    for (int64_t ix0 = 0; ix0 < W; ix0 += L) {
      Vec<T> acc{};
      for (int ki = 0; ki < 3; ++ki) {
        for (int kj = 0; kj < 3; ++kj) {
          const Vec<T> a = load(ma.at(iy + 1 - ki, ix0 + 1 - kj));
          const Vec<T> g = load(mg.at(iy + 1 - ki, ix0 + 1 - kj));
          acc += (a == Vec<T>{} + static_cast<T>(ki * 3 + kj)) ? g : Vec<T>{};
        }
      }
      const int64_t n = std::min<int64_t>(L, W - ix0);
      T* d = gx + iy * W + ix0;
      if (n == L) {
        store(d, load(d) + acc, L);
      } else {
        for (int64_t b = 0; b < n; ++b) d[b] += acc[b];
      }
    }
  }
}

// gx[H, W] += avgpool^T gavg at stride 1 (a scatter into the scratch plane ga).
template <typename T>
void avgpool_bwd_s1(int64_t H, int64_t W, const T* __restrict gavg, Padded<T>& ga,
                    T* __restrict gx) {
  const int64_t Ho = H, Wo = W;
  for (int64_t iy = -1; iy <= H; ++iy)  // the windows touch rows and columns [-1, H/W]
    std::fill(ga.at(iy, -1), ga.at(iy, W + 1), T(0));
  std::vector<T> q(Wo);
  for (int64_t oy = 0; oy < Ho; ++oy) {
    const int64_t rc = pool_count(oy, 1, H);
    for (int64_t ox = 0; ox < Wo; ++ox)
      q[ox] = gavg[oy * Wo + ox] / static_cast<T>(rc * pool_count(ox, 1, W));
    for (int ki = 0; ki < 3; ++ki) {
      T* r = ga.at(oy - 1 + ki, -1);
      for (int kj = 0; kj < 3; ++kj) {
        T* d = r + kj;
#pragma omp simd
        for (int64_t ox = 0; ox < Wo; ++ox) d[ox] += q[ox];
      }
    }
  }
  for (int64_t iy = 0; iy < H; ++iy) {
    const T* r = ga.row(iy);
    T* d = gx + iy * W;
#pragma omp simd
    for (int64_t ix = 0; ix < W; ++ix) d[ix] += r[ix];
  }
}

// gx[H, W] += avgpool^T gavg at stride 2, as a gather: input row 2i lies in window row i only,
// row 2i + 1 in window rows i and i + 1, and the same for columns. With q = gavg / count
// ([Ho + 1, Wo + 1], a zero last row and column) and R the row sums of parity py (q[i], or
// q[i] + q[i + 1]), row 2i + py of the gradient is R[i, j] at column 2j and R[i, j] +
// R[i, j + 1] at column 2j + 1: two flat vector passes interleaved into `tmp`.
template <typename T>
void avgpool_bwd_s2(int64_t H, int64_t W, int64_t Ho, int64_t Wo, const T* __restrict gavg,
                    std::vector<T>& q, std::vector<T>& tmp, T* __restrict gx) {
  constexpr int L = kLanes<T>;
  const int64_t qw = Wo + 1, n = Ho * qw;
  q.assign(2 * (n + qw) + 2 * L, T(0));  // q, then the odd-row sums R1 (both padded)
  T* r1 = q.data() + n + qw + L;
  for (int64_t oy = 0; oy < Ho; ++oy) {
    const int64_t rc = pool_count(oy, 2, H);
    for (int64_t ox = 0; ox < Wo; ++ox)
      q[oy * qw + ox] = gavg[oy * Wo + ox] / static_cast<T>(rc * pool_count(ox, 2, W));
  }
#pragma omp simd
  for (int64_t k = 0; k < n; ++k) r1[k] = q[k] + q[k + qw];
  tmp.resize(2 * n + 2 * L);
  for (int py = 0; py < 2; ++py) {
    const T* r = py ? r1 : q.data();
    T* t = tmp.data();
    for (int64_t k = 0; k < n; k += L) {
      const Vec<T> a = load(r + k);
      Vec<T> lo, hi;
      interleave<T>(a, a + load(r + k + 1), lo, hi);
      store(t + 2 * k, lo, L);
      store(t + 2 * k + L, hi, L);
    }
    for (int64_t iy = py; iy < H; iy += 2) {
      const T* src = t + (iy / 2) * 2 * qw;
      T* d = gx + iy * W;
#pragma omp simd
      for (int64_t ix = 0; ix < W; ++ix) d[ix] += src[ix];
    }
  }
}

// The stride-2 grad of relu(x) from its phases: dst[iy, ix] = x[iy, ix] > 0 ? ph[2 (iy % 2) +
// ix % 2][iy / 2, ix / 2] : 0 (ph: [Ho, Wo] each, readable kLanes past the end). Interleaving
// the flat phase pair (py, 0), (py, 1) gives the rows of parity py, each 2 Wo long, in `tmp`.
template <typename T>
void merge_phases(T* const* ph, const T* __restrict x, int64_t H, int64_t W, int64_t Ho, int64_t Wo,
                  std::vector<T>& tmp, T* __restrict dst) {
  constexpr int L = kLanes<T>;
  const int64_t n = Ho * Wo;
  tmp.resize(2 * n + 2 * L);
  for (int py = 0; py < 2; ++py) {
    const T* e = ph[2 * py];
    const T* o = ph[2 * py + 1];
    T* t = tmp.data();
    for (int64_t k = 0; k < n; k += L) {
      Vec<T> lo, hi;
      interleave<T>(load(e + k), load(o + k), lo, hi);
      store(t + 2 * k, lo, L);
      store(t + 2 * k + L, hi, L);
    }
    for (int64_t iy = py; iy < H; iy += 2) {
      const T* src = t + (iy / 2) * 2 * Wo;
      const T* xr = x + iy * W;
      T* d = dst + iy * W;
#pragma omp simd
      for (int64_t ix = 0; ix < W; ++ix) d[ix] = xr[ix] > T(0) ? src[ix] : T(0);
    }
  }
}

template <typename T>
void stage1_forward(const T* x, const Dims& d, const T* const* dw_w, T* const* dw_out, T* maxp,
                    T* avgp, T* fr0, T* fr1) {
  const int64_t HW = d.H * d.W, HWo = d.Ho * d.Wo;
  const bool pools = maxp || avgp;
  const bool s2 = d.s == 2;
  constexpr T kNegInf = -std::numeric_limits<T>::infinity();
  at::parallel_for(0, d.N * d.C, 1, [&](int64_t begin, int64_t end) {
    // stride 1: padded planes; stride 2: the same planes split into even and odd columns
    Padded<T> r(s2 ? 0 : d.H, d.W, T(0));
    Padded<T> xm(pools && !s2 ? d.H : 0, d.W, kNegInf);
    Padded<T> x0(pools && !s2 ? d.H : 0, d.W, T(0));
    Split<T> r2(s2 ? d.H : 0, d.W, T(0));
    Split<T> xm2(pools && s2 ? d.H : 0, d.W, kNegInf);
    Split<T> x02(pools && s2 ? d.H : 0, d.W, T(0));
    std::vector<T> tmp;
    S2Taps<T> taps[4];
    if (s2)
      for (int b = 0; b < 4; ++b) taps[b].build(r2, kStage1[b]);
    for (int64_t pl = begin; pl < end; ++pl) {
      const int64_t c = pl % d.C;
      const T* xp = x + pl * HW;
      T* mp = maxp ? maxp + pl * HWo : nullptr;
      T* ap = avgp ? avgp + pl * HWo : nullptr;
      if (s2) {
        split_into<T>(xp, d.H, d.W, &r2, pools ? &xm2 : nullptr, pools ? &x02 : nullptr, tmp);
      } else {
        relu_into(xp, d.H, d.W, r);
      }
      for (int b = 0; b < 4; ++b) {
        if (!dw_out[b]) continue;
        const DwSpec sp = kStage1[b];
        const T* w = dw_w[b] + c * sp.k * sp.k;
        if (s2) {
          taps[b].set_weights(w);
          taps_conv(taps[b].t, taps[b].nt, taps[b].rstep, dw_out[b] + pl * HWo, d.Ho, d.Wo,
                    /*accumulate=*/false);
        } else {
          dw_fwd(r, w, sp, dw_out[b] + pl * HWo, d.Ho, d.Wo, false);
        }
      }
      if (pools && s2) {
        pools_fwd(PoolView2<T>{xm2}, PoolView2<T>{x02}, 2, d.H, d.W, d.Ho, d.Wo, mp, ap);
      } else if (pools) {
        copy_into(xp, d.H, d.W, xm);
        copy_into(xp, d.H, d.W, x0);
        pools_fwd(PoolView1<T>{xm}, PoolView1<T>{x0}, 1, d.H, d.W, d.Ho, d.Wo, mp, ap);
      }
      if (fr0) {  // stride 2 only: r[2 oy, 2 ox] and r[2 oy + 1, 2 ox + 1]
        for (int64_t oy = 0; oy < d.Ho; ++oy) {
          const T* e = r2.e.row(2 * oy);
          const T* o = r2.o.row(2 * oy + 1);
          T* f0 = fr0 + pl * HWo + oy * d.Wo;
          T* f1 = fr1 + pl * HWo + oy * d.Wo;
          for (int64_t ox = 0; ox < d.Wo; ox += kLanes<T>) {  // rows of r2 are padded
            const int64_t n = std::min<int64_t>(kLanes<T>, d.Wo - ox);
            store(f0 + ox, load(e + ox), n);
            store(f1 + ox, load(o + ox), n);
          }
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
      var_unbiased[c] =
          static_cast<T>(M > 1 ? vs / (M - 1) : std::numeric_limits<double>::quiet_NaN());
    }
  });
}

template <typename T>
void bn_relu_dw_forward(const T* z, const T* mean, const T* invstd, int64_t N, int64_t C, int64_t H,
                        int64_t W, const T* w, DwSpec spec, T* out) {
  const int64_t HW = H * W;
  at::parallel_for(0, N * C, 1, [&](int64_t begin, int64_t end) {
    Padded<T> a(H, W, T(0));
    for (int64_t pl = begin; pl < end; ++pl) {
      const int64_t c = pl % C;
      bn_relu_into(z + pl * HW, mean[c], invstd[c], H, W, a);
      dw_fwd(a, w + c * spec.k * spec.k, spec, out + pl * HW, H, W, false);
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
  constexpr int L = kLanes<T>;
  const double M = static_cast<double>(N * HW);
  at::parallel_for(0, C, 1, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      const T m = mean[c], is = invstd[c];
      double sg = 0, sgy = 0;
      if (training || sum_gy) {
        for (int64_t n = 0; n < N; ++n) {
          const T* gp = g + (n * C + c) * HW;
          const T* zp = z + (n * C + c) * HW;
          Vec<T> va{}, vb{};
          int64_t i = 0;
          for (; i + L <= HW; i += L) {
            const Vec<T> y = (load(zp + i) - m) * is;
            Vec<T> gg = load(gp + i);
            if (relu_mask) gg = y > T(0) ? gg : Vec<T>{};
            va += gg;
            vb += gg * y;
          }
          double a = 0, b = 0;
          for (int l = 0; l < L; ++l) {
            a += static_cast<double>(va[l]);
            b += static_cast<double>(vb[l]);
          }
          for (; i < HW; ++i) {
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
    Padded<T> a(H, W, T(0)), gp(H, W, T(0));
    std::vector<double> acc(kk);
    for (int64_t c = begin; c < end; ++c) {
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t n = 0; n < N; ++n) {
        const int64_t pl = n * C + c;
        T* gpl = ga + pl * HW;
        std::fill(gpl, gpl + HW, T(0));
        pad_plane(gout + pl * HW, H, W, gp);
        dw_bwd_input(gp, H, W, w + c * kk, spec, gpl);
        if (!dw) continue;
        bn_relu_into(z + pl * HW, mean[c], invstd[c], H, W, a);
        dw_bwd_weight(gp, H, W, a, spec, acc.data());
      }
      if (dw)
        for (int64_t t = 0; t < kk; ++t) dw[c * kk + t] = static_cast<T>(acc[t]);
    }
  });
}

template <typename T>
void stage1_backward(const T* x, const Dims& d, const T* const* dw_w, const T* const* g_dw,
                     const T* g_max, const T* g_avg, const T* g_fr0, const T* g_fr1,
                     const T* g_skip, T skip_w, T* gx, T* const* dw_grad) {
  const int64_t HW = d.H * d.W, HWo = d.Ho * d.Wo;
  const bool s2 = d.s == 2;
  constexpr T kNegInf = -std::numeric_limits<T>::infinity();
  bool any_dw = false;
  for (int b = 0; b < 4; ++b) any_dw = any_dw || (g_dw[b] && dw_grad[b]);
  at::parallel_for(0, d.C, 1, [&](int64_t begin, int64_t end) {
    // stride 1: padded planes, the grad of relu(x) in gr; stride 2: split planes, that grad in
    // four phase planes (rows 2i + py, columns 2j + px in gph[2 py + px], [Ho, Wo] each)
    Padded<T> r(any_dw && !s2 ? d.H : 0, d.W, T(0));
    Padded<T> xm(g_max && !s2 ? d.H : 0, d.W, kNegInf);
    Padded<T> ga(g_avg && !s2 ? d.H : 0, d.W, T(0));
    Padded<T> ma(g_max && !s2 ? d.H : 0, d.W, T(-1)), mg(g_max && !s2 ? d.H : 0, d.W, T(0));
    Split<T> r2(any_dw && s2 ? d.H : 0, d.W, T(0));
    Split<T> xm2(g_max && s2 ? d.H : 0, d.W, kNegInf);
    Padded<T> gq(d.Ho, d.Wo, T(0));  // one output gradient plane, zero-padded
    std::vector<T> gr(s2 ? 4 * HWo + kLanes<T> : HW), q, tmp;
    T* gph[4] = {};
    if (s2)
      for (int k = 0; k < 4; ++k) gph[k] = gr.data() + k * HWo;
    std::vector<double> acc[4];
    for (int b = 0; b < 4; ++b) acc[b].resize(kStage1[b].k * kStage1[b].k);
    PolyTaps<T> ptaps[4];
    for (int64_t c = begin; c < end; ++c) {
      for (auto& a : acc) std::fill(a.begin(), a.end(), 0.0);
      if (s2)
        for (int b = 0; b < 4; ++b)
          if (g_dw[b]) ptaps[b].build(gq, dw_w[b] + c * kStage1[b].k * kStage1[b].k, kStage1[b]);
      for (int64_t n = 0; n < d.N; ++n) {
        const int64_t pl = n * d.C + c;
        const T* xp = x + pl * HW;
        if (s2 && (any_dw || g_max)) {
          split_into<T>(xp, d.H, d.W, any_dw ? &r2 : nullptr, g_max ? &xm2 : nullptr, nullptr, tmp);
        } else if (any_dw) {
          relu_into(xp, d.H, d.W, r);
        }
        std::fill(gr.begin(), gr.end(), T(0));
        for (int b = 0; b < 4; ++b) {
          if (!g_dw[b]) continue;
          const DwSpec sp = kStage1[b];
          const T* g = g_dw[b] + pl * HWo;
          const T* w = dw_w[b] + c * sp.k * sp.k;
          pad_plane(g, d.Ho, d.Wo, gq);
          if (s2) {
            dw_bwd_input_s2(ptaps[b], d.Ho, d.Wo, gph);
            if (dw_grad[b]) dw_bwd_weight_s2(gq, d.Ho, d.Wo, r2, sp, acc[b].data());
          } else {
            dw_bwd_input(gq, d.H, d.W, w, sp, gr.data());
            if (dw_grad[b]) dw_bwd_weight(gq, d.Ho, d.Wo, r, sp, acc[b].data());
          }
        }
        if (g_fr0) {  // stride 2 only: phases (0, 0) and (1, 1)
          const T* g0 = g_fr0 + pl * HWo;
          const T* g1 = g_fr1 + pl * HWo;
#pragma omp simd
          for (int64_t i = 0; i < HWo; ++i) {
            gph[0][i] += g0[i];
            gph[3][i] += g1[i];
          }
        }
        T* gxp = gx + pl * HW;
        if (s2) {
          merge_phases(gph, xp, d.H, d.W, d.Ho, d.Wo, tmp, gxp);
        } else {
#pragma omp simd
          for (int64_t i = 0; i < HW; ++i) gxp[i] = xp[i] > T(0) ? gr[i] : T(0);
        }
        if (g_max) {
          const T* gm = g_max + pl * HWo;
          if (s2) {
            maxpool_bwd(PoolView2<T>{xm2}, 2, d.W, d.Ho, d.Wo, gm, gxp);
          } else {
            copy_into(xp, d.H, d.W, xm);
            maxpool_bwd_s1(xm, gm, ma, mg, gxp);
          }
        }
        if (g_avg) {
          if (s2) {
            avgpool_bwd_s2(d.H, d.W, d.Ho, d.Wo, g_avg + pl * HWo, q, tmp, gxp);
          } else {
            avgpool_bwd_s1(d.H, d.W, g_avg + pl * HWo, ga, gxp);
          }
        }
        if (g_skip) {
          const T* sp = g_skip + pl * HW;
#pragma omp simd
          for (int64_t i = 0; i < HW; ++i) gxp[i] += skip_w * sp[i];
        }
      }
      for (int b = 0; b < 4; ++b) {
        if (!g_dw[b] || !dw_grad[b]) continue;
        const int64_t kk = kStage1[b].k * kStage1[b].k;
        for (int64_t t = 0; t < kk; ++t) dw_grad[b][c * kk + t] = static_cast<T>(acc[b][t]);
      }
    }
  });
}

// NC output channels x 2 vectors of columns [pb, pb + 2L) of a pointwise tile: 2 * NC
// independent FMA chains share each load of the input rows (sp rows sst apart; the tile is
// readable up to pb + 2L). m0/m1: valid columns in the first/second vector (<= 0: none).
template <typename T, int NC>
__attribute__((always_inline)) inline void pw_block(const T* __restrict w, int64_t Ci, const T* sp,
                                                    int64_t sst, T* op, int64_t P, int64_t m0,
                                                    int64_t m1) {
  constexpr int L = kLanes<T>;
  Vec<T> a[NC], b[NC];
#pragma GCC unroll 8
  for (int r = 0; r < NC; ++r) a[r] = b[r] = Vec<T>{};
  for (int64_t ci = 0; ci < Ci; ++ci) {
    const Vec<T> v0 = load(sp + ci * sst), v1 = load(sp + ci * sst + L);
#pragma GCC unroll 8
    for (int r = 0; r < NC; ++r) {
      const T wr = w[r * Ci + ci];
      a[r] += wr * v0;
      b[r] += wr * v1;
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < NC; ++r) {
    store(op + r * P, a[r], m0);
    if (m1 > 0) store(op + r * P + L, b[r], m1);
  }
}

template <typename T>
void pointwise(const T* w, int64_t ws_co, int64_t ws_ci, const T* in, int64_t in_bstride, int64_t N,
               int64_t Co, int64_t Ci, int64_t P, T* out, int64_t out_bstride) {
  constexpr int L = kLanes<T>;
  constexpr int64_t kTile = 8 * L;
  const int64_t tiles = (P + kTile - 1) / kTile;
  at::parallel_for(0, N * tiles, 1, [&](int64_t begin, int64_t end) {
    std::vector<T> wt(Co * Ci);  // w as [Co, Ci] contiguous
    for (int64_t co = 0; co < Co; ++co)
      for (int64_t ci = 0; ci < Ci; ++ci) wt[co * Ci + ci] = w[co * ws_co + ci * ws_ci];
    std::vector<T> src(Ci * kTile);
    for (int64_t task = begin; task < end; ++task) {
      const int64_t n = task / tiles, p0 = (task % tiles) * kTile;
      const int64_t len = std::min(kTile, P - p0);
      const T* ip = in + n * in_bstride + p0;
      // full tiles are read in place (rows P apart); a partial tile is copied and zero-padded
      const T* sp = ip;
      int64_t sst = P;
      if (len < kTile) {
        for (int64_t ci = 0; ci < Ci; ++ci) {
          std::copy(ip + ci * P, ip + ci * P + len, src.data() + ci * kTile);
          std::fill(src.data() + ci * kTile + len, src.data() + (ci + 1) * kTile, T(0));
        }
        sp = src.data();
        sst = kTile;
      }
      T* op = out + n * out_bstride + p0;
      for (int64_t pb = 0; pb < len; pb += 2 * L) {
        const int64_t m0 = std::min<int64_t>(L, len - pb), m1 = std::min<int64_t>(L, len - pb - L);
        int64_t co = 0;
        for (; co + 6 <= Co; co += 6)
          pw_block<T, 6>(wt.data() + co * Ci, Ci, sp + pb, sst, op + co * P + pb, P, m0, m1);
        for (; co + 4 <= Co; co += 4)
          pw_block<T, 4>(wt.data() + co * Ci, Ci, sp + pb, sst, op + co * P + pb, P, m0, m1);
        for (; co < Co; ++co)
          pw_block<T, 1>(wt.data() + co * Ci, Ci, sp + pb, sst, op + co * P + pb, P, m0, m1);
      }
    }
  });
}

// Blocks of kBlock elements, each summed in T over four vector accumulators (one chain of
// double adds was latency-bound: ~1 element per cycle); the block sums are added in double and
// in order.
template <typename T>
double dot(const T* a, const T* b, int64_t n) {
  constexpr int64_t kBlock = 4096, L = kLanes<T>;
  const int64_t nb = (n + kBlock - 1) / kBlock;
  std::vector<double> part(nb, 0.0);
  at::parallel_for(0, nb, 1, [&](int64_t begin, int64_t end) {
    for (int64_t blk = begin; blk < end; ++blk) {
      const int64_t i0 = blk * kBlock, i1 = std::min(n, i0 + kBlock);
      Vec<T> acc[4] = {};
      int64_t i = i0;
      for (; i + 4 * L <= i1; i += 4 * L)
        for (int j = 0; j < 4; ++j) acc[j] += load(a + i + j * L) * load(b + i + j * L);
      for (; i + L <= i1; i += L) acc[0] += load(a + i) * load(b + i);
      const Vec<T> v = (acc[0] + acc[1]) + (acc[2] + acc[3]);
      T s = 0;
      for (int l = 0; l < L; ++l) s += v[l];
      for (; i < i1; ++i) s += a[i] * b[i];
      part[blk] = static_cast<double>(s);
    }
  });
  double s = 0;
  for (double p : part) s += p;
  return s;
}

template <typename T>
const KernelTable<T>& kernel_table() {
  static const KernelTable<T> table{&stage1_forward<T>,  &bn_stats<T>,    &bn_relu_dw_forward<T>,
                                    &mix_forward<T>,     &bn_backward<T>, &bn_relu_dw_backward<T>,
                                    &stage1_backward<T>, &pointwise<T>,   &dot<T>};
  return table;
}
template const KernelTable<float>& kernel_table<float>();
template const KernelTable<double>& kernel_table<double>();

}  // namespace nasfast::darts_edge::cpu::nchw::NASFAST_CPU_CAPABILITY
NASFAST_CPU_CAPABILITY_END

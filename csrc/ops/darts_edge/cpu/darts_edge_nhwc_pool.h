#pragma once
// Channels-last kernels of the fused DARTS edge, internals: 3x3 pools and their gradients (see
// darts_edge_nhwc_planes.h).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "common/cpu_capability.h"
#include "ops/darts_edge/cpu/darts_edge_nhwc_conv.h"

NASFAST_CPU_CAPABILITY_BEGIN
namespace nasfast::darts_edge::cpu::nhwc::NASFAST_CPU_CAPABILITY {

// The in-bounds part [y0, y1) x [x0, x1) of the 3x3 window (padding 1) of pool output (oy, ox).
struct Window {
  int64_t y0, y1, x0, x1;
  Window(int64_t oy, int64_t ox, int64_t s, int64_t H, int64_t W)
      : y0(std::max<int64_t>(0, oy * s - 1)),
        y1(std::min<int64_t>(H, oy * s + 2)),
        x0(std::max<int64_t>(0, ox * s - 1)),
        x1(std::min<int64_t>(W, ox * s + 2)) {}
  int64_t count() const { return (y1 - y0) * (x1 - x0); }
};

// Whether one sample's channel group of xs (P pixels C apart, G channels) holds a NaN: the pools
// then take the NaN-propagating max (a compare more per tap), else the plain one.
template <typename T>
bool any_nan(const T* xs, int64_t C, int64_t G, int64_t P) {
  constexpr int L = kLanes<T>;
  decltype(Vec<T>{} != Vec<T>{}) acc{};
  for (int64_t p = 0; p < P; ++p)
    for (int64_t c = 0; c < G; c += L) {
      const Vec<T> v = load(xs + p * C + c);
      acc |= v != v;
    }
  for (int i = 0; i < L; ++i)
    if (acc[i]) return true;
  return false;
}

// Whether v replaces the running maximum m of a window scanned row-major: v > m, or v is a NaN
// (NANS; the last NaN wins, as in ATen).
template <bool NANS, typename V>
__attribute__((always_inline)) inline auto takes_max(const V& v, const V& m) {
  if constexpr (NANS)
    return (v > m) | (v != v);
  else
    return v > m;
}

// One window of the pools over one vector of channels (see pools_fwd): FULL, a window wholly
// inside the image, runs its 9 taps with compile-time offsets. The average is the sum times the
// reciprocal of the count (a division per vector cost as much as the rest of the window).
template <typename T, bool FULL, bool NANS>
__attribute__((always_inline)) inline void pool_window_fwd(const T* xs, int64_t C, const Dims& d,
                                                           const Window& win, T rcnt, T* mp,
                                                           T* ap) {
  constexpr T kNegInf = -std::numeric_limits<T>::infinity();
  const int64_t ny = FULL ? 3 : win.y1 - win.y0, nx = FULL ? 3 : win.x1 - win.x0;
  const T* x0 = xs + (win.y0 * d.W + win.x0) * C;
  Vec<T> m = Vec<T>{} + kNegInf, sum{};
#pragma GCC unroll 3
  for (int64_t dy = 0; dy < ny; ++dy)
#pragma GCC unroll 3
    for (int64_t dx = 0; dx < nx; ++dx) {
      const Vec<T> v = load(x0 + (dy * d.W + dx) * C);
      m = takes_max<NANS>(v, m) ? v : m;
      sum += v;
    }
  if (mp) store(mp, m, kLanes<T>);
  if (ap) store(ap, sum * rcnt, kLanes<T>);
}

// The max and the sum of column x of the NY input rows of a stride-1 window row (one vector of
// channels): the separable half of a NaN-free 3x3 window (the sum's order, rows then columns,
// is the one pool_window_bwd_s1 recomputes).
template <typename T, int NY>
__attribute__((always_inline)) inline void pool_column(const T* xc, int64_t rowpitch, Vec<T>& m,
                                                       Vec<T>& sum) {
  m = sum = load(xc);
#pragma GCC unroll 3
  for (int dy = 1; dy < NY; ++dy) {
    const Vec<T> v = load(xc + dy * rowpitch);
    m = v > m ? v : m;
    sum += v;
  }
}

// pools_fwd at stride 1, NaN-free, for output row oy (windows of NY rows) and one vector of
// channels c: each input column's max and sum are taken once and shared by the three windows
// that hold the column. mr / ar: the output row (either may be null), pixels ldo apart.
template <typename T, int NY>
void pools_fwd_row_s1(const T* xs, int64_t C, const Dims& d, int64_t oy, int64_t c, T* mr, T* ar,
                      int64_t ldo) {
  const int64_t W = d.W;
  const T* xr = xs + std::max<int64_t>(0, oy - 1) * W * C + c;
  Vec<T> m[3] = {}, sum[3] = {};  // columns ox - 1, ox, ox + 1
  pool_column<T, NY>(xr, W * C, m[1], sum[1]);
  if (W > 1) pool_column<T, NY>(xr + C, W * C, m[2], sum[2]);
  for (int64_t ox = 0; ox < W; ++ox) {
    Vec<T> wm, ws;
    T rcnt;
    if (ox > 0 && ox + 1 < W) {
      wm = m[1] > m[0] ? m[1] : m[0];
      wm = m[2] > wm ? m[2] : wm;
      ws = sum[0] + sum[1] + sum[2];
      rcnt = T(1) / T(3 * NY);
    } else if (ox > 0) {  // right edge
      wm = m[1] > m[0] ? m[1] : m[0];
      ws = sum[0] + sum[1];
      rcnt = T(1) / T(2 * NY);
    } else if (ox + 1 < W) {  // left edge
      wm = m[2] > m[1] ? m[2] : m[1];
      ws = sum[1] + sum[2];
      rcnt = T(1) / T(2 * NY);
    } else {  // W == 1
      wm = m[1];
      ws = sum[1];
      rcnt = T(1) / T(NY);
    }
    if (mr) store(mr + ox * ldo + c, wm, kLanes<T>);
    if (ar) store(ar + ox * ldo + c, ws * rcnt, kLanes<T>);
    m[0] = m[1], m[1] = m[2], sum[0] = sum[1], sum[1] = sum[2];
    if (ox + 2 < W) pool_column<T, NY>(xr + (ox + 2) * C, W * C, m[2], sum[2]);
  }
}

// Calls f(ny) for output row oy of a stride-1 pool, ny (the rows its windows hold, 1 to 3) as a
// std::integral_constant.
template <typename F>
void with_window_rows(const Dims& d, int64_t oy, const F& f) {
  const int64_t ny = std::min<int64_t>(d.H, oy + 2) - std::max<int64_t>(0, oy - 1);
  if (ny == 3)
    f(std::integral_constant<int, 3>{});
  else if (ny == 2)
    f(std::integral_constant<int, 2>{});
  else
    f(std::integral_constant<int, 1>{});
}

// max_pool_3x3 and avg_pool_3x3 (count_include_pad=False), padding 1, stride d.s, of one sample
// xs over G channels (pixels C apart); mp / ap (may be null) likewise, pixels ldo apart. With a
// NaN in the group (NANS, see any_nan) taps are scanned row-major as in ATen, so NaNs propagate
// the same way; else stride 1 shares column maxima and sums between windows (pools_fwd_row_s1).
template <typename T, bool NANS>
void pools_fwd(const T* xs, int64_t C, int64_t G, const Dims& d, T* mp, T* ap, int64_t ldo) {
  constexpr int L = kLanes<T>;
  if (d.s == 1 && !NANS) {
    for (int64_t oy = 0; oy < d.Ho; ++oy) {
      T* mr = mp ? mp + oy * d.Wo * ldo : nullptr;
      T* ar = ap ? ap + oy * d.Wo * ldo : nullptr;
      with_window_rows(d, oy, [&](auto ny) {
        for (int64_t c = 0; c < G; c += L)
          pools_fwd_row_s1<T, decltype(ny)::value>(xs, C, d, oy, c, mr, ar, ldo);
      });
    }
    return;
  }
  for (int64_t oy = 0; oy < d.Ho; ++oy)
    for (int64_t ox = 0; ox < d.Wo; ++ox) {
      const Window win(oy, ox, d.s, d.H, d.W);
      const T rcnt = T(1) / static_cast<T>(win.count());
      const int64_t o = (oy * d.Wo + ox) * ldo;
      const bool full = win.count() == 9;
      for (int64_t c = 0; c < G; c += L) {
        T* mpc = mp ? mp + o + c : nullptr;
        T* apc = ap ? ap + o + c : nullptr;
        if (full)
          pool_window_fwd<T, true, NANS>(xs + c, C, d, win, rcnt, mpc, apc);
        else
          pool_window_fwd<T, false, NANS>(xs + c, C, d, win, rcnt, mpc, apc);
      }
    }
}

// Where pools_bwd gets each pool's output gradient, one vector of channels at a time (p: its
// offset in a sample's [Ho, Wo, C] output, c: its channel in the group). PoolDz reads given
// tensors (either may be null: no gradient for that pool).
template <typename T>
struct PoolDz {
  static constexpr bool kNeedsSum = false;
  const T* gm;
  const T* ga;
  bool max() const { return gm; }
  bool avg() const { return ga; }
  PoolDz task(int64_t o, int64_t /*c0*/) const {
    return {gm ? gm + o : nullptr, ga ? ga + o : nullptr};
  }
  Vec<T> max_grad(int64_t p, int64_t /*c*/, const Vec<T>& /*value*/) const { return load(gm + p); }
  Vec<T> avg_grad(int64_t p, int64_t /*c*/, const Vec<T>& /*value*/) const { return load(ga + p); }
};

// PoolBn forms them as the input gradients of the pools' BatchNorms (as BnGrad, without z: the
// pool's value is the window's max or average that pools_bwd recomputes from x anyway), so
// neither is written out (see PoolBnGrads).
template <typename T>
struct PoolBn {
  static constexpr bool kNeedsSum = true;
  PoolBnGrads<T> f;
  int64_t C;
  bool max() const { return f.coef[0]; }
  bool avg() const { return f.coef[1]; }
  PoolBn task(int64_t o, int64_t c0) const {
    PoolBn t = *this;
    t.f.g += o;
    for (int k = 0; k < 2; ++k)
      if (f.coef[k]) {
        t.f.mean[k] += c0;
        t.f.invstd[k] += c0;
        t.f.coef[k] += c0;
      }
    return t;
  }
  Vec<T> grad(int k, int64_t p, int64_t c, const Vec<T>& value) const {
    const T* cf = f.coef[k] + c;
    const Vec<T> y = (value - load(f.mean[k] + c)) * load(f.invstd[k] + c);
    return load(cf) * (load(f.g + p) - load(cf + C) - y * load(cf + 2 * C));
  }
  Vec<T> max_grad(int64_t p, int64_t c, const Vec<T>& value) const { return grad(0, p, c, value); }
  Vec<T> avg_grad(int64_t p, int64_t c, const Vec<T>& value) const { return grad(1, p, c, value); }
};

// The gradients of one window's pools over one vector of channels (see pools_bwd): FULL, a
// window wholly inside the image, runs its 9 taps as compile-time constants; MAX / AVG: whether
// each pool gets a gradient. Taps are numbered 0, 1, ... over the window's in-bounds part,
// row-major (a running vector count, constant once the FULL loops unroll). The window's max and
// (for PoolBn) average are those of pool_window_fwd.
template <typename T, bool FULL, bool NANS, bool MAX, bool AVG, typename Src>
__attribute__((always_inline)) inline void pool_window_bwd(const T* xs, int64_t C, const Dims& d,
                                                           const Window& win, const Src& src,
                                                           int64_t p, int64_t c, T cnt, T rcnt,
                                                           T* gxs) {
  constexpr T kNegInf = -std::numeric_limits<T>::infinity();
  constexpr bool kSum = AVG && Src::kNeedsSum;
  const Vec<T> one = Vec<T>{} + T(1);
  const int64_t y0 = win.y0, x0 = win.x0;
  const int64_t ny = FULL ? 3 : win.y1 - win.y0, nx = FULL ? 3 : win.x1 - win.x0;
  // id: the argmax tap (-1 without the max pool's gradient: matches no tap)
  Vec<T> id = Vec<T>{} - one, gv{}, sum{};
  if constexpr (MAX || kSum) {
    Vec<T> m = Vec<T>{} + kNegInf, k{};
    if constexpr (MAX) id = Vec<T>{};
#pragma GCC unroll 3
    for (int64_t dy = 0; dy < ny; ++dy)
#pragma GCC unroll 3
      for (int64_t dx = 0; dx < nx; ++dx) {
        const Vec<T> v = load(xs + ((y0 + dy) * d.W + x0 + dx) * C);
        if constexpr (MAX) {
          const auto take = takes_max<NANS>(v, m);
          m = take ? v : m;
          id = take ? k : id;
          k += one;
        }
        if constexpr (kSum) sum += v;
      }
    if constexpr (MAX) gv = src.max_grad(p, c, m);
  }
  Vec<T> q{};
  if constexpr (AVG) q = src.avg_grad(p, c, sum * rcnt) / cnt;
  Vec<T> k{};
#pragma GCC unroll 3
  for (int64_t dy = 0; dy < ny; ++dy)
#pragma GCC unroll 3
    for (int64_t dx = 0; dx < nx; ++dx) {
      T* t = gxs + ((y0 + dy) * d.W + x0 + dx) * C;
      if constexpr (MAX)
        store(t, load(t) + (q + (id == k ? gv : Vec<T>{})), kLanes<T>);
      else
        store(t, load(t) + q, kLanes<T>);
      k += one;
    }
}

// Stride 1: the window of output (oy, ox) over one vector of channels, its gradient added into
// the registers acc[j][dy] of input (y0 + dy, ox - 1 + j) (see pools_bwd_row_s1). J0: the first
// in-bounds column slot, NX: in-bounds columns, NY: in-bounds rows (all fixed per call site, so
// every acc index is a compile-time constant and acc stays in registers). Same taps and argmax
// as pool_window_bwd; the average sums columns first, as pools_fwd_row_s1 (a group holding a NaN,
// whose forward scans row-major, may differ in the average's last bit).
template <typename T, int NY, int J0, int NX, bool NANS, bool MAX, bool AVG, typename Src>
__attribute__((always_inline)) inline void pool_window_bwd_s1(const T* xw, int64_t C, int64_t W,
                                                              const Src& src, int64_t p, int64_t c,
                                                              Vec<T> (&acc)[3][NY]) {
  constexpr T kNegInf = -std::numeric_limits<T>::infinity();
  constexpr bool kSum = AVG && Src::kNeedsSum;
  constexpr T cnt = NY * NX;
  Vec<T> gv{}, sum{}, id{}, m = Vec<T>{} + kNegInf;
  if constexpr (MAX || kSum) {
    Vec<T> col[NX];  // column sums, in pool_column's order
#pragma GCC unroll 3
    for (int dy = 0; dy < NY; ++dy)
#pragma GCC unroll 3
      for (int dx = 0; dx < NX; ++dx) {
        const Vec<T> v = load(xw + (dy * W + dx) * C);
        if constexpr (MAX) {
          const auto take = takes_max<NANS>(v, m);
          m = take ? v : m;
          id = take ? Vec<T>{} + T(dy * NX + dx) : id;  // row-major tap number
        }
        if constexpr (kSum) col[dx] = dy == 0 ? v : col[dx] + v;
      }
    if constexpr (kSum) {
      sum = col[0];
#pragma GCC unroll 3
      for (int dx = 1; dx < NX; ++dx) sum += col[dx];
    }
    if constexpr (MAX) gv = src.max_grad(p, c, m);
  }
  Vec<T> q{};
  if constexpr (AVG) q = src.avg_grad(p, c, sum * (T(1) / cnt)) / cnt;
#pragma GCC unroll 3
  for (int dy = 0; dy < NY; ++dy)
#pragma GCC unroll 3
    for (int dx = 0; dx < NX; ++dx) {
      if constexpr (MAX)
        acc[J0 + dx][dy] += q + (id == (Vec<T>{} + T(dy * NX + dx)) ? gv : Vec<T>{});
      else
        acc[J0 + dx][dy] += q;
    }
}

// pools_bwd at stride 1 for output row oy (windows of NY rows from y0) and one vector of
// channels: the windows are taken left to right with the gradients of the three input columns
// they touch in registers; a column is added into gxs once no later window reaches it (3
// read-modify-writes per window instead of 9, none of them waiting on the previous window's).
template <typename T, int NY, bool NANS, bool MAX, bool AVG, typename Src>
void pools_bwd_row_s1(const T* xs, int64_t C, const Dims& d, const Src& src, int64_t oy, int64_t c,
                      T* gxs) {
  const int64_t W = d.W, y0 = std::max<int64_t>(0, oy - 1);
  const T* xr = xs + y0 * W * C + c;
  T* gr = gxs + y0 * W * C + c;
  const int64_t o = oy * W * C + c;
  Vec<T> acc[3][NY] = {};
  auto shift = [&] {
#pragma GCC unroll 3
    for (int dy = 0; dy < NY; ++dy) {
      acc[0][dy] = acc[1][dy];
      acc[1][dy] = acc[2][dy];
      acc[2][dy] = Vec<T>{};
    }
  };
  auto flush = [&](int64_t col) {  // acc[0] into column col, then shift
#pragma GCC unroll 3
    for (int dy = 0; dy < NY; ++dy) {
      T* t = gr + (dy * W + col) * C;
      store(t, load(t) + acc[0][dy], kLanes<T>);
    }
    shift();
  };
  if (W == 1) {
    pool_window_bwd_s1<T, NY, 1, 1, NANS, MAX, AVG>(xr, C, W, src, o, c, acc);
    shift();
  } else {
    pool_window_bwd_s1<T, NY, 1, 2, NANS, MAX, AVG>(xr, C, W, src, o, c, acc);
    shift();
    for (int64_t ox = 1; ox + 1 < W; ++ox) {
      pool_window_bwd_s1<T, NY, 0, 3, NANS, MAX, AVG>(xr + (ox - 1) * C, C, W, src, o + ox * C, c,
                                                      acc);
      flush(ox - 1);
    }
    pool_window_bwd_s1<T, NY, 0, 2, NANS, MAX, AVG>(xr + (W - 2) * C, C, W, src, o + (W - 1) * C, c,
                                                    acc);
    flush(W - 2);
  }
  flush(W - 1);
}

// gxs += maxpool^T gm + avgpool^T ga (avg: count_include_pad=False), gm and ga from src (see
// PoolDz, PoolBn), in one scatter over each window. The max pool's argmax is recomputed from xs:
// the last NaN, else the first maximum in row-major order, else the window's first in-bounds
// element, as ATen (NANS: xs may hold a NaN, see any_nan).
template <typename T, bool NANS, bool MAX, bool AVG, typename Src>
void pools_bwd(const T* xs, int64_t C, int64_t G, const Dims& d, const Src& src, T* gxs) {
  constexpr int L = kLanes<T>;
  if (d.s == 1) {
    for (int64_t oy = 0; oy < d.Ho; ++oy)
      with_window_rows(d, oy, [&](auto ny) {
        for (int64_t c = 0; c < G; c += L)
          pools_bwd_row_s1<T, decltype(ny)::value, NANS, MAX, AVG>(xs, C, d, src, oy, c, gxs);
      });
    return;
  }
  for (int64_t oy = 0; oy < d.Ho; ++oy)
    for (int64_t ox = 0; ox < d.Wo; ++ox) {
      const Window win(oy, ox, d.s, d.H, d.W);
      const T cnt = static_cast<T>(win.count());
      const T rcnt = T(1) / cnt;
      const int64_t o = (oy * d.Wo + ox) * C;
      const bool full = win.count() == 9;
      for (int64_t c = 0; c < G; c += L) {
        if (full)
          pool_window_bwd<T, true, NANS, MAX, AVG>(xs + c, C, d, win, src, o + c, c, cnt, rcnt,
                                                   gxs + c);
        else
          pool_window_bwd<T, false, NANS, MAX, AVG>(xs + c, C, d, win, src, o + c, c, cnt, rcnt,
                                                    gxs + c);
      }
    }
}

// pools_fwd and pools_bwd with the max of a NaN-free group (the common case) as a plain compare.
template <typename T>
void pools_fwd(const T* xs, int64_t C, int64_t G, const Dims& d, T* mp, T* ap, int64_t ldo) {
  if (mp && any_nan(xs, C, G, d.H * d.W))
    pools_fwd<T, true>(xs, C, G, d, mp, ap, ldo);
  else
    pools_fwd<T, false>(xs, C, G, d, mp, ap, ldo);
}

template <typename T, typename Src>
void pools_bwd(const T* xs, int64_t C, int64_t G, const Dims& d, const Src& src, T* gxs) {
  if (!src.max()) {
    if (src.avg()) pools_bwd<T, false, false, true>(xs, C, G, d, src, gxs);
  } else if (any_nan(xs, C, G, d.H * d.W)) {
    if (src.avg())
      pools_bwd<T, true, true, true>(xs, C, G, d, src, gxs);
    else
      pools_bwd<T, true, true, false>(xs, C, G, d, src, gxs);
  } else {
    if (src.avg())
      pools_bwd<T, false, true, true>(xs, C, G, d, src, gxs);
    else
      pools_bwd<T, false, true, false>(xs, C, G, d, src, gxs);
  }
}

}  // namespace nasfast::darts_edge::cpu::nhwc::NASFAST_CPU_CAPABILITY
NASFAST_CPU_CAPABILITY_END

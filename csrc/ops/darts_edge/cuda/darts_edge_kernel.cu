// CUDA kernels of the fused DARTS edge (torch-free). Straightforward one-thread-per-output
// gathers (no atomics, so results are deterministic) and one-block-per-channel reductions in
// double. Semantics follow cpu/darts_edge_cpu_kernels.inc exactly.
#include <cmath>

#include "ops/darts_edge/cuda/darts_edge_kernel.h"

namespace nasfast::darts_edge::cuda {
namespace {

constexpr int kThreads = 256;
struct Spec4 {
  int k[4], p[4], d[4];
};
__constant__ Spec4 kSpec = {{3, 5, 3, 5}, {1, 2, 2, 4}, {1, 1, 2, 2}};

template <typename T>
struct Ptr4 {
  const T* p[4];
};
template <typename T>
struct MPtr4 {
  T* p[4];
};
template <typename T>
struct Mix {
  const T* z[kMaxMix];
  const T* mean[kMaxMix];
  const T* invstd[kMaxMix];
  T w[kMaxMix];
  int K;
};

inline unsigned blocks(int64_t n) { return static_cast<unsigned>((n + kThreads - 1) / kThreads); }

template <typename T>
__device__ T relu(T v) {
  return v > T(0) ? v : T(0);
}

__device__ double block_sum(double v, double* sh) {
  sh[threadIdx.x] = v;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) sh[threadIdx.x] += sh[threadIdx.x + s];
    __syncthreads();
  }
  const double r = sh[0];
  __syncthreads();
  return r;
}

template <typename T>
__global__ void stage1_forward_k(const T* x, Dims d, Ptr4<T> w, MPtr4<T> out, T* maxp, T* avgp,
                                 T* fr0, T* fr1) {
  const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  const int64_t total = d.N * d.C * d.Ho * d.Wo;
  if (i >= total) return;
  const int64_t ox = i % d.Wo, oy = (i / d.Wo) % d.Ho, pl = i / (d.Wo * d.Ho), c = pl % d.C;
  const T* xp = x + pl * d.H * d.W;
  for (int b = 0; b < 4; ++b) {
    if (!out.p[b]) continue;
    const int k = kSpec.k[b], p = kSpec.p[b], dl = kSpec.d[b];
    T acc = T(0);
    for (int ki = 0; ki < k; ++ki) {
      const int64_t iy = oy * d.s - p + ki * dl;
      if (iy < 0 || iy >= d.H) continue;
      for (int kj = 0; kj < k; ++kj) {
        const int64_t ix = ox * d.s - p + kj * dl;
        if (ix < 0 || ix >= d.W) continue;
        acc += w.p[b][c * k * k + ki * k + kj] * relu(xp[iy * d.W + ix]);
      }
    }
    out.p[b][i] = acc;
  }
  if (maxp || avgp) {
    T m = -INFINITY, sum = T(0);
    int cnt = 0;
    for (int64_t iy = max(oy * d.s - 1, int64_t(0)); iy < min(oy * d.s + 2, d.H); ++iy)
      for (int64_t ix = max(ox * d.s - 1, int64_t(0)); ix < min(ox * d.s + 2, d.W); ++ix) {
        const T v = xp[iy * d.W + ix];
        if (v > m || v != v) m = v;
        sum += v;
        ++cnt;
      }
    if (maxp) maxp[i] = m;
    if (avgp) avgp[i] = sum / T(cnt);
  }
  if (fr0) {
    fr0[i] = relu(xp[(2 * oy) * d.W + 2 * ox]);
    fr1[i] = relu(xp[(2 * oy + 1) * d.W + 2 * ox + 1]);
  }
}

template <typename T>
__global__ void bn_stats_k(const T* z, int64_t N, int64_t C, int64_t HW, double eps, T* mean,
                           T* invstd, T* var_unbiased) {
  __shared__ double sh[kThreads];
  const int64_t c = blockIdx.x;
  const double M = double(N * HW);
  double s = 0;
  for (int64_t j = threadIdx.x; j < N * HW; j += blockDim.x)
    s += double(z[((j / HW) * C + c) * HW + j % HW]);
  const double m = block_sum(s, sh) / M;
  double v = 0;
  for (int64_t j = threadIdx.x; j < N * HW; j += blockDim.x) {
    const double t = double(z[((j / HW) * C + c) * HW + j % HW]) - m;
    v += t * t;
  }
  const double vs = block_sum(v, sh);
  if (threadIdx.x == 0) {
    mean[c] = T(m);
    invstd[c] = T(1.0 / sqrt(vs / M + eps));
    var_unbiased[c] = T(M > 1 ? vs / (M - 1) : NAN);
  }
}

template <typename T>
__global__ void bn_relu_dw_forward_k(const T* z, const T* mean, const T* invstd, int64_t N,
                                     int64_t C, int64_t H, int64_t W, const T* w, DwSpec sp,
                                     T* out) {
  const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= N * C * H * W) return;
  const int64_t ox = i % W, oy = (i / W) % H, pl = i / (H * W), c = pl % C;
  const T m = mean[c], is = invstd[c];
  T acc = T(0);
  for (int ki = 0; ki < sp.k; ++ki) {
    const int64_t iy = oy - sp.p + ki * sp.d;
    if (iy < 0 || iy >= H) continue;
    for (int kj = 0; kj < sp.k; ++kj) {
      const int64_t ix = ox - sp.p + kj * sp.d;
      if (ix < 0 || ix >= W) continue;
      acc += w[c * sp.k * sp.k + ki * sp.k + kj] * relu((z[pl * H * W + iy * W + ix] - m) * is);
    }
  }
  out[i] = acc;
}

template <typename T>
__global__ void mix_forward_k(Mix<T> mx, int64_t N, int64_t C, int64_t HW, T* out) {
  const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= N * C * HW) return;
  const int64_t c = (i / HW) % C;
  T acc = T(0);
  for (int k = 0; k < mx.K; ++k) {
    const T v = mx.z[k][i];
    acc += mx.mean[k] ? mx.w[k] * ((v - mx.mean[k][c]) * mx.invstd[k][c]) : mx.w[k] * v;
  }
  out[i] = acc;
}

template <typename T>
__global__ void bn_backward_k(const T* g, const T* z, const T* mean, const T* invstd, T scale,
                              bool relu_mask, bool training, int64_t N, int64_t C, int64_t HW,
                              T* dz, double* sum_gy) {
  __shared__ double sh[kThreads];
  const int64_t c = blockIdx.x;
  const T m = mean[c], is = invstd[c];
  const double M = double(N * HW);
  double a = 0, b = 0;
  if (training || sum_gy) {
    for (int64_t j = threadIdx.x; j < N * HW; j += blockDim.x) {
      const int64_t idx = ((j / HW) * C + c) * HW + j % HW;
      const T y = (z[idx] - m) * is;
      const T gg = (!relu_mask || y > T(0)) ? g[idx] : T(0);
      a += double(gg);
      b += double(gg) * double(y);
    }
  }
  const double sg = block_sum(a, sh), sgy = block_sum(b, sh);
  if (sum_gy && threadIdx.x == 0) sum_gy[c] = sgy;
  if (!dz) return;
  const T k = scale * is;
  const T mg = training ? T(sg / M) : T(0), mgy = training ? T(sgy / M) : T(0);
  for (int64_t j = threadIdx.x; j < N * HW; j += blockDim.x) {
    const int64_t idx = ((j / HW) * C + c) * HW + j % HW;
    const T y = (z[idx] - m) * is;
    const T gg = (!relu_mask || y > T(0)) ? g[idx] : T(0);
    dz[idx] = k * (gg - mg - y * mgy);
  }
}

// grad w.r.t. the relu output of bn_relu_dw_forward (stride 1), gathered per input element.
template <typename T>
__global__ void bn_relu_dw_bwd_input_k(const T* gout, int64_t N, int64_t C, int64_t H, int64_t W,
                                       const T* w, DwSpec sp, T* ga) {
  const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= N * C * H * W) return;
  const int64_t ix = i % W, iy = (i / W) % H, pl = i / (H * W), c = pl % C;
  T acc = T(0);
  for (int ki = 0; ki < sp.k; ++ki) {
    const int64_t oy = iy + sp.p - ki * sp.d;
    if (oy < 0 || oy >= H) continue;
    for (int kj = 0; kj < sp.k; ++kj) {
      const int64_t ox = ix + sp.p - kj * sp.d;
      if (ox < 0 || ox >= W) continue;
      acc += w[c * sp.k * sp.k + ki * sp.k + kj] * gout[pl * H * W + oy * W + ox];
    }
  }
  ga[i] = acc;
}

// One block per (channel, tap): dw = sum gout * relu((z - mean) * invstd) at the tap's offset.
template <typename T>
__global__ void bn_relu_dw_bwd_weight_k(const T* gout, const T* z, const T* mean,
                                        const T* invstd, int64_t N, int64_t C, int64_t H,
                                        int64_t W, DwSpec sp, T* dw) {
  __shared__ double sh[kThreads];
  const int kk = sp.k * sp.k;
  const int64_t c = blockIdx.x / kk;
  const int t = blockIdx.x % kk, ki = t / sp.k, kj = t % sp.k;
  const T m = mean[c], is = invstd[c];
  double a = 0;
  for (int64_t j = threadIdx.x; j < N * H * W; j += blockDim.x) {
    const int64_t n = j / (H * W), oy = (j / W) % H, ox = j % W;
    const int64_t iy = oy - sp.p + ki * sp.d, ix = ox - sp.p + kj * sp.d;
    if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
    const int64_t pl = n * C + c;
    a += double(gout[pl * H * W + oy * W + ox]) *
         double(relu((z[pl * H * W + iy * W + ix] - m) * is));
  }
  const double s = block_sum(a, sh);
  if (threadIdx.x == 0) dw[c * kk + t] = T(s);
}

template <typename T>
__global__ void stage1_bwd_input_k(const T* x, Dims d, Ptr4<T> w, Ptr4<T> g, const T* g_max,
                                   const T* g_avg, const T* g_fr0, const T* g_fr1,
                                   const T* g_skip, T skip_w, T* gx) {
  const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= d.N * d.C * d.H * d.W) return;
  const int64_t ix = i % d.W, iy = (i / d.W) % d.H, pl = i / (d.H * d.W), c = pl % d.C;
  const int64_t HWo = d.Ho * d.Wo;
  const T* xp = x + pl * d.H * d.W;
  T gr = T(0);
  for (int b = 0; b < 4; ++b) {
    if (!g.p[b]) continue;
    const int k = kSpec.k[b], p = kSpec.p[b], dl = kSpec.d[b];
    for (int ki = 0; ki < k; ++ki) {
      const int64_t ny = iy + p - ki * dl;
      if (ny < 0 || ny % d.s) continue;
      const int64_t oy = ny / d.s;
      if (oy >= d.Ho) continue;
      for (int kj = 0; kj < k; ++kj) {
        const int64_t nx = ix + p - kj * dl;
        if (nx < 0 || nx % d.s) continue;
        const int64_t ox = nx / d.s;
        if (ox >= d.Wo) continue;
        gr += w.p[b][c * k * k + ki * k + kj] * g.p[b][pl * HWo + oy * d.Wo + ox];
      }
    }
  }
  if (g_fr0) {
    if (iy % 2 == 0 && ix % 2 == 0) gr += g_fr0[pl * HWo + (iy / 2) * d.Wo + ix / 2];
    if (iy % 2 == 1 && ix % 2 == 1) gr += g_fr1[pl * HWo + (iy / 2) * d.Wo + ix / 2];
  }
  T out = xp[iy * d.W + ix] > T(0) ? gr : T(0);
  if (g_max || g_avg) {
    // every pool window containing (iy, ix): oy * s - 1 <= iy <= oy * s + 1
    for (int64_t oy = max((iy - 1 + d.s - 1) / d.s, int64_t(0)); oy <= min((iy + 1) / d.s, d.Ho - 1);
         ++oy) {
      for (int64_t ox = max((ix - 1 + d.s - 1) / d.s, int64_t(0));
           ox <= min((ix + 1) / d.s, d.Wo - 1); ++ox) {
        const int64_t y0 = max(oy * d.s - 1, int64_t(0)), y1 = min(oy * d.s + 2, d.H);
        const int64_t x0 = max(ox * d.s - 1, int64_t(0)), x1 = min(ox * d.s + 2, d.W);
        if (g_max) {
          T m = -INFINITY;
          int64_t arg = y0 * d.W + x0;
          for (int64_t yy = y0; yy < y1; ++yy)
            for (int64_t xx = x0; xx < x1; ++xx) {
              const T v = xp[yy * d.W + xx];
              if (v > m || v != v) {
                m = v;
                arg = yy * d.W + xx;
              }
            }
          if (arg == iy * d.W + ix) out += g_max[pl * HWo + oy * d.Wo + ox];
        }
        if (g_avg) out += g_avg[pl * HWo + oy * d.Wo + ox] / T((y1 - y0) * (x1 - x0));
      }
    }
  }
  if (g_skip) out += skip_w * g_skip[i];
  gx[i] = out;
}

// One block per (branch, channel, tap).
template <typename T>
__global__ void stage1_bwd_weight_k(const T* x, Dims d, int b, Ptr4<T> g, MPtr4<T> dwg) {
  __shared__ double sh[kThreads];
  const int k = kSpec.k[b], p = kSpec.p[b], dl = kSpec.d[b], kk = k * k;
  const int64_t c = blockIdx.x / kk;
  const int t = blockIdx.x % kk, ki = t / k, kj = t % k;
  double a = 0;
  for (int64_t j = threadIdx.x; j < d.N * d.Ho * d.Wo; j += blockDim.x) {
    const int64_t n = j / (d.Ho * d.Wo), oy = (j / d.Wo) % d.Ho, ox = j % d.Wo;
    const int64_t iy = oy * d.s - p + ki * dl, ix = ox * d.s - p + kj * dl;
    if (iy < 0 || iy >= d.H || ix < 0 || ix >= d.W) continue;
    const int64_t pl = n * d.C + c;
    a += double(g.p[b][pl * d.Ho * d.Wo + oy * d.Wo + ox]) *
         double(relu(x[pl * d.H * d.W + iy * d.W + ix]));
  }
  const double s = block_sum(a, sh);
  if (threadIdx.x == 0) dwg.p[b][c * kk + t] = T(s);
}

template <typename T>
__global__ void pointwise_k(const T* w, int64_t ws_co, int64_t ws_ci, const T* in,
                            int64_t in_bstride, int64_t N, int64_t Co, int64_t Ci, int64_t P,
                            T* out, int64_t out_bstride) {
  const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= N * Co * P) return;
  const int64_t p = i % P, co = (i / P) % Co, n = i / (P * Co);
  T acc = T(0);
  for (int64_t ci = 0; ci < Ci; ++ci) acc += w[co * ws_co + ci * ws_ci] * in[n * in_bstride + ci * P + p];
  out[n * out_bstride + co * P + p] = acc;
}

template <typename T>
__global__ void pointwise_grad_w_k(const T* dz, int64_t dz_bstride, const T* in,
                                   int64_t in_bstride, int64_t N, int64_t Co, int64_t Ci,
                                   int64_t P, T* dw) {
  __shared__ double sh[kThreads];
  const int64_t co = blockIdx.x / Ci, ci = blockIdx.x % Ci;
  double a = 0;
  for (int64_t j = threadIdx.x; j < N * P; j += blockDim.x) {
    const int64_t n = j / P, p = j % P;
    a += double(dz[n * dz_bstride + co * P + p]) * double(in[n * in_bstride + ci * P + p]);
  }
  const double s = block_sum(a, sh);
  if (threadIdx.x == 0) dw[co * Ci + ci] = T(s);
}

template <typename T>
__global__ void dot_k(const T* a, const T* b, int64_t n, double* out) {
  __shared__ double sh[kThreads];
  double s = 0;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) s += double(a[j]) * double(b[j]);
  const double r = block_sum(s, sh);
  if (threadIdx.x == 0) *out = r;
}

}  // namespace

template <typename T>
cudaError_t stage1_forward(const T* x, const Dims& d, const T* const* dw_w, T* const* dw_out,
                           T* maxp, T* avgp, T* fr0, T* fr1, cudaStream_t st) {
  Ptr4<T> w{};
  MPtr4<T> o{};
  for (int b = 0; b < 4; ++b) {
    w.p[b] = dw_w[b];
    o.p[b] = dw_out[b];
  }
  const int64_t n = d.N * d.C * d.Ho * d.Wo;
  stage1_forward_k<T><<<blocks(n), kThreads, 0, st>>>(x, d, w, o, maxp, avgp, fr0, fr1);
  return cudaGetLastError();
}

template <typename T>
cudaError_t bn_stats(const T* z, int64_t N, int64_t C, int64_t HW, double eps, T* mean,
                     T* invstd, T* var_unbiased, cudaStream_t st) {
  bn_stats_k<T><<<static_cast<unsigned>(C), kThreads, 0, st>>>(z, N, C, HW, eps, mean, invstd,
                                                                var_unbiased);
  return cudaGetLastError();
}

template <typename T>
cudaError_t bn_relu_dw_forward(const T* z, const T* mean, const T* invstd, int64_t N, int64_t C,
                               int64_t H, int64_t W, const T* w, DwSpec spec, T* out,
                               cudaStream_t st) {
  bn_relu_dw_forward_k<T><<<blocks(N * C * H * W), kThreads, 0, st>>>(z, mean, invstd, N, C, H,
                                                                       W, w, spec, out);
  return cudaGetLastError();
}

template <typename T>
cudaError_t mix_forward(const T* const* z, const T* const* mean, const T* const* invstd,
                        const T* wk, int K, int64_t N, int64_t C, int64_t HW, T* out,
                        cudaStream_t st) {
  if (K > kMaxMix) return cudaErrorInvalidValue;
  Mix<T> mx{};
  mx.K = K;
  for (int k = 0; k < K; ++k) {
    mx.z[k] = z[k];
    mx.mean[k] = mean[k];
    mx.invstd[k] = invstd[k];
    mx.w[k] = wk[k];
  }
  mix_forward_k<T><<<blocks(N * C * HW), kThreads, 0, st>>>(mx, N, C, HW, out);
  return cudaGetLastError();
}

template <typename T>
cudaError_t bn_backward(const T* g, const T* z, const T* mean, const T* invstd, T scale,
                        bool relu_mask, bool training, int64_t N, int64_t C, int64_t HW, T* dz,
                        double* sum_gy, cudaStream_t st) {
  bn_backward_k<T><<<static_cast<unsigned>(C), kThreads, 0, st>>>(
      g, z, mean, invstd, scale, relu_mask, training, N, C, HW, dz, sum_gy);
  return cudaGetLastError();
}

template <typename T>
cudaError_t bn_relu_dw_backward(const T* gout, const T* z, const T* mean, const T* invstd,
                                int64_t N, int64_t C, int64_t H, int64_t W, const T* w,
                                DwSpec spec, T* ga, T* dw, cudaStream_t st) {
  bn_relu_dw_bwd_input_k<T><<<blocks(N * C * H * W), kThreads, 0, st>>>(gout, N, C, H, W, w,
                                                                         spec, ga);
  if (dw)
    bn_relu_dw_bwd_weight_k<T><<<static_cast<unsigned>(C * spec.k * spec.k), kThreads, 0, st>>>(
        gout, z, mean, invstd, N, C, H, W, spec, dw);
  return cudaGetLastError();
}

template <typename T>
cudaError_t stage1_backward(const T* x, const Dims& d, const T* const* dw_w, const T* const* g_dw,
                            const T* g_max, const T* g_avg, const T* g_fr0, const T* g_fr1,
                            const T* g_skip, T skip_w, T* gx, T* const* dw_grad, cudaStream_t st) {
  Ptr4<T> w{}, g{};
  MPtr4<T> dg{};
  for (int b = 0; b < 4; ++b) {
    w.p[b] = dw_w[b];
    g.p[b] = g_dw[b];
    dg.p[b] = dw_grad[b];
  }
  stage1_bwd_input_k<T><<<blocks(d.N * d.C * d.H * d.W), kThreads, 0, st>>>(
      x, d, w, g, g_max, g_avg, g_fr0, g_fr1, g_skip, skip_w, gx);
  static constexpr int kK[4] = {3, 5, 3, 5};
  for (int b = 0; b < 4; ++b) {
    if (!g_dw[b] || !dw_grad[b]) continue;
    stage1_bwd_weight_k<T><<<static_cast<unsigned>(d.C * kK[b] * kK[b]), kThreads, 0, st>>>(
        x, d, b, g, dg);
  }
  return cudaGetLastError();
}

template <typename T>
cudaError_t pointwise(const T* w, int64_t ws_co, int64_t ws_ci, const T* in, int64_t in_bstride,
                      int64_t N, int64_t Co, int64_t Ci, int64_t P, T* out, int64_t out_bstride,
                      cudaStream_t st) {
  pointwise_k<T><<<blocks(N * Co * P), kThreads, 0, st>>>(w, ws_co, ws_ci, in, in_bstride, N, Co,
                                                           Ci, P, out, out_bstride);
  return cudaGetLastError();
}

template <typename T>
cudaError_t pointwise_grad_w(const T* dz, int64_t dz_bstride, const T* in, int64_t in_bstride,
                             int64_t N, int64_t Co, int64_t Ci, int64_t P, T* dw, cudaStream_t st) {
  pointwise_grad_w_k<T><<<static_cast<unsigned>(Co * Ci), kThreads, 0, st>>>(
      dz, dz_bstride, in, in_bstride, N, Co, Ci, P, dw);
  return cudaGetLastError();
}

template <typename T>
cudaError_t dot(const T* a, const T* b, int64_t n, double* out, cudaStream_t st) {
  dot_k<T><<<1, kThreads, 0, st>>>(a, b, n, out);
  return cudaGetLastError();
}

#define NASFAST_DARTS_EDGE_CUDA_INSTANTIATE(T)                                                   \
  template cudaError_t stage1_forward<T>(const T*, const Dims&, const T* const*, T* const*, T*,  \
                                         T*, T*, T*, cudaStream_t);                              \
  template cudaError_t bn_stats<T>(const T*, int64_t, int64_t, int64_t, double, T*, T*, T*,      \
                                   cudaStream_t);                                                \
  template cudaError_t bn_relu_dw_forward<T>(const T*, const T*, const T*, int64_t, int64_t,     \
                                             int64_t, int64_t, const T*, DwSpec, T*,             \
                                             cudaStream_t);                                      \
  template cudaError_t mix_forward<T>(const T* const*, const T* const*, const T* const*,         \
                                      const T*, int, int64_t, int64_t, int64_t, T*,              \
                                      cudaStream_t);                                             \
  template cudaError_t bn_backward<T>(const T*, const T*, const T*, const T*, T, bool, bool,     \
                                      int64_t, int64_t, int64_t, T*, double*, cudaStream_t);     \
  template cudaError_t bn_relu_dw_backward<T>(const T*, const T*, const T*, const T*, int64_t,   \
                                              int64_t, int64_t, int64_t, const T*, DwSpec, T*,   \
                                              T*, cudaStream_t);                                 \
  template cudaError_t stage1_backward<T>(const T*, const Dims&, const T* const*,                \
                                          const T* const*, const T*, const T*, const T*,         \
                                          const T*, const T*, T, T*, T* const*, cudaStream_t);   \
  template cudaError_t pointwise<T>(const T*, int64_t, int64_t, const T*, int64_t, int64_t,      \
                                    int64_t, int64_t, int64_t, T*, int64_t, cudaStream_t);       \
  template cudaError_t pointwise_grad_w<T>(const T*, int64_t, const T*, int64_t, int64_t,        \
                                           int64_t, int64_t, int64_t, T*, cudaStream_t);         \
  template cudaError_t dot<T>(const T*, const T*, int64_t, double*, cudaStream_t);

NASFAST_DARTS_EDGE_CUDA_INSTANTIATE(float)
NASFAST_DARTS_EDGE_CUDA_INSTANTIATE(double)

}  // namespace nasfast::darts_edge::cuda

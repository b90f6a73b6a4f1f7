// CUDA kernels of the fused DARTS edge (torch-free). One-thread-per-output gathers, and
// per-channel reductions split over (channel, sample chunk) blocks whose double partial sums a
// second small kernel adds in a fixed order: no atomics, so results are deterministic.
// Semantics follow cpu/darts_edge_nchw_kernels.cpp exactly.
#include <algorithm>
#include <cmath>
#include <cstdint>

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
  const T* wp[kMaxMix];  // device weight, or null: use w
  T w[kMaxMix];
  int K;
};
constexpr int kMaxRunning = 16;
template <typename T>
struct Running {
  T* mean[kMaxRunning];
  T* var[kMaxRunning];
  int64_t* count[kMaxRunning];
  int64_t slot[kMaxRunning];
};

template <typename T>
struct StatsBatch {
  const T* z[kMaxBatch];
  T* mean[kMaxBatch];
  T* invstd[kMaxBatch];
  T* var[kMaxBatch];
};
template <typename T>
struct BnBackwardBatch {
  BnBackwardItem<T> item[kMaxBatch];
};

inline unsigned blocks(int64_t n) { return static_cast<unsigned>((n + kThreads - 1) / kThreads); }

// A per-group reduction over samples (group: a channel, or a channel and a tap) runs on a grid of
// (groups, S) blocks; block (g, s) takes samples [s * n_per, (s + 1) * n_per). S is chosen so the
// grid has about kTargetBlocks blocks (4 per SM of an H100) and every chunk holds one sample or
// more. Flat indices inside a chunk are 32-bit (checked by the launchers).
constexpr int64_t kTargetBlocks = 528;
struct Split {
  int64_t n_per;
  unsigned S;
};
inline Split split_for(int64_t groups, int64_t N) {
  const int64_t want = std::max<int64_t>(1, (kTargetBlocks + groups - 1) / groups);
  const int64_t n_per = (N + std::min(N, want) - 1) / std::min(N, want);
  return {n_per, static_cast<unsigned>((N + n_per - 1) / n_per)};
}
inline bool chunk_fits(const Split& sp, int64_t per_sample) {
  return sp.n_per * per_sample < (int64_t(1) << 31);
}

void* async_alloc(size_t bytes, cudaStream_t st) {
  void* p = nullptr;
  return cudaMallocAsync(&p, bytes, st) == cudaSuccess ? p : nullptr;
}
void async_free(void* p, cudaStream_t st) { cudaFreeAsync(p, st); }
ScratchAllocator g_scratch{async_alloc, async_free};

// Scratch for the partial sums, from the allocator set by set_scratch_allocator (none for n = 0).
struct Scratch {
  double* p = nullptr;
  cudaStream_t st;
  cudaError_t err = cudaSuccess;
  Scratch(int64_t n, cudaStream_t s) : st(s) {
    if (n == 0) return;
    p = static_cast<double*>(g_scratch.alloc(size_t(n) * sizeof(double), st));
    if (!p) err = cudaErrorMemoryAllocation;
  }
  ~Scratch() {
    if (p) g_scratch.free(p, st);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
};

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

// out[g] = sum over s of part[g * S + s], in order.
template <typename T>
__global__ void sum_parts_k(const double* part, int64_t G, unsigned S, T* out) {
  const int64_t g = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (g >= G) return;
  double a = 0;
  for (unsigned s = 0; s < S; ++s) a += part[g * S + s];
  out[g] = T(a);
}

// Element e of the chunk of samples starting at n0, in channel c's planes of HW elements.
__device__ inline int64_t chunk_index(uint32_t e, uint32_t HW, int64_t n0, int64_t C, int64_t c) {
  const uint32_t dn = e / HW;
  return ((n0 + dn) * C + c) * int64_t(HW) + (e - dn * HW);
}

// One thread per output pixel (stride S: 1 or 2); in-plane coordinates are 32-bit.
template <typename T, int S>
__global__ void stage1_forward_k(const T* x, Dims d, Ptr4<T> w, MPtr4<T> out, T* maxp, T* avgp,
                                 T* fr0, T* fr1) {
  const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  const int H = int(d.H), W = int(d.W), Ho = int(d.Ho), Wo = int(d.Wo);
  const int64_t pl = i / (int64_t(Ho) * Wo);
  if (pl >= d.N * d.C) return;
  const int r = int(i - pl * Ho * Wo), oy = r / Wo, ox = r - oy * Wo;
  const int c = int(pl % d.C);
  const T* xp = x + pl * H * W;
#pragma unroll
  for (int b = 0; b < 4; ++b) {
    if (!out.p[b]) continue;
    const int k = kSpec.k[b], p = kSpec.p[b], dl = kSpec.d[b];
    const T* wb = w.p[b] + c * k * k;
    T acc = T(0);
    for (int ki = 0; ki < k; ++ki) {
      const int iy = oy * S - p + ki * dl;
      if (iy < 0 || iy >= H) continue;
      for (int kj = 0; kj < k; ++kj) {
        const int ix = ox * S - p + kj * dl;
        if (ix < 0 || ix >= W) continue;
        acc += wb[ki * k + kj] * relu(xp[iy * W + ix]);
      }
    }
    out.p[b][i] = acc;
  }
  if (maxp || avgp) {
    T m = -INFINITY, sum = T(0);
    int cnt = 0;
    for (int iy = max(oy * S - 1, 0); iy < min(oy * S + 2, H); ++iy)
      for (int ix = max(ox * S - 1, 0); ix < min(ox * S + 2, W); ++ix) {
        const T v = xp[iy * W + ix];
        if (v > m || v != v) m = v;
        sum += v;
        ++cnt;
      }
    if (maxp) maxp[i] = m;
    if (avgp) avgp[i] = sum / T(cnt);
  }
  if (fr0) {
    fr0[i] = relu(xp[(2 * oy) * W + 2 * ox]);
    fr1[i] = relu(xp[(2 * oy + 1) * W + 2 * ox + 1]);
  }
}

// Block (c, s, j): item j's chunk mean and sum of squared deviations about it (two passes; the
// second reads the chunk from cache), to part[((j * C + c) * S + s) * 2 + {0, 1}].
template <typename T>
__global__ void bn_stats_part_k(StatsBatch<T> b, int64_t N, int64_t C, uint32_t HW, int64_t n_per,
                                double* part) {
  __shared__ double sh[kThreads];
  const T* z = b.z[blockIdx.z];
  const int64_t c = blockIdx.x, n0 = blockIdx.y * n_per;
  const uint32_t cnt = uint32_t(min(n_per, N - n0)) * HW;
  double s = 0;
  for (uint32_t e = threadIdx.x; e < cnt; e += blockDim.x)
    s += double(z[chunk_index(e, HW, n0, C, c)]);
  const double m = block_sum(s, sh) / double(cnt);
  double v = 0;
  for (uint32_t e = threadIdx.x; e < cnt; e += blockDim.x) {
    const double t = double(z[chunk_index(e, HW, n0, C, c)]) - m;
    v += t * t;
  }
  const double m2 = block_sum(v, sh);
  if (threadIdx.x == 0) {
    const int64_t at = ((blockIdx.z * C + c) * gridDim.y + blockIdx.y) * 2;
    part[at] = m;
    part[at + 1] = m2;
  }
}

// One thread per (item, channel): Chan et al.'s pairwise combination of the chunk moments, in
// order.
template <typename T>
__global__ void bn_stats_final_k(StatsBatch<T> b, int n, const double* part, int64_t N, int64_t C,
                                 int64_t HW, int64_t n_per, unsigned S, double eps) {
  const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= n * C) return;
  const int j = int(i / C);
  const int64_t c = i - j * C;
  const double* pc = part + i * S * 2;
  double cnt = 0, m = 0, m2 = 0;
  for (unsigned s = 0; s < S; ++s) {
    const double nb = double(min(n_per, N - int64_t(s) * n_per) * HW);
    const double mb = pc[s * 2], m2b = pc[s * 2 + 1];
    const double tot = cnt + nb, delta = mb - m;
    m += delta * nb / tot;
    m2 += m2b + delta * delta * cnt * nb / tot;
    cnt = tot;
  }
  b.mean[j][c] = T(m);
  b.invstd[j][c] = T(1.0 / sqrt(m2 / cnt + eps));
  b.var[j][c] = T(cnt > 1 ? m2 / (cnt - 1) : NAN);
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
    const T wk = mx.wp[k] ? *mx.wp[k] : mx.w[k];
    acc += mx.mean[k] ? wk * ((v - mx.mean[k][c]) * mx.invstd[k][c]) : wk * v;
  }
  out[i] = acc;
}

// Block (c, s, j): sum of gg and of gg * y over the chunk for item j, gg = g masked by y > 0 when
// relu_mask, to part[((j * C + c) * S + s) * 2 + {0, 1}].
template <typename T>
__global__ void bn_backward_part_k(const T* g, BnBackwardBatch<T> bb, bool relu_mask, int64_t N,
                                   int64_t C, uint32_t HW, int64_t n_per, double* part) {
  __shared__ double sh[kThreads];
  const BnBackwardItem<T> it = bb.item[blockIdx.z];  // a copy: registers, not a parameter address
  const int64_t c = blockIdx.x, n0 = blockIdx.y * n_per;
  const uint32_t cnt = uint32_t(min(n_per, N - n0)) * HW;
  const T m = it.mean ? it.mean[c] : T(0), is = it.invstd ? it.invstd[c] : T(1);
  double a = 0, b = 0;
  for (uint32_t e = threadIdx.x; e < cnt; e += blockDim.x) {
    const int64_t idx = chunk_index(e, HW, n0, C, c);
    const T y = (it.z[idx] - m) * is;
    const T gg = (!relu_mask || y > T(0)) ? g[idx] : T(0);
    a += double(gg);
    b += double(gg) * double(y);
  }
  const double sa = block_sum(a, sh), sb = block_sum(b, sh);
  if (threadIdx.x == 0) {
    const int64_t at = ((blockIdx.z * C + c) * gridDim.y + blockIdx.y) * 2;
    part[at] = sa;
    part[at + 1] = sb;
  }
}

// Item j's dz = scale * invstd * (gg - mean(gg) - y * mean(gg * y)) (train), scale * invstd * gg
// (eval). With part (bn_backward_part_k's sums), every block first adds its channel's S partial
// sums in a fixed tree order (the same in every block, so no separate launch totals them); block
// (c, 0, j) writes the item's sum_gy[c] when asked. Items without dz stop there.
template <typename T>
__global__ void bn_backward_dz_k(const T* g, BnBackwardBatch<T> bb, bool relu_mask, bool training,
                                 int64_t N, int64_t C, uint32_t HW, int64_t n_per,
                                 const double* part) {
  __shared__ double sh[kThreads];
  const BnBackwardItem<T> it = bb.item[blockIdx.z];  // a copy: registers, not a parameter address
  const int64_t c = blockIdx.x, n0 = blockIdx.y * n_per;
  const uint32_t cnt = uint32_t(min(n_per, N - n0)) * HW;
  double sa = 0, sb = 0;
  if (part) {
    const unsigned S = gridDim.y;
    const double* pc = part + (blockIdx.z * C + c) * S * 2;
    double a = 0, b = 0;
    for (unsigned s = threadIdx.x; s < S; s += blockDim.x) {
      a += pc[s * 2];
      b += pc[s * 2 + 1];
    }
    sa = block_sum(a, sh);
    sb = block_sum(b, sh);
    if (it.sum_gy && blockIdx.y == 0 && threadIdx.x == 0) it.sum_gy[c] = sb;
  }
  if (!it.dz) return;
  const T m = it.mean ? it.mean[c] : T(0), is = it.invstd ? it.invstd[c] : T(1);
  const double M = double(N) * double(HW);
  const T k = (it.scale_ptr ? *it.scale_ptr : it.scale) * is;
  const T mg = training ? T(sa / M) : T(0), mgy = training ? T(sb / M) : T(0);
  for (uint32_t e = threadIdx.x; e < cnt; e += blockDim.x) {
    const int64_t idx = chunk_index(e, HW, n0, C, c);
    const T y = (it.z[idx] - m) * is;
    const T gg = (!relu_mask || y > T(0)) ? g[idx] : T(0);
    it.dz[idx] = k * (gg - mg - y * mgy);
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

// Block (c * kk + tap, s): the chunk's part of dw = sum gout * relu((z - mean) * invstd) at the
// tap's offset, to part[(c * kk + tap) * S + s].
template <typename T>
__global__ void bn_relu_dw_bwd_weight_part_k(const T* gout, const T* z, const T* mean,
                                             const T* invstd, int64_t N, int64_t C, int H, int W,
                                             DwSpec sp, int64_t n_per, double* part) {
  __shared__ double sh[kThreads];
  const int kk = sp.k * sp.k;
  const int64_t c = blockIdx.x / kk, n0 = blockIdx.y * n_per;
  const int t = blockIdx.x % kk, ki = t / sp.k, kj = t % sp.k;
  const T m = mean[c], is = invstd[c];
  const uint32_t HW = uint32_t(H) * uint32_t(W);
  const uint32_t cnt = uint32_t(min(n_per, N - n0)) * HW;
  double a = 0;
  for (uint32_t e = threadIdx.x; e < cnt; e += blockDim.x) {
    const uint32_t dn = e / HW, r = e - dn * HW;
    const int oy = int(r / uint32_t(W)), ox = int(r - uint32_t(oy) * uint32_t(W));
    const int iy = oy - sp.p + ki * sp.d, ix = ox - sp.p + kj * sp.d;
    if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
    const int64_t plane = ((n0 + dn) * C + c) * int64_t(HW);
    a += double(gout[plane + r]) * double(relu((z[plane + iy * W + ix] - m) * is));
  }
  const double s = block_sum(a, sh);
  if (threadIdx.x == 0) part[int64_t(blockIdx.x) * gridDim.y + blockIdx.y] = s;
}

// One thread per input pixel (stride S: 1 or 2): the gradient gathered from every branch.
template <typename T, int S>
__global__ void stage1_bwd_input_k(const T* x, Dims d, Ptr4<T> w, Ptr4<T> g, const T* g_max,
                                   const T* g_avg, const T* g_fr0, const T* g_fr1, const T* g_skip,
                                   T skip_w, const T* skip_w_ptr, T* gx) {
  const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  const int H = int(d.H), W = int(d.W), Ho = int(d.Ho), Wo = int(d.Wo);
  const int64_t pl = i / (int64_t(H) * W);
  if (pl >= d.N * d.C) return;
  const int r = int(i - pl * H * W), iy = r / W, ix = r - iy * W;
  const int c = int(pl % d.C);
  const int64_t go = pl * int64_t(Ho) * Wo;
  const T* xp = x + pl * H * W;
  T gr = T(0);
#pragma unroll
  for (int b = 0; b < 4; ++b) {
    if (!g.p[b]) continue;
    const int k = kSpec.k[b], p = kSpec.p[b], dl = kSpec.d[b];
    const T* wb = w.p[b] + c * k * k;
    const T* gb = g.p[b] + go;
    for (int ki = 0; ki < k; ++ki) {
      const int ny = iy + p - ki * dl;
      if (ny < 0 || ny % S) continue;
      const int oy = ny / S;
      if (oy >= Ho) continue;
      for (int kj = 0; kj < k; ++kj) {
        const int nx = ix + p - kj * dl;
        if (nx < 0 || nx % S) continue;
        const int ox = nx / S;
        if (ox >= Wo) continue;
        gr += wb[ki * k + kj] * gb[oy * Wo + ox];
      }
    }
  }
  if (g_fr0) {
    if (iy % 2 == 0 && ix % 2 == 0) gr += g_fr0[go + (iy / 2) * Wo + ix / 2];
    if (iy % 2 == 1 && ix % 2 == 1) gr += g_fr1[go + (iy / 2) * Wo + ix / 2];
  }
  T out = xp[r] > T(0) ? gr : T(0);
  if (g_max || g_avg) {
    // every pool window containing (iy, ix): oy * S - 1 <= iy <= oy * S + 1
    for (int oy = max((iy - 1 + S - 1) / S, 0); oy <= min((iy + 1) / S, Ho - 1); ++oy) {
      for (int ox = max((ix - 1 + S - 1) / S, 0); ox <= min((ix + 1) / S, Wo - 1); ++ox) {
        const int y0 = max(oy * S - 1, 0), y1 = min(oy * S + 2, H);
        const int x0 = max(ox * S - 1, 0), x1 = min(ox * S + 2, W);
        if (g_max) {
          T m = -INFINITY;
          int arg = y0 * W + x0;
          for (int yy = y0; yy < y1; ++yy)
            for (int xx = x0; xx < x1; ++xx) {
              const T v = xp[yy * W + xx];
              if (v > m || v != v) {
                m = v;
                arg = yy * W + xx;
              }
            }
          if (arg == r) out += g_max[go + oy * Wo + ox];
        }
        if (g_avg) out += g_avg[go + oy * Wo + ox] / T((y1 - y0) * (x1 - x0));
      }
    }
  }
  if (g_skip) out += (skip_w_ptr ? *skip_w_ptr : skip_w) * g_skip[i];
  gx[i] = out;
}

// The stage-1 depthwise weight gradients of the branches that want one, as one list of groups
// (branch, channel, tap): listed branch j owns groups [g0[j], g0[j + 1]).
template <typename T>
struct Stage1Grads {
  const T* g[4];  // the branch's output gradient
  T* out[4];      // its weight gradient [C, k * k]
  int branch[4];
  int64_t g0[5];
  int nb;
};

template <typename T>
__device__ int listed_branch(const Stage1Grads<T>& sg, int64_t group) {
  int j = 0;
  while (j + 1 < sg.nb && group >= sg.g0[j + 1]) ++j;
  return j;
}

// Block (group, s): the chunk's part of that tap's weight gradient, sum g_b * relu(x) at the
// strided, dilated offset, to part[group * S + s]. Every branch in one launch.
template <typename T>
__global__ void stage1_bwd_weight_part_k(const T* x, Dims d, Stage1Grads<T> sg, int64_t n_per,
                                         double* part) {
  __shared__ double sh[kThreads];
  const int j = listed_branch(sg, blockIdx.x), b = sg.branch[j];
  const int k = kSpec.k[b], p = kSpec.p[b], dl = kSpec.d[b], kk = k * k;
  const int64_t local = blockIdx.x - sg.g0[j], c = local / kk, n0 = blockIdx.y * n_per;
  const int t = int(local % kk), ki = t / k, kj = t % k;
  const T* gb = sg.g[j];
  const int H = int(d.H), W = int(d.W), Wo = int(d.Wo), s = int(d.s);
  const uint32_t HWo = uint32_t(d.Ho) * uint32_t(Wo);
  const uint32_t cnt = uint32_t(min(n_per, d.N - n0)) * HWo;
  double a = 0;
  for (uint32_t e = threadIdx.x; e < cnt; e += blockDim.x) {
    const uint32_t dn = e / HWo, r = e - dn * HWo;
    const int oy = int(r / uint32_t(Wo)), ox = int(r - uint32_t(oy) * uint32_t(Wo));
    const int iy = oy * s - p + ki * dl, ix = ox * s - p + kj * dl;
    if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
    const int64_t pl = (n0 + dn) * d.C + c;
    a += double(gb[pl * HWo + r]) * double(relu(x[pl * int64_t(H) * W + iy * W + ix]));
  }
  const double sum = block_sum(a, sh);
  if (threadIdx.x == 0) part[int64_t(blockIdx.x) * gridDim.y + blockIdx.y] = sum;
}

// One thread per group: its S partial sums in order, into the listed branch's weight gradient.
template <typename T>
__global__ void stage1_weight_sum_k(Stage1Grads<T> sg, unsigned S, const double* part) {
  const int64_t group = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (group >= sg.g0[sg.nb]) return;
  const int j = listed_branch(sg, group);
  double a = 0;
  for (unsigned s = 0; s < S; ++s) a += part[group * S + s];
  sg.out[j][group - sg.g0[j]] = T(a);
}

template <typename T>
__global__ void pointwise_k(const T* w, int64_t ws_co, int64_t ws_ci, const T* in,
                            int64_t in_bstride, int64_t N, int64_t Co, int64_t Ci, int64_t P,
                            T* out, int64_t out_bstride) {
  const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i >= N * Co * P) return;
  const int64_t p = i % P, co = (i / P) % Co, n = i / (P * Co);
  T acc = T(0);
  for (int64_t ci = 0; ci < Ci; ++ci)
    acc += w[co * ws_co + ci * ws_ci] * in[n * in_bstride + ci * P + p];
  out[n * out_bstride + co * P + p] = acc;
}

// Thread (j, c): slot j's running mean and variance of channel c; thread (j, 0) also counts.
template <typename T>
__global__ void running_update_k(Running<T> r, const T* stats, int64_t C, int64_t num_slots, T keep,
                                 T m) {
  const int j = blockIdx.y;
  const int64_t c = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (c >= C) return;
  const T* st = stats + r.slot[j] * C + c;
  r.mean[j][c] = keep * r.mean[j][c] + m * st[0];
  r.var[j][c] = keep * r.var[j][c] + m * st[2 * num_slots * C];
  if (c == 0) r.count[j][0] += 1;
}

}  // namespace

void set_scratch_allocator(ScratchAllocator a) { g_scratch = a; }

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
  if (d.s == 1)
    stage1_forward_k<T, 1><<<blocks(n), kThreads, 0, st>>>(x, d, w, o, maxp, avgp, fr0, fr1);
  else
    stage1_forward_k<T, 2><<<blocks(n), kThreads, 0, st>>>(x, d, w, o, maxp, avgp, fr0, fr1);
  return cudaGetLastError();
}

template <typename T>
cudaError_t bn_stats_batch(const T* const* z, int n, int64_t N, int64_t C, int64_t HW, double eps,
                           T* const* mean, T* const* invstd, T* const* var_unbiased,
                           cudaStream_t st) {
  if (n < 1 || n > kMaxBatch) return cudaErrorInvalidValue;
  const Split sp = split_for(C, N);
  if (!chunk_fits(sp, HW)) return cudaErrorInvalidValue;
  StatsBatch<T> b{};
  for (int j = 0; j < n; ++j) {
    b.z[j] = z[j];
    b.mean[j] = mean[j];
    b.invstd[j] = invstd[j];
    b.var[j] = var_unbiased[j];
  }
  Scratch part(n * C * sp.S * 2, st);
  if (part.err != cudaSuccess) return part.err;
  bn_stats_part_k<T><<<dim3(unsigned(C), sp.S, unsigned(n)), kThreads, 0, st>>>(
      b, N, C, uint32_t(HW), sp.n_per, part.p);
  bn_stats_final_k<T>
      <<<blocks(n * C), kThreads, 0, st>>>(b, n, part.p, N, C, HW, sp.n_per, sp.S, eps);
  return cudaGetLastError();
}

template <typename T>
cudaError_t bn_stats(const T* z, int64_t N, int64_t C, int64_t HW, double eps, T* mean, T* invstd,
                     T* var_unbiased, cudaStream_t st) {
  return bn_stats_batch<T>(&z, 1, N, C, HW, eps, &mean, &invstd, &var_unbiased, st);
}

template <typename T>
cudaError_t bn_relu_dw_forward(const T* z, const T* mean, const T* invstd, int64_t N, int64_t C,
                               int64_t H, int64_t W, const T* w, DwSpec spec, T* out,
                               cudaStream_t st) {
  bn_relu_dw_forward_k<T>
      <<<blocks(N * C * H * W), kThreads, 0, st>>>(z, mean, invstd, N, C, H, W, w, spec, out);
  return cudaGetLastError();
}

template <typename T>
cudaError_t mix_forward(const T* const* z, const T* const* mean, const T* const* invstd,
                        const T* wk, const T* const* wk_ptr, int K, int64_t N, int64_t C,
                        int64_t HW, T* out, cudaStream_t st) {
  if (K > kMaxMix) return cudaErrorInvalidValue;
  Mix<T> mx{};
  mx.K = K;
  for (int k = 0; k < K; ++k) {
    mx.z[k] = z[k];
    mx.mean[k] = mean[k];
    mx.invstd[k] = invstd[k];
    mx.w[k] = wk[k];
    mx.wp[k] = wk_ptr[k];
  }
  mix_forward_k<T><<<blocks(N * C * HW), kThreads, 0, st>>>(mx, N, C, HW, out);
  return cudaGetLastError();
}

template <typename T>
cudaError_t bn_backward_batch(const T* g, const BnBackwardItem<T>* items, int n, bool relu_mask,
                              bool training, int64_t N, int64_t C, int64_t HW, cudaStream_t st) {
  if (n < 1 || n > kMaxBatch) return cudaErrorInvalidValue;
  const Split sp = split_for(C, N);
  if (!chunk_fits(sp, HW)) return cudaErrorInvalidValue;
  BnBackwardBatch<T> bb{};
  bool any_dz = false, any_sum = false;
  for (int j = 0; j < n; ++j) {
    bb.item[j] = items[j];
    any_dz = any_dz || items[j].dz;
    any_sum = any_sum || items[j].sum_gy;
  }
  const dim3 grid(unsigned(C), sp.S, unsigned(n));
  const bool sums = training || any_sum;
  Scratch part(sums ? n * C * sp.S * 2 : 0, st);
  if (part.err != cudaSuccess) return part.err;
  if (sums)
    bn_backward_part_k<T>
        <<<grid, kThreads, 0, st>>>(g, bb, relu_mask, N, C, uint32_t(HW), sp.n_per, part.p);
  if (any_dz || any_sum)
    bn_backward_dz_k<T><<<grid, kThreads, 0, st>>>(g, bb, relu_mask, training, N, C, uint32_t(HW),
                                                   sp.n_per, sums ? part.p : nullptr);
  return cudaGetLastError();
}

template <typename T>
cudaError_t bn_backward(const T* g, const T* z, const T* mean, const T* invstd, T scale,
                        const T* scale_ptr, bool relu_mask, bool training, int64_t N, int64_t C,
                        int64_t HW, T* dz, double* sum_gy, cudaStream_t st) {
  const BnBackwardItem<T> it{z, mean, invstd, scale, scale_ptr, dz, sum_gy};
  return bn_backward_batch<T>(g, &it, 1, relu_mask, training, N, C, HW, st);
}

template <typename T>
cudaError_t bn_relu_dw_backward(const T* gout, const T* z, const T* mean, const T* invstd,
                                int64_t N, int64_t C, int64_t H, int64_t W, const T* w, DwSpec spec,
                                T* ga, T* dw, cudaStream_t st) {
  bn_relu_dw_bwd_input_k<T>
      <<<blocks(N * C * H * W), kThreads, 0, st>>>(gout, N, C, H, W, w, spec, ga);
  if (dw) {
    const int64_t G = C * spec.k * spec.k;
    const Split sp = split_for(G, N);
    if (!chunk_fits(sp, H * W)) return cudaErrorInvalidValue;
    Scratch part(G * sp.S, st);
    if (part.err != cudaSuccess) return part.err;
    bn_relu_dw_bwd_weight_part_k<T><<<dim3(unsigned(G), sp.S), kThreads, 0, st>>>(
        gout, z, mean, invstd, N, C, int(H), int(W), spec, sp.n_per, part.p);
    sum_parts_k<T><<<blocks(G), kThreads, 0, st>>>(part.p, G, sp.S, dw);
  }
  return cudaGetLastError();
}

template <typename T>
cudaError_t stage1_backward(const T* x, const Dims& d, const T* const* dw_w, const T* const* g_dw,
                            const T* g_max, const T* g_avg, const T* g_fr0, const T* g_fr1,
                            const T* g_skip, T skip_w, const T* skip_w_ptr, T* gx,
                            T* const* dw_grad, cudaStream_t st) {
  Ptr4<T> w{}, g{};
  for (int b = 0; b < 4; ++b) {
    w.p[b] = dw_w[b];
    g.p[b] = g_dw[b];
  }
  const int64_t n = d.N * d.C * d.H * d.W;
  if (d.s == 1)
    stage1_bwd_input_k<T, 1><<<blocks(n), kThreads, 0, st>>>(x, d, w, g, g_max, g_avg, g_fr0, g_fr1,
                                                             g_skip, skip_w, skip_w_ptr, gx);
  else
    stage1_bwd_input_k<T, 2><<<blocks(n), kThreads, 0, st>>>(x, d, w, g, g_max, g_avg, g_fr0, g_fr1,
                                                             g_skip, skip_w, skip_w_ptr, gx);
  Stage1Grads<T> sg{};
  int64_t G = 0;
  for (int b = 0; b < 4; ++b) {
    if (!g_dw[b] || !dw_grad[b]) continue;
    sg.g[sg.nb] = g_dw[b];
    sg.out[sg.nb] = dw_grad[b];
    sg.branch[sg.nb] = b;
    sg.g0[sg.nb++] = G;
    G += d.C * cpu::kStage1[b].k * cpu::kStage1[b].k;
  }
  sg.g0[sg.nb] = G;
  if (sg.nb == 0) return cudaGetLastError();
  const Split sp = split_for(G, d.N);
  if (!chunk_fits(sp, d.Ho * d.Wo)) return cudaErrorInvalidValue;
  Scratch part(G * sp.S, st);
  if (part.err != cudaSuccess) return part.err;
  stage1_bwd_weight_part_k<T>
      <<<dim3(unsigned(G), sp.S), kThreads, 0, st>>>(x, d, sg, sp.n_per, part.p);
  stage1_weight_sum_k<T><<<blocks(G), kThreads, 0, st>>>(sg, sp.S, part.p);
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
cudaError_t running_update(T* const* mean, T* const* var, int64_t* const* count, const T* stats,
                           const int64_t* slots, int n, int64_t C, int64_t num_slots,
                           double momentum, cudaStream_t st) {
  if (n < 1) return cudaSuccess;
  if (n > kMaxRunning) return cudaErrorInvalidValue;
  Running<T> r{};
  for (int j = 0; j < n; ++j) {
    r.mean[j] = mean[j];
    r.var[j] = var[j];
    r.count[j] = count[j];
    r.slot[j] = slots[j];
  }
  running_update_k<T><<<dim3(blocks(C), unsigned(n)), kThreads, 0, st>>>(
      r, stats, C, num_slots, T(1 - momentum), T(momentum));
  return cudaGetLastError();
}

#define NASFAST_DARTS_EDGE_CUDA_INSTANTIATE(T)                                                     \
  template cudaError_t stage1_forward<T>(const T*, const Dims&, const T* const*, T* const*, T*,    \
                                         T*, T*, T*, cudaStream_t);                                \
  template cudaError_t bn_stats<T>(const T*, int64_t, int64_t, int64_t, double, T*, T*, T*,        \
                                   cudaStream_t);                                                  \
  template cudaError_t bn_stats_batch<T>(const T* const*, int, int64_t, int64_t, int64_t, double,  \
                                         T* const*, T* const*, T* const*, cudaStream_t);           \
  template cudaError_t bn_backward_batch<T>(const T*, const BnBackwardItem<T>*, int, bool, bool,   \
                                            int64_t, int64_t, int64_t, cudaStream_t);              \
  template cudaError_t bn_relu_dw_forward<T>(const T*, const T*, const T*, int64_t, int64_t,       \
                                             int64_t, int64_t, const T*, DwSpec, T*,               \
                                             cudaStream_t);                                        \
  template cudaError_t mix_forward<T>(const T* const*, const T* const*, const T* const*, const T*, \
                                      const T* const*, int, int64_t, int64_t, int64_t, T*,         \
                                      cudaStream_t);                                               \
  template cudaError_t bn_backward<T>(const T*, const T*, const T*, const T*, T, const T*, bool,   \
                                      bool, int64_t, int64_t, int64_t, T*, double*, cudaStream_t); \
  template cudaError_t bn_relu_dw_backward<T>(const T*, const T*, const T*, const T*, int64_t,     \
                                              int64_t, int64_t, int64_t, const T*, DwSpec, T*, T*, \
                                              cudaStream_t);                                       \
  template cudaError_t stage1_backward<T>(const T*, const Dims&, const T* const*, const T* const*, \
                                          const T*, const T*, const T*, const T*, const T*, T,     \
                                          const T*, T*, T* const*, cudaStream_t);                  \
  template cudaError_t running_update<T>(T* const*, T* const*, int64_t* const*, const T*,          \
                                         const int64_t*, int, int64_t, int64_t, double,            \
                                         cudaStream_t);                                            \
  template cudaError_t pointwise<T>(const T*, int64_t, int64_t, const T*, int64_t, int64_t,        \
                                    int64_t, int64_t, int64_t, T*, int64_t, cudaStream_t);

NASFAST_DARTS_EDGE_CUDA_INSTANTIATE(float)
NASFAST_DARTS_EDGE_CUDA_INSTANTIATE(double)

}  // namespace nasfast::darts_edge::cuda

// The non-attention kernels of a LLaMA training step, fp32 like the trainer's Backend seam (backend/Backend.java):
// RMSNorm, RoPE with position interpolation (HF rotate_half), SwiGLU, dropout, embedding, cross-entropy in vocabulary
// chunks (online log-sum-exp, so the LM head never needs the full logits tensor), AdamW, dtype conversions for the
// bf16 attention kernels, reductions, and a fallback fp32 GEMM for machines where cuBLAS cannot be found.
// Backward kernels accumulate (+=) into their gradient outputs, as the seam specifies.
// Launch shapes: elementwise kernels grid ceil(n/256) x block 256; per-row kernels grid rows x block 256.
#include "common.cuh"

#define LL_INF __int_as_float(0x7f800000)

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}
// Block-wide sum/max for blockDim.x == 256; every thread gets the result.
__device__ float block_sum(float v) {
  __shared__ float part[8];
  __syncthreads();
  v = warp_sum(v);
  if (threadIdx.x % 32 == 0) part[threadIdx.x / 32] = v;
  __syncthreads();
  float r = 0.f;
  for (int i = 0; i < 8; ++i) r += part[i];
  return r;
}
__device__ float block_max(float v) {
  __shared__ float part[8];
  __syncthreads();
  v = warp_max(v);
  if (threadIdx.x % 32 == 0) part[threadIdx.x / 32] = v;
  __syncthreads();
  float r = -LL_INF;
  for (int i = 0; i < 8; ++i) r = fmaxf(r, part[i]);
  return r;
}

#define ELEMENTWISE_INDEX                                    \
  const long i = (long)blockIdx.x * blockDim.x + threadIdx.x; \
  if (i >= n) return;

// ---- conversions and elementwise ------------------------------------------------------------------------

extern "C" __global__ void f32_to_bf16(const float* __restrict__ x, bf16* __restrict__ y, long n) {
  ELEMENTWISE_INDEX
  y[i] = __float2bfloat16(x[i]);
}

// y = beta * y + x (beta 0 overwrites, ignoring NaN in y; beta 1 accumulates).
extern "C" __global__ void bf16_to_f32(const bf16* __restrict__ x, float* __restrict__ y, long n, float beta) {
  ELEMENTWISE_INDEX
  const float v = __bfloat162float(x[i]);
  y[i] = beta == 0.f ? v : beta * y[i] + v;
}

extern "C" __global__ void scale_f32(float* x, float a, long n) {
  ELEMENTWISE_INDEX
  x[i] *= a;
}

extern "C" __global__ void axpy_f32(float a, const float* __restrict__ x, float* __restrict__ y, long n) {
  ELEMENTWISE_INDEX
  y[i] += a * x[i];
}

// out[0] += sum of x^2 (double accumulation; out must be zeroed first).
extern "C" __global__ void sum_squares_f32(const float* __restrict__ x, double* out, long n) {
  double s = 0.0;
  for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x)
    s += (double)x[i] * x[i];
  for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
  if (threadIdx.x % 32 == 0) atomicAdd(out, s);
}

// ---- embedding --------------------------------------------------------------------------------------------

extern "C" __global__ void embedding_fwd(float* __restrict__ out, const float* __restrict__ table,
                                         const int* __restrict__ tokens, int C) {
  const int t = blockIdx.x;
  const float* src = table + (long)tokens[t] * C;
  for (int i = threadIdx.x; i < C; i += blockDim.x) out[(long)t * C + i] = src[i];
}

extern "C" __global__ void embedding_bwd(float* dtable, const float* __restrict__ dout, const int* __restrict__ tokens,
                                         int C) {
  const int t = blockIdx.x;
  float* dst = dtable + (long)tokens[t] * C;
  for (int i = threadIdx.x; i < C; i += blockDim.x) atomicAdd(dst + i, dout[(long)t * C + i]);
}

// ---- RMSNorm: out = x * rstd * w, rstd = 1/sqrt(mean(x^2) + eps), per row in fp32 -------------------------

extern "C" __global__ void rmsnorm_fwd(float* __restrict__ out, float* __restrict__ rstd, const float* __restrict__ x,
                                       const float* __restrict__ w, int C, float eps) {
  const long o = (long)blockIdx.x * C;
  float ss = 0.f;
  for (int i = threadIdx.x; i < C; i += blockDim.x) ss += x[o + i] * x[o + i];
  ss = block_sum(ss);
  const float r = rsqrtf(ss / C + eps);
  if (threadIdx.x == 0) rstd[blockIdx.x] = r;
  for (int i = threadIdx.x; i < C; i += blockDim.x) out[o + i] = x[o + i] * r * w[i];
}

// dx += r * (g*w - xhat * mean(g*w*xhat)), xhat = x*r.
extern "C" __global__ void rmsnorm_bwd_dx(float* __restrict__ dx, const float* __restrict__ dout,
                                          const float* __restrict__ x, const float* __restrict__ w,
                                          const float* __restrict__ rstd, int C) {
  const long o = (long)blockIdx.x * C;
  const float r = rstd[blockIdx.x];
  float dot = 0.f;
  for (int i = threadIdx.x; i < C; i += blockDim.x) dot += dout[o + i] * w[i] * x[o + i] * r;
  const float mean = block_sum(dot) / C;
  for (int i = threadIdx.x; i < C; i += blockDim.x) dx[o + i] += r * (dout[o + i] * w[i] - x[o + i] * r * mean);
}

// dw[i] += sum_t g[t,i] * x[t,i] * rstd[t]: grid (ceil(C/256), ceil(rows/256)), each thread sums 256 rows of a column.
extern "C" __global__ void rmsnorm_bwd_dw(float* dw, const float* __restrict__ dout, const float* __restrict__ x,
                                          const float* __restrict__ rstd, int rows, int C) {
  const int col = blockIdx.x * blockDim.x + threadIdx.x;
  if (col >= C) return;
  const int r0 = blockIdx.y * 256, r1 = min(rows, r0 + 256);
  float s = 0.f;
  for (int t = r0; t < r1; ++t) s += dout[(long)t * C + col] * x[(long)t * C + col] * rstd[t];
  atomicAdd(dw + col, s);
}

// ---- RoPE with linear position interpolation, HF rotate_half pairs (i, i + d/2), in place --------------------
// direction +1 rotates (forward), -1 rotates back (the transpose, for the gradient). Angles in double, like the
// CPU reference's table. Grid rows, block 256 over heads * d/2 pairs.
extern "C" __global__ void rope(float* x, int heads, int dim, float theta, float factor, float direction) {
  const int t = blockIdx.x, half = dim / 2;
  const double pos = t / (double)factor;
  for (int j = threadIdx.x; j < heads * half; j += blockDim.x) {
    const int h = j / half, i = j % half;
    const double angle = pos * pow((double)theta, -2.0 * i / dim);
    const float cs = (float)cos(angle), sn = direction * (float)sin(angle);
    float* p = x + (long)t * heads * dim + (long)h * dim;
    const float a = p[i], b = p[i + half];
    p[i] = a * cs - b * sn;
    p[i + half] = b * cs + a * sn;
  }
}

// ---- SwiGLU: h = silu(gate) * up ----------------------------------------------------------------------------

extern "C" __global__ void swiglu_fwd(float* __restrict__ h, const float* __restrict__ gate,
                                      const float* __restrict__ up, long n) {
  ELEMENTWISE_INDEX
  const float g = gate[i], sig = 1.f / (1.f + expf(-g));
  h[i] = g * sig * up[i];
}

extern "C" __global__ void swiglu_bwd(float* __restrict__ dgate, float* __restrict__ dup, const float* __restrict__ dh,
                                      const float* __restrict__ gate, const float* __restrict__ up, long n) {
  ELEMENTWISE_INDEX
  const float g = gate[i], sig = 1.f / (1.f + expf(-g));
  dgate[i] += dh[i] * up[i] * sig * (1.f + g * (1.f - sig));
  dup[i] += dh[i] * g * sig;
}

// ---- dropout: the CPU reference's counter-based hash (splitmix64 finaliser), bit for bit ---------------------

__device__ __forceinline__ float dropout_uniform(unsigned long long seed, unsigned long long index) {
  unsigned long long z = seed + (index + 1ull) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z = z ^ (z >> 31);
  return (float)(z >> 40) * 0x1.0p-24f;
}

extern "C" __global__ void dropout_fwd(float* __restrict__ out, const float* __restrict__ x, float p, float keep,
                                       unsigned long long seed, long n) {
  ELEMENTWISE_INDEX
  out[i] = dropout_uniform(seed, i) < p ? 0.f : x[i] * keep;
}

extern "C" __global__ void dropout_bwd(float* __restrict__ dx, const float* __restrict__ dout, float p, float keep,
                                       unsigned long long seed, long n) {
  ELEMENTWISE_INDEX
  if (dropout_uniform(seed, i) >= p) dx[i] += dout[i] * keep;
}

// ---- cross-entropy over vocabulary chunks ----------------------------------------------------------------------
// The LM head is applied one vocabulary chunk [v0, v0 + vc) at a time; ce_chunk_stats folds each chunk of logits
// [rows, vc] (row stride ld) into a running max and sum per row (online log-sum-exp) and picks up the label's logit;
// ce_finish turns them into lse and per-row losses; ce_chunk_grad then writes gradScale * (softmax - onehot) for a
// chunk (in place allowed). Ignored rows (label -100) get loss 0 and zero gradient. With one chunk of the whole
// vocabulary this is the plain cross-entropy. Grid rows, block 256. Initialise run_max = -inf, run_sum = 0.

extern "C" __global__ void ce_chunk_stats(const float* __restrict__ logits, int ld, int vc, int v0,
                                          const int* __restrict__ labels, float* run_max, float* run_sum,
                                          float* target) {
  const int t = blockIdx.x;
  const int label = labels[t];
  if (label == -100) return;
  const float* row = logits + (long)t * ld;
  float mx = -LL_INF;
  for (int i = threadIdx.x; i < vc; i += blockDim.x) mx = fmaxf(mx, row[i]);
  mx = block_max(mx);
  float s = 0.f;
  for (int i = threadIdx.x; i < vc; i += blockDim.x) s += expf(row[i] - mx);
  s = block_sum(s);
  if (threadIdx.x == 0) {
    const float m_old = run_max[t], m_new = fmaxf(m_old, mx);
    run_sum[t] = run_sum[t] * expf(m_old - m_new) + s * expf(mx - m_new);
    run_max[t] = m_new;
    if (label >= v0 && label < v0 + vc) target[t] = row[label - v0];
  }
}

// lse[t] = max + log(sum); loss[t] = lse - target (0 for ignored rows). Grid ceil(rows/256), block 256.
extern "C" __global__ void ce_finish(const float* __restrict__ run_max, const float* __restrict__ run_sum,
                                     const float* __restrict__ target, const int* __restrict__ labels,
                                     float* __restrict__ lse, double* __restrict__ loss, int rows) {
  const int t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= rows) return;
  if (labels[t] == -100) {
    lse[t] = 0.f;
    loss[t] = 0.0;
    return;
  }
  const double l = (double)run_max[t] + log((double)run_sum[t]);
  lse[t] = (float)l;
  loss[t] = l - (double)target[t];
}

extern "C" __global__ void ce_chunk_grad(float* dlogits, const float* logits, int ld, int vc, int v0,
                                         const int* __restrict__ labels, const float* __restrict__ lse,
                                         float grad_scale) {
  const int t = blockIdx.x;
  const int label = labels[t];
  const float l = lse[t];
  for (int i = threadIdx.x; i < vc; i += blockDim.x) {
    const long at = (long)t * ld + i;
    float gv = 0.f;
    if (label != -100) gv = expf(logits[at] - l) * grad_scale - (v0 + i == label ? grad_scale : 0.f);
    dlogits[at] = gv;
  }
}

// Index of the largest element of each row, the first on ties. Grid rows, block 256.
extern "C" __global__ void argmax_rows(const float* __restrict__ x, int cols, int* __restrict__ out) {
  __shared__ float bv[256];
  __shared__ int bi[256];
  const float* row = x + (long)blockIdx.x * cols;
  float best = -LL_INF;
  int idx = 0x7fffffff;
  for (int i = threadIdx.x; i < cols; i += blockDim.x) {
    const float v = row[i];
    if (v > best || idx == 0x7fffffff) { best = v; idx = i; }
  }
  bv[threadIdx.x] = best;
  bi[threadIdx.x] = idx;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) {
      const float ov = bv[threadIdx.x + s];
      const int oi = bi[threadIdx.x + s];
      if (ov > bv[threadIdx.x] || (ov == bv[threadIdx.x] && oi < bi[threadIdx.x])) {
        bv[threadIdx.x] = ov;
        bi[threadIdx.x] = oi;
      }
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) out[blockIdx.x] = bi[0];
}

// ---- AdamW on fp32 master weights (PyTorch's formula; the host computes the bias-correction scalars) ----------
// p = p * decay - step_size * m / (sqrt(v) / bc2_sqrt + eps), decay = 1 - lr*wd, step_size = lr / (1 - b1^step).
extern "C" __global__ void adamw(float* __restrict__ p, const float* __restrict__ g, float* __restrict__ m,
                                 float* __restrict__ v, float beta1, float beta2, float eps, float step_size,
                                 float bc2_sqrt, float decay, long n) {
  ELEMENTWISE_INDEX
  const float gi = g[i];
  const float mi = beta1 * m[i] + (1.f - beta1) * gi;
  const float vi = beta2 * v[i] + (1.f - beta2) * gi * gi;
  m[i] = mi;
  v[i] = vi;
  p[i] = p[i] * decay - step_size * mi / (sqrtf(vi) / bc2_sqrt + eps);
}

// ---- fallback fp32 GEMM (row-major): C = alpha * op(A) op(B) + beta * C, M x N, inner K ----------------------
// Used only when cuBLAS is not found. 64x64 tiles, 16-deep, 256 threads, 4x4 outputs per thread.
// Grid (ceil(N/64), ceil(M/64)), block 256. With beta == 0, C's previous contents are ignored.
extern "C" __global__ void __launch_bounds__(256) gemm_f32(float* __restrict__ C, const float* __restrict__ A,
                                                           const float* __restrict__ B, int M, int N, int K,
                                                           int transA, int transB, float alpha, float beta) {
  __shared__ float As[16][64 + 4];  // [k][m]
  __shared__ float Bs[16][64 + 4];  // [k][n]
  const int m0 = blockIdx.y * 64, n0 = blockIdx.x * 64;
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  float acc[4][4] = {};
  for (int k0 = 0; k0 < K; k0 += 16) {
    for (int e = threadIdx.x; e < 16 * 64; e += 256) {
      const int kk = e / 64, mm = e % 64;
      const int gm = m0 + mm, gk = k0 + kk;
      float a = 0.f;
      if (gm < M && gk < K) a = transA ? A[(long)gk * M + gm] : A[(long)gm * K + gk];
      As[kk][mm] = a;
      const int gn = n0 + mm;
      float b = 0.f;
      if (gn < N && gk < K) b = transB ? B[(long)gn * K + gk] : B[(long)gk * N + gn];
      Bs[kk][mm] = b;
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < 16; ++kk) {
      float a[4], b[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) a[i] = As[kk][ty * 4 + i];
#pragma unroll
      for (int j = 0; j < 4; ++j) b[j] = Bs[kk][tx * 4 + j];
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int gm = m0 + ty * 4 + i;
    if (gm >= M) continue;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int gn = n0 + tx * 4 + j;
      if (gn >= N) continue;
      float* c = C + (long)gm * N + gn;
      *c = alpha * acc[i][j] + (beta == 0.f ? 0.f : beta * *c);
    }
  }
}

// FlashAttention-2-style causal attention with S2-Attn inside the kernel (method sections 2 and 7).
//
// Layouts (the natural output of the q/k/v projections, no transposes):
//   q, o, dq: [B, L, H, D] bf16      k, v, dk, dv: [B, L, Hkv, D] bf16 (GQA: head h reads KV head h / (H/Hkv))
//   lse, delta: [B, H, L] fp32 (natural-log log-sum-exp of the scaled scores; delta = rowsum(dO * O))
//   dq_acc: [B, L, H, D] fp32, accumulated with atomics by the backward kernel, then converted to bf16.
// S2-Attn: `G` is the group size (L for full causal) and `shift` the offset of heads [H/2, H) (G/2 for S2,
// 0 for full or unshifted). Each query tile reads only the key range of its own segment; no roll, no copy.
//
// Launch shapes (the host code in Java and kernels/check/attention_check.py use the same formulas):
//   attn_fwd_d{64,128}:      grid (ceil(L/64), H, B),  block 128, dynamic smem (64 + 4*64) * (D+8) * 2 bytes
//   attn_fwd_d{64,128}_m128: grid (ceil(L/128), H, B), block 256, dynamic smem (128 + 4*64) * (D+8) * 2 bytes
//   attn_bwd_d{64,128}:      grid (ceil(L/64), Hkv, B),  block 128, dynamic smem BwdCfg<D,64>::SMEM
//   attn_bwd_d{64,128}_n128: grid (ceil(L/128), Hkv, B), block 256, dynamic smem BwdCfg<D,128>::SMEM
//     BwdCfg<D,BN>::SMEM = (2*BN + 2*BM) * (D+8) * 2 + BM * (BN+8) * 2 + 2*BM*4, BM = 32 for D=128, else 64
//   attn_bwd_preprocess: grid (ceil(B*L*H / 4)), block 128 (one warp per row)
//   attn_dq_convert:     grid (ceil(n / 256)), block 256
#include "common.cuh"

#define LL_INF __int_as_float(0x7f800000)
#define LL_LOG2E 1.4426950408889634f
#define LL_LN2 0.6931471805599453f

// BM_ query rows per block, one warp per 16 rows.
template <int D, int BM_>
struct FwdCfg {
  static constexpr int BM = BM_, BN = 64, THREADS = BM / 16 * 32, LDS = D + 8;
  static constexpr int SMEM = (BM + 4 * BN) * LDS * 2;  // Q + double-buffered K and V
};

template <int D, int BM_>
__device__ __forceinline__ void attn_fwd(const bf16* __restrict__ q, const bf16* __restrict__ k,
                                         const bf16* __restrict__ v, bf16* __restrict__ o, float* __restrict__ lse,
                                         int H, int Hkv, int L, int G, int shift, float scale) {
  using C = FwdCfg<D, BM_>;
  constexpr int BM = C::BM, BN = C::BN, LDS = C::LDS, T = C::THREADS;
  LL_DYNAMIC_SMEM(smem_raw);
  bf16* Qs = reinterpret_cast<bf16*>(smem_raw);
  // K and V tiles are double-buffered: buffer i of K at Qs + (BM + i*BN)*LDS, of V at Qs + (BM + (2+i)*BN)*LDS.
  auto kbuf = [&](int i) { return Qs + (BM + i * BN) * LDS; };
  auto vbuf = [&](int i) { return Qs + (BM + (2 + i) * BN) * LDS; };

  const int tile = gridDim.x - 1 - blockIdx.x;  // late query tiles have the most keys: start them first
  const int h = blockIdx.y, b = blockIdx.z;
  const int q0 = tile * BM;
  const int hk = h / (H / Hkv);
  const int s = (h >= H / 2) ? shift : 0;
  const long qstride = (long)H * D, kstride = (long)Hkv * D;
  const bf16* qb = q + (long)b * L * qstride + (long)h * D;
  const bf16* kb = k + (long)b * L * kstride + (long)hk * D;
  const bf16* vb = v + (long)b * L * kstride + (long)hk * D;

  const int kbeg = segment_start(q0, G, s);  // the first query's segment start bounds the whole tile's keys
  const int kend = min(q0 + BM, L);          // causal: the last query sees keys up to itself
  const int ntiles = (kend - kbeg + BN - 1) / BN;

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
  const int row_lo = q0 + warp * 16 + g, row_hi = row_lo + 8;

  load_tile_async<BM, D, LDS, T>(Qs, qb, qstride, q0, L);
  load_tile_async<BN, D, LDS, T>(kbuf(0), kb, kstride, kbeg, L);
  load_tile_async<BN, D, LDS, T>(vbuf(0), vb, kstride, kbeg, L);
  cp_async_commit();
  cp_async_wait_all();
  __syncthreads();

  // ldmatrix lane roles: an A fragment (16 rows x 16) reads rows a_row and columns a_col + 16*kk; two B fragments
  // (rows = 16 keys/queries of two 8-blocks, 16 columns) read rows b_row and columns b_col + 16*kk.
  const int a_row = ((lane >> 3) & 1) * 8 + (lane & 7), a_col = (lane >> 4) * 8;
  const int b_row = (lane >> 4) * 8 + (lane & 7), b_col = ((lane >> 3) & 1) * 8;

  uint32_t qf[D / 16][4];
#pragma unroll
  for (int kk = 0; kk < D / 16; ++kk)
    ldmatrix_x4(qf[kk][0], qf[kk][1], qf[kk][2], qf[kk][3], Qs + (warp * 16 + a_row) * LDS + kk * 16 + a_col);

  const float scale_log2 = scale * LL_LOG2E;
  float m[2] = {-LL_INF, -LL_INF}, l[2] = {0.f, 0.f};
  float acc[D / 8][4];
#pragma unroll
  for (int dn = 0; dn < D / 8; ++dn) acc[dn][0] = acc[dn][1] = acc[dn][2] = acc[dn][3] = 0.f;

  for (int j = 0; j < ntiles; ++j) {
    const int kt = kbeg + j * BN;
    if (j > 0) {
      cp_async_wait_all();
      __syncthreads();  // tile j landed, and every warp is done with the buffer that tile j+1 overwrites
    }
    if (j + 1 < ntiles) {
      load_tile_async<BN, D, LDS, T>(kbuf((j + 1) & 1), kb, kstride, kt + BN, L);
      load_tile_async<BN, D, LDS, T>(vbuf((j + 1) & 1), vb, kstride, kt + BN, L);
      cp_async_commit();
    }
    const bf16* Ks = kbuf(j & 1);
    const bf16* Vs = vbuf(j & 1);

    float sc[BN / 8][4];
#pragma unroll
    for (int nb = 0; nb < BN / 8; ++nb) sc[nb][0] = sc[nb][1] = sc[nb][2] = sc[nb][3] = 0.f;
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
#pragma unroll
      for (int nb = 0; nb < BN / 8; nb += 2) {
        uint32_t b0, b1, b2, b3;
        ldmatrix_x4(b0, b1, b2, b3, Ks + (nb * 8 + b_row) * LDS + kk * 16 + b_col);
        mma_bf16_16816(sc[nb], qf[kk], b0, b1);
        mma_bf16_16816(sc[nb + 1], qf[kk], b2, b3);
      }
    }

    const bool full = tile_fully_visible(q0, q0 + BM, kt, kt + BN, G, s, L);
    float mx[2] = {-LL_INF, -LL_INF};
#pragma unroll
    for (int nb = 0; nb < BN / 8; ++nb) {
#pragma unroll
      for (int c = 0; c < 4; ++c) {
        float x = sc[nb][c] * scale_log2;
        if (!full) {
          const int row = (c < 2) ? row_lo : row_hi;
          const int col = kt + nb * 8 + 2 * t + (c & 1);
          if (!visible(row, col, G, s, L)) x = -LL_INF;
        }
        sc[nb][c] = x;
        mx[c >> 1] = fmaxf(mx[c >> 1], x);
      }
    }
    float m_use[2];
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
      mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
      const float m_new = fmaxf(m[r], mx[r]);
      m_use[r] = (m_new == -LL_INF) ? 0.f : m_new;  // a row with nothing visible yet stays at zero weight
      const float alpha = exp2f(m[r] - m_use[r]);
      m[r] = m_new;
      l[r] *= alpha;
#pragma unroll
      for (int dn = 0; dn < D / 8; ++dn) {
        acc[dn][2 * r] *= alpha;
        acc[dn][2 * r + 1] *= alpha;
      }
    }
#pragma unroll
    for (int nb = 0; nb < BN / 8; ++nb) {
#pragma unroll
      for (int c = 0; c < 4; ++c) {
        const float p = exp2f(sc[nb][c] - m_use[c >> 1]);
        sc[nb][c] = p;
        l[c >> 1] += p;
      }
    }

    // O += P V: the score accumulators of two neighbouring 8-key blocks are exactly one A fragment.
#pragma unroll
    for (int kk = 0; kk < BN / 16; ++kk) {
      const uint32_t a[4] = {pack_bf16(sc[2 * kk][0], sc[2 * kk][1]), pack_bf16(sc[2 * kk][2], sc[2 * kk][3]),
                             pack_bf16(sc[2 * kk + 1][0], sc[2 * kk + 1][1]),
                             pack_bf16(sc[2 * kk + 1][2], sc[2 * kk + 1][3])};
#pragma unroll
      for (int dn = 0; dn < D / 8; dn += 2) {
        uint32_t b0, b1, b2, b3;
        ldmatrix_x4_trans(b0, b1, b2, b3, Vs + (kk * 16 + ((lane >> 3) & 1) * 8 + (lane & 7)) * LDS + (dn + (lane >> 4)) * 8);
        mma_bf16_16816(acc[dn], a, b0, b1);
        mma_bf16_16816(acc[dn + 1], a, b2, b3);
      }
    }
  }

#pragma unroll
  for (int r = 0; r < 2; ++r) {
    l[r] += __shfl_xor_sync(0xffffffffu, l[r], 1);
    l[r] += __shfl_xor_sync(0xffffffffu, l[r], 2);
    const int row = r ? row_hi : row_lo;
    if (row < L) {
      const float inv = l[r] > 0.f ? 1.f / l[r] : 0.f;
      bf16* orow = o + ((long)b * L + row) * qstride + (long)h * D;
#pragma unroll
      for (int dn = 0; dn < D / 8; ++dn)
        *reinterpret_cast<uint32_t*>(orow + dn * 8 + 2 * t) = pack_bf16(acc[dn][2 * r] * inv, acc[dn][2 * r + 1] * inv);
      if (t == 0) lse[((long)b * H + h) * L + row] = m[r] * LL_LN2 + logf(l[r]);
    }
  }
}

#define LL_ATTN_FWD_ENTRY(NAME, D, BM)                                                                         \
  extern "C" __global__ void __launch_bounds__(BM / 16 * 32)                                                   \
      NAME(const bf16* q, const bf16* k, const bf16* v, bf16* o, float* lse, int H, int Hkv, int L, int G,    \
           int shift, float scale) {                                                                           \
    attn_fwd<D, BM>(q, k, v, o, lse, H, Hkv, L, G, shift, scale);                                              \
  }

// The default forward (64-row query tiles, 4 warps) and a variant with 128-row tiles and 8 warps, which reads each
// K/V tile for twice as many queries; kernels/check/attention_check.py times both.
LL_ATTN_FWD_ENTRY(attn_fwd_d64, 64, 64)
LL_ATTN_FWD_ENTRY(attn_fwd_d128, 128, 64)
LL_ATTN_FWD_ENTRY(attn_fwd_d64_m128, 64, 128)
LL_ATTN_FWD_ENTRY(attn_fwd_d128_m128, 128, 128)

// delta = rowsum(dO * O) per (b, h, query) for the backward pass, and dq_acc zeroed. One warp per row.
extern "C" __global__ void attn_bwd_preprocess(const bf16* __restrict__ o, const bf16* __restrict__ dout,
                                               float* __restrict__ delta, float* __restrict__ dq_acc, int B, int H,
                                               int L, int D) {
  const long rowid = (long)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (rowid >= (long)B * L * H) return;
  const int h = rowid % H;
  const long bl = rowid / H;
  const int pos = bl % L;
  const int b = bl / L;
  const bf16* orow = o + rowid * D;
  const bf16* drow = dout + rowid * D;
  float sum = 0.f;
  for (int i = lane; i < D; i += 32) {
    sum += __bfloat162float(orow[i]) * __bfloat162float(drow[i]);
    dq_acc[rowid * D + i] = 0.f;
  }
  for (int off = 16; off > 0; off >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, off);
  if (lane == 0) delta[((long)b * H + h) * L + pos] = sum;
}

extern "C" __global__ void attn_dq_convert(const float* __restrict__ dq_acc, bf16* __restrict__ dq, long n) {
  const long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) dq[i] = __float2bfloat16(dq_acc[i]);
}

template <int D, int BN_>
struct BwdCfg {
  static constexpr int BN = BN_;                  // keys per block, one warp per 16 keys
  static constexpr int BM = (D == 128) ? 32 : 64;  // queries per step (keeps dK, dV and S^T in registers)
  static constexpr int WARPS = BN / 16, THREADS = WARPS * 32, LDS = D + 8, LDP = BN + 8;
  static constexpr int SMEM = (2 * BN + 2 * BM) * LDS * 2 + BM * LDP * 2 + 2 * BM * 4;
};

// One block owns a 64-key tile of one KV head and loops over every query head that shares it (GQA without
// repeating K/V) and over the query tiles of that key tile's segment, keeping dK and dV in registers.
template <int D, int BN_>
__device__ __forceinline__ void attn_bwd(const bf16* __restrict__ q, const bf16* __restrict__ k,
                                         const bf16* __restrict__ v, const bf16* __restrict__ dout,
                                         const float* __restrict__ lse, const float* __restrict__ delta,
                                         float* __restrict__ dq_acc, bf16* __restrict__ dk, bf16* __restrict__ dv,
                                         int H, int Hkv, int L, int G, int shift, float scale) {
  using C = BwdCfg<D, BN_>;
  constexpr int BM = C::BM, BN = C::BN, LDS = C::LDS, LDP = C::LDP, T = C::THREADS;
  LL_DYNAMIC_SMEM(smem_raw);
  bf16* Ks = reinterpret_cast<bf16*>(smem_raw);
  bf16* Vs = Ks + BN * LDS;
  bf16* Qs = Vs + BN * LDS;
  bf16* dOs = Qs + BM * LDS;
  bf16* dSs = dOs + BM * LDS;  // dS as [query][key], the A operand of dQ = dS K
  float* lse_s = reinterpret_cast<float*>(dSs + BM * LDP);
  float* delta_s = lse_s + BM;

  const int k0 = blockIdx.x * BN, hk = blockIdx.y, b = blockIdx.z;
  const int ratio = H / Hkv;
  const long qstride = (long)H * D, kstride = (long)Hkv * D;
  const bf16* kb = k + (long)b * L * kstride + (long)hk * D;
  const bf16* vb = v + (long)b * L * kstride + (long)hk * D;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
  const int key_lo = k0 + warp * 16 + g, key_hi = key_lo + 8;
  // ldmatrix lane roles, as in the forward kernel.
  const int a_row = ((lane >> 3) & 1) * 8 + (lane & 7), a_col = (lane >> 4) * 8;
  const int b_row = (lane >> 4) * 8 + (lane & 7), b_col = ((lane >> 3) & 1) * 8;
  const float scale_log2 = scale * LL_LOG2E;

  load_tile_async<BN, D, LDS, T>(Ks, kb, kstride, k0, L);
  load_tile_async<BN, D, LDS, T>(Vs, vb, kstride, k0, L);
  cp_async_commit();

  float dka[D / 8][4], dva[D / 8][4];
#pragma unroll
  for (int dn = 0; dn < D / 8; ++dn)
#pragma unroll
    for (int c = 0; c < 4; ++c) dka[dn][c] = dva[dn][c] = 0.f;

  const int klast = min(k0 + BN, L) - 1;
  for (int h = hk * ratio; h < (hk + 1) * ratio; ++h) {
    const int s = (h >= H / 2) ? shift : 0;
    const int qend = segment_end(klast, G, s, L);  // the last key's segment bounds the queries that see the tile
    const bf16* qb = q + (long)b * L * qstride + (long)h * D;
    const bf16* dob = dout + (long)b * L * qstride + (long)h * D;
    const float* lse_h = lse + ((long)b * H + h) * L;
    const float* delta_h = delta + ((long)b * H + h) * L;

    for (int qt = k0; qt < qend; qt += BM) {
      __syncthreads();  // every warp is done with the previous Q, dO and dS tiles
      load_tile_async<BM, D, LDS, T>(Qs, qb, qstride, qt, L);
      load_tile_async<BM, D, LDS, T>(dOs, dob, qstride, qt, L);
      cp_async_commit();
      for (int i = threadIdx.x; i < BM; i += T) {
        const int row = qt + i;
        lse_s[i] = row < L ? lse_h[row] * LL_LOG2E : 0.f;
        delta_s[i] = row < L ? delta_h[row] : 0.f;
      }
      cp_async_wait_all();
      __syncthreads();

      // S^T = K Q^T and dP^T = V dO^T, rows = this warp's 16 keys, columns = the BM queries.
      float st[BM / 8][4], dpt[BM / 8][4];
#pragma unroll
      for (int nb = 0; nb < BM / 8; ++nb)
#pragma unroll
        for (int c = 0; c < 4; ++c) st[nb][c] = dpt[nb][c] = 0.f;
#pragma unroll
      for (int kk = 0; kk < D / 16; ++kk) {
        uint32_t ka[4], va[4];
        ldmatrix_x4(ka[0], ka[1], ka[2], ka[3], Ks + (warp * 16 + a_row) * LDS + kk * 16 + a_col);
        ldmatrix_x4(va[0], va[1], va[2], va[3], Vs + (warp * 16 + a_row) * LDS + kk * 16 + a_col);
#pragma unroll
        for (int nb = 0; nb < BM / 8; nb += 2) {
          uint32_t b0, b1, b2, b3;
          ldmatrix_x4(b0, b1, b2, b3, Qs + (nb * 8 + b_row) * LDS + kk * 16 + b_col);
          mma_bf16_16816(st[nb], ka, b0, b1);
          mma_bf16_16816(st[nb + 1], ka, b2, b3);
          ldmatrix_x4(b0, b1, b2, b3, dOs + (nb * 8 + b_row) * LDS + kk * 16 + b_col);
          mma_bf16_16816(dpt[nb], va, b0, b1);
          mma_bf16_16816(dpt[nb + 1], va, b2, b3);
        }
      }

      // P^T = exp(scale S^T - LSE) (recomputed), dS^T = P^T (dP^T - delta); st holds P^T, dpt holds dS^T.
      const bool full = tile_fully_visible(qt, qt + BM, k0, k0 + BN, G, s, L);
#pragma unroll
      for (int nb = 0; nb < BM / 8; ++nb) {
#pragma unroll
        for (int c = 0; c < 4; ++c) {
          const int qi = nb * 8 + 2 * t + (c & 1);
          const int key = (c < 2) ? key_lo : key_hi;
          const bool on = full || visible(qt + qi, key, G, s, L);
          const float p = on ? exp2f(st[nb][c] * scale_log2 - lse_s[qi]) : 0.f;
          st[nb][c] = p;
          dpt[nb][c] = p * (dpt[nb][c] - delta_s[qi]);
        }
      }

      // dV += P^T dO and dK += dS^T Q: A from registers (k = queries), B = dO / Q transposed by ldmatrix.
#pragma unroll
      for (int kk = 0; kk < BM / 16; ++kk) {
        const uint32_t pa[4] = {pack_bf16(st[2 * kk][0], st[2 * kk][1]), pack_bf16(st[2 * kk][2], st[2 * kk][3]),
                                pack_bf16(st[2 * kk + 1][0], st[2 * kk + 1][1]),
                                pack_bf16(st[2 * kk + 1][2], st[2 * kk + 1][3])};
        const uint32_t da[4] = {pack_bf16(dpt[2 * kk][0], dpt[2 * kk][1]), pack_bf16(dpt[2 * kk][2], dpt[2 * kk][3]),
                                pack_bf16(dpt[2 * kk + 1][0], dpt[2 * kk + 1][1]),
                                pack_bf16(dpt[2 * kk + 1][2], dpt[2 * kk + 1][3])};
        const int trow = kk * 16 + ((lane >> 3) & 1) * 8 + (lane & 7);
#pragma unroll
        for (int dn = 0; dn < D / 8; dn += 2) {
          const int tcol = (dn + (lane >> 4)) * 8;
          uint32_t b0, b1, b2, b3;
          ldmatrix_x4_trans(b0, b1, b2, b3, dOs + trow * LDS + tcol);
          mma_bf16_16816(dva[dn], pa, b0, b1);
          mma_bf16_16816(dva[dn + 1], pa, b2, b3);
          ldmatrix_x4_trans(b0, b1, b2, b3, Qs + trow * LDS + tcol);
          mma_bf16_16816(dka[dn], da, b0, b1);
          mma_bf16_16816(dka[dn + 1], da, b2, b3);
        }
      }

      // dQ += scale * dS K: dS goes through shared memory as [query][key] so that queries become rows.
#pragma unroll
      for (int nb = 0; nb < BM / 8; ++nb) {
#pragma unroll
        for (int c = 0; c < 4; ++c) {
          const int qi = nb * 8 + 2 * t + (c & 1);
          const int kl = warp * 16 + g + ((c < 2) ? 0 : 8);
          dSs[qi * LDP + kl] = __float2bfloat16(dpt[nb][c]);
        }
      }
      __syncthreads();

      constexpr int MB = BM / 16;        // 16-query row blocks of the dQ tile
      constexpr int WPM = C::WARPS / MB;  // warps sharing one row block
      constexpr int NBW = (D / 8) / WPM;  // 8-column blocks per warp
      static_assert(C::WARPS % MB == 0 && NBW % 2 == 0, "dQ tile split");
      const int mblk = warp / WPM, nbase = (warp % WPM) * NBW;
      float dqa[NBW][4];
#pragma unroll
      for (int j = 0; j < NBW; ++j) dqa[j][0] = dqa[j][1] = dqa[j][2] = dqa[j][3] = 0.f;
#pragma unroll
      for (int kk = 0; kk < BN / 16; ++kk) {
        uint32_t sa[4];
        ldmatrix_x4(sa[0], sa[1], sa[2], sa[3], dSs + (mblk * 16 + a_row) * LDP + kk * 16 + a_col);
        const int trow = kk * 16 + ((lane >> 3) & 1) * 8 + (lane & 7);
#pragma unroll
        for (int j = 0; j < NBW; j += 2) {
          uint32_t b0, b1, b2, b3;
          ldmatrix_x4_trans(b0, b1, b2, b3, Ks + trow * LDS + (nbase + j + (lane >> 4)) * 8);
          mma_bf16_16816(dqa[j], sa, b0, b1);
          mma_bf16_16816(dqa[j + 1], sa, b2, b3);
        }
      }
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        const int row = qt + mblk * 16 + g + 8 * r;
        if (row < L) {
          float* dst = dq_acc + ((long)b * L + row) * qstride + (long)h * D;
#pragma unroll
          for (int j = 0; j < NBW; ++j) {
            const int col = (nbase + j) * 8 + 2 * t;
            atomic_add_pair(dst + col, dqa[j][2 * r] * scale, dqa[j][2 * r + 1] * scale);
          }
        }
      }
    }
  }

#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int key = r ? key_hi : key_lo;
    if (key < L) {
      bf16* dkr = dk + ((long)b * L + key) * kstride + (long)hk * D;
      bf16* dvr = dv + ((long)b * L + key) * kstride + (long)hk * D;
#pragma unroll
      for (int dn = 0; dn < D / 8; ++dn) {
        *reinterpret_cast<uint32_t*>(dkr + dn * 8 + 2 * t) = pack_bf16(dka[dn][2 * r] * scale, dka[dn][2 * r + 1] * scale);
        *reinterpret_cast<uint32_t*>(dvr + dn * 8 + 2 * t) = pack_bf16(dva[dn][2 * r], dva[dn][2 * r + 1]);
      }
    }
  }
}

#define LL_ATTN_BWD_ENTRY(NAME, D, BN)                                                                         \
  extern "C" __global__ void __launch_bounds__(BN / 16 * 32)                                                   \
      NAME(const bf16* q, const bf16* k, const bf16* v, const bf16* dout, const float* lse, const float* delta, \
           float* dq_acc, bf16* dk, bf16* dv, int H, int Hkv, int L, int G, int shift, float scale) {         \
    attn_bwd<D, BN>(q, k, v, dout, lse, delta, dq_acc, dk, dv, H, Hkv, L, G, shift, scale);                   \
  }

// The default backward (64-key tiles, 4 warps) and a variant with 128-key tiles and 8 warps (half the dQ atomics
// and Q/dO reloads per key); kernels/check/attention_check.py times both.
LL_ATTN_BWD_ENTRY(attn_bwd_d64, 64, 64)
LL_ATTN_BWD_ENTRY(attn_bwd_d128, 128, 64)
LL_ATTN_BWD_ENTRY(attn_bwd_d64_n128, 64, 128)
LL_ATTN_BWD_ENTRY(attn_bwd_d128_n128, 128, 128)

// ---- generic fp32 attention, any head dimension up to 256 ---------------------------------------------------
// For models whose head dimension has no tensor-core kernel (e.g. the tiny demo models): one warp per query row,
// keys visited one by one with an online softmax, lanes striding over the head dimension. Same layouts and S2
// arguments as above, but fp32 tensors; O(L^2 d) work, meant for small models. Backward accumulates (+=) into
// dq, dk, dv like the trainer's Backend seam (dk, dv through atomics). Grid ceil(B*L*H / 4), block 128.

#define LL_GENERIC_MAX_PER_LANE 8  // D <= 256

__device__ __forceinline__ float warp_allsum(float v) {
  for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
  return v;
}

extern "C" __global__ void attn_generic_fwd(const float* __restrict__ q, const float* __restrict__ k,
                                            const float* __restrict__ v, float* __restrict__ o,
                                            float* __restrict__ lse, int B, int H, int Hkv, int L, int D, int G,
                                            int shift, float scale) {
  const long row = (long)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (row >= (long)B * L * H) return;
  const int h = row % H, pos = (row / H) % L, b = row / ((long)H * L);
  const int hk = h / (H / Hkv), s = (h >= H / 2) ? shift : 0;
  float qr[LL_GENERIC_MAX_PER_LANE], acc[LL_GENERIC_MAX_PER_LANE];
#pragma unroll
  for (int j = 0; j < LL_GENERIC_MAX_PER_LANE; ++j) {
    const int c = lane + 32 * j;
    qr[j] = c < D ? q[row * D + c] : 0.f;
    acc[j] = 0.f;
  }
  float m = -LL_INF, l = 0.f;
  for (int key = segment_start(pos, G, s); key <= pos; ++key) {
    const long kv = (((long)b * L + key) * Hkv + hk) * D;
    float dot = 0.f;
#pragma unroll
    for (int j = 0; j < LL_GENERIC_MAX_PER_LANE; ++j) {
      const int c = lane + 32 * j;
      if (c < D) dot += qr[j] * k[kv + c];
    }
    const float x = warp_allsum(dot) * scale;
    const float m_new = fmaxf(m, x);
    const float alpha = expf(m - m_new), p = expf(x - m_new);
    l = l * alpha + p;
#pragma unroll
    for (int j = 0; j < LL_GENERIC_MAX_PER_LANE; ++j) {
      const int c = lane + 32 * j;
      if (c < D) acc[j] = acc[j] * alpha + p * v[kv + c];
    }
    m = m_new;
  }
#pragma unroll
  for (int j = 0; j < LL_GENERIC_MAX_PER_LANE; ++j) {
    const int c = lane + 32 * j;
    if (c < D) o[row * D + c] = acc[j] / l;
  }
  if (lane == 0) lse[((long)b * H + h) * L + pos] = m + logf(l);
}

extern "C" __global__ void attn_generic_bwd(const float* __restrict__ q, const float* __restrict__ k,
                                            const float* __restrict__ v, const float* __restrict__ o,
                                            const float* __restrict__ dout, const float* __restrict__ lse,
                                            float* __restrict__ dq, float* dk, float* dv, int B, int H, int Hkv,
                                            int L, int D, int G, int shift, float scale) {
  const long row = (long)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (row >= (long)B * L * H) return;
  const int h = row % H, pos = (row / H) % L, b = row / ((long)H * L);
  const int hk = h / (H / Hkv), s = (h >= H / 2) ? shift : 0;
  float qr[LL_GENERIC_MAX_PER_LANE], gr[LL_GENERIC_MAX_PER_LANE], dqa[LL_GENERIC_MAX_PER_LANE];
  float delta = 0.f;
#pragma unroll
  for (int j = 0; j < LL_GENERIC_MAX_PER_LANE; ++j) {
    const int c = lane + 32 * j;
    qr[j] = c < D ? q[row * D + c] : 0.f;
    gr[j] = c < D ? dout[row * D + c] : 0.f;
    delta += c < D ? gr[j] * o[row * D + c] : 0.f;
    dqa[j] = 0.f;
  }
  delta = warp_allsum(delta);
  const float lse_row = lse[((long)b * H + h) * L + pos];
  for (int key = segment_start(pos, G, s); key <= pos; ++key) {
    const long kv = (((long)b * L + key) * Hkv + hk) * D;
    float dot = 0.f, dpv = 0.f;
#pragma unroll
    for (int j = 0; j < LL_GENERIC_MAX_PER_LANE; ++j) {
      const int c = lane + 32 * j;
      if (c < D) {
        dot += qr[j] * k[kv + c];
        dpv += gr[j] * v[kv + c];
      }
    }
    const float p = expf(warp_allsum(dot) * scale - lse_row);
    const float ds = p * (warp_allsum(dpv) - delta);
#pragma unroll
    for (int j = 0; j < LL_GENERIC_MAX_PER_LANE; ++j) {
      const int c = lane + 32 * j;
      if (c < D) {
        dqa[j] += ds * scale * k[kv + c];
        atomicAdd(dk + kv + c, ds * scale * qr[j]);
        atomicAdd(dv + kv + c, p * gr[j]);
      }
    }
  }
#pragma unroll
  for (int j = 0; j < LL_GENERIC_MAX_PER_LANE; ++j) {
    const int c = lane + 32 * j;
    if (c < D) dq[row * D + c] += dqa[j];
  }
}

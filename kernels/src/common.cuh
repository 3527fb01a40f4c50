// Shared device helpers: bf16 packing, tensor-core mma (m16n8k16, bf16 in, fp32 accumulate), ldmatrix,
// cp.async tile loads and the S2-Attn segment arithmetic. Everything here is sm_80+.
#pragma once
#include <cuda_bf16.h>
#include <stdint.h>

typedef __nv_bfloat16 bf16;

#define LL_DEVICE __device__ __forceinline__

// Two floats into one bf16x2 register: `lo` takes the lower 16 bits (the lower column/k index in mma fragments).
LL_DEVICE uint32_t pack_bf16(float lo, float hi) {
  __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<uint32_t*>(&v);
}

LL_DEVICE float2 unpack_bf16(uint32_t v) {
  __nv_bfloat162 h = *reinterpret_cast<__nv_bfloat162*>(&v);
  return __bfloat1622float2(h);
}

// D = A(16x16, row) * B(16x8, col) + D. Fragment layout (g = lane/4, t = lane%4):
//   a0: (g, 2t..2t+1) a1: (g+8, 2t..) a2: (g, 2t+8..) a3: (g+8, 2t+8..)
//   b0: (k=2t..2t+1, n=g) b1: (k=2t+8.., n=g)
//   d0,d1: (g, 2t..2t+1) d2,d3: (g+8, 2t..2t+1)
LL_DEVICE void mma_bf16_16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
      "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Four transposed 8x8 b16 matrices from shared memory; lane L supplies the address of row L%8 of matrix L/8.
LL_DEVICE void ldmatrix_x4_trans(uint32_t& r0, uint32_t& r1, uint32_t& r2, uint32_t& r3, const bf16* smem_row) {
  uint32_t addr = static_cast<uint32_t>(__cvta_generic_to_shared(smem_row));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3)
               : "r"(addr));
}

LL_DEVICE uint32_t lds32(const bf16* p) { return *reinterpret_cast<const uint32_t*>(p); }

// 16-byte asynchronous global->shared copy; when `valid` is false the destination is zero-filled.
LL_DEVICE void cp_async16(bf16* smem, const bf16* gmem, bool valid) {
  uint32_t addr = static_cast<uint32_t>(__cvta_generic_to_shared(smem));
  int src_bytes = valid ? 16 : 0;
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(addr), "l"(gmem), "r"(src_bytes));
}
LL_DEVICE void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
LL_DEVICE void cp_async_wait_all() { asm volatile("cp.async.wait_group 0;\n" ::); }

// Loads rows [row0, row0+ROWS) of a [*, D] bf16 matrix with row stride `gstride` (elements) into shared
// memory [ROWS][LDS]; rows at or beyond `rows_valid` are zero-filled.
template <int ROWS, int D, int LDS, int THREADS>
LL_DEVICE void load_tile_async(bf16* smem, const bf16* gbase, long gstride, int row0, int rows_valid) {
  constexpr int CHUNKS_PER_ROW = D / 8;
  constexpr int CHUNKS = ROWS * CHUNKS_PER_ROW;
  for (int c = threadIdx.x; c < CHUNKS; c += THREADS) {
    int r = c / CHUNKS_PER_ROW;
    int col = (c % CHUNKS_PER_ROW) * 8;
    int row = row0 + r;
    bool valid = row < rows_valid;
    const bf16* src = valid ? gbase + (long)row * gstride + col : gbase;
    cp_async16(smem + r * LDS + col, src, valid);
  }
}

// S2-Attn segments (method section 2): with shift s, position p lies in segment floor((p+s)/G), which spans
// [max(0, seg*G - s), min(L, seg*G - s + G)). Full causal attention is G = L, s = 0 (one segment).
LL_DEVICE int segment_start(int p, int G, int s) {
  int st = ((p + s) / G) * G - s;
  return st < 0 ? 0 : st;
}
LL_DEVICE int segment_end(int p, int G, int s, int L) {
  int e = ((p + s) / G) * G - s + G;
  return e > L ? L : e;
}

// A tile of queries [q0, q1) x keys [k0, k1) needs no per-element mask when every key is visible to every query:
// all keys at or before the first query, none before the last query's segment start, and all inside L.
LL_DEVICE bool tile_fully_visible(int q0, int q1, int k0, int k1, int G, int s, int L) {
  return (k1 - 1 <= q0) && (k0 >= segment_start(q1 - 1, G, s)) && (q1 <= L) && (k1 <= L);
}

LL_DEVICE bool visible(int q, int k, int G, int s, int L) {
  return q < L && k <= q && k >= segment_start(q, G, s);
}

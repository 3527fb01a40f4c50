// Shared device helpers: tile loads and the S2-Attn segment arithmetic, on top of device_primitives.cuh.
#pragma once
#include "device_primitives.cuh"

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

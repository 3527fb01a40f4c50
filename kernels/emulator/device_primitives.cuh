// CPU emulation of src/device_primitives.cuh, with the same names and semantics: bf16 with round-to-nearest-even,
// mma.m16n8k16 and ldmatrix.x4.trans as warp-collective exchanges with the documented fragment layouts, cp.async as
// a plain copy. Used only by kernels/emulator/run.sh.
#pragma once
#include <cstdint>
#include <cstring>

struct bf16 {
  uint16_t bits;
};
struct __nv_bfloat162 {
  bf16 x, y;
};

inline bf16 __float2bfloat16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return bf16{uint16_t((u >> 16) | 0x40)};  // NaN stays NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return bf16{uint16_t(u >> 16)};
}
inline float __bfloat162float(bf16 h) {
  uint32_t u = uint32_t(h.bits) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline __nv_bfloat162 __floats2bfloat162_rn(float a, float b) { return {__float2bfloat16(a), __float2bfloat16(b)}; }
inline float2 __bfloat1622float2(__nv_bfloat162 h) { return {__bfloat162float(h.x), __bfloat162float(h.y)}; }

#define LL_DEVICE inline
#define LL_DYNAMIC_SMEM(name) unsigned char* name = emu_dynamic_smem()

inline uint32_t pack_bf16(float lo, float hi) {
  return uint32_t(__float2bfloat16(lo).bits) | (uint32_t(__float2bfloat16(hi).bits) << 16);
}
inline float2 unpack_bf16(uint32_t v) {
  return {__bfloat162float(bf16{uint16_t(v & 0xffff)}), __bfloat162float(bf16{uint16_t(v >> 16)})};
}

void mma_bf16_16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1);
void ldmatrix_x4(uint32_t& r0, uint32_t& r1, uint32_t& r2, uint32_t& r3, const bf16* smem_row);
void ldmatrix_x4_trans(uint32_t& r0, uint32_t& r1, uint32_t& r2, uint32_t& r3, const bf16* smem_row);

inline uint32_t lds32(const bf16* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline void cp_async16(bf16* smem, const bf16* gmem, bool valid) {
  if (valid) std::memcpy(smem, gmem, 16);
  else std::memset(smem, 0, 16);
}
inline void cp_async_commit() {}
inline void cp_async_wait_all() {}
inline void atomic_add_pair(float* p, float a, float b) {
  atomicAdd(p, a);
  atomicAdd(p + 1, b);
}

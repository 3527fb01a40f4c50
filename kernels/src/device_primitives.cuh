// The hardware primitives the kernels use, kept apart so that kernels/emulator/ can substitute a CPU emulation
// of exactly these (and nothing else) to check the kernels' index arithmetic on machines without a GPU:
// bf16 packing, tensor-core mma (m16n8k16, bf16 in, fp32 accumulate), ldmatrix, 32-bit shared loads, cp.async,
// and the declaration of dynamic shared memory. Everything here is sm_80+.
#pragma once
#include <cuda_bf16.h>
#include <stdint.h>

typedef __nv_bfloat16 bf16;

#define LL_DEVICE __device__ __forceinline__

// Declares `name` as the block's dynamic shared memory (bytes, 16-byte aligned).
#define LL_DYNAMIC_SMEM(name) extern __shared__ __align__(16) unsigned char name[]

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

// Four 8x8 b16 matrices from shared memory; lane L supplies the address of row L%8 of matrix L/8 and receives
// row L/4, columns 2*(L%4) and 2*(L%4)+1 of each matrix (the mma A/B fragment layout).
LL_DEVICE void ldmatrix_x4(uint32_t& r0, uint32_t& r1, uint32_t& r2, uint32_t& r3, const bf16* smem_row) {
  uint32_t addr = static_cast<uint32_t>(__cvta_generic_to_shared(smem_row));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3)
               : "r"(addr));
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

// p[0] += a, p[1] += b in global memory (p 8-byte aligned): one vector reduction on sm_90, two scalar ones before.
LL_DEVICE void atomic_add_pair(float* p, float a, float b) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  atomicAdd(reinterpret_cast<float2*>(p), make_float2(a, b));
#else
  atomicAdd(p, a);
  atomicAdd(p + 1, b);
#endif
}

// The emulated machine shared by the emulator's checks: blocks run one at a time as blockDim.x std::threads;
// barriers implement __syncthreads and the warp-wide exchanges behind shuffles, mma and ldmatrix.
// Include once per program, after prelude.h and the kernel source.
#pragma once
#include <barrier>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

thread_local dim3 threadIdx;
dim3 blockIdx, gridDim, blockDim;

namespace {
struct WarpExchange {
  float f[32];
  double d[32];
  uint32_t a[32][4];
  uint32_t b[32][2];
  const bf16* p[32];
};
std::unique_ptr<std::barrier<>> block_barrier;
std::vector<std::unique_ptr<std::barrier<>>> warp_barriers;
std::vector<WarpExchange> warps;
std::vector<unsigned char> dynamic_smem(256 * 1024);

int lane() { return threadIdx.x % 32; }
int warp() { return threadIdx.x / 32; }
void warp_sync() { warp_barriers[warp()]->arrive_and_wait(); }

float bf(uint32_t v, bool high) { return __bfloat162float(bf16{uint16_t(high ? v >> 16 : v & 0xffff)}); }
}  // namespace

unsigned char* emu_dynamic_smem() { return dynamic_smem.data(); }
void __syncthreads() { block_barrier->arrive_and_wait(); }

float __shfl_xor_sync(unsigned, float v, int m) {
  WarpExchange& w = warps[warp()];
  w.f[lane()] = v;
  warp_sync();
  float r = w.f[lane() ^ m];
  warp_sync();
  return r;
}

double __shfl_xor_sync(unsigned, double v, int m) {
  WarpExchange& w = warps[warp()];
  w.d[lane()] = v;
  warp_sync();
  double r = w.d[lane() ^ m];
  warp_sync();
  return r;
}

// PTX ISA fragment layouts for mma.m16n8k16 with bf16 A (row) and B (col): g = lane/4, t = lane%4.
void mma_bf16_16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  WarpExchange& w = warps[warp()];
  const int L = lane();
  for (int i = 0; i < 4; ++i) w.a[L][i] = a[i];
  w.b[L][0] = b0;
  w.b[L][1] = b1;
  warp_sync();
  auto A = [&](int r, int c) { return bf(w.a[(r % 8) * 4 + (c % 8) / 2][(r >= 8) + 2 * (c >= 8)], c % 2); };
  auto B = [&](int k, int n) { return bf(w.b[n * 4 + (k % 8) / 2][k >= 8], k % 2); };
  const int g = L / 4, t = L % 4;
  for (int i = 0; i < 4; ++i) {
    const int row = g + (i >= 2 ? 8 : 0), col = 2 * t + (i & 1);
    float s = d[i];
    for (int k = 0; k < 16; ++k) s += A(row, k) * B(k, col);
    d[i] = s;
  }
  warp_sync();
}

// ldmatrix.x4: lanes 8i..8i+7 give the rows of matrix i; lane L receives M_i[g][2t] (low) and M_i[g][2t+1].
void ldmatrix_x4(uint32_t& r0, uint32_t& r1, uint32_t& r2, uint32_t& r3, const bf16* row) {
  WarpExchange& w = warps[warp()];
  const int L = lane();
  w.p[L] = row;
  warp_sync();
  const int g = L / 4, t = L % 4;
  uint32_t r[4];
  for (int i = 0; i < 4; ++i)
    r[i] = uint32_t(w.p[8 * i + g][2 * t].bits) | (uint32_t(w.p[8 * i + g][2 * t + 1].bits) << 16);
  warp_sync();
  r0 = r[0];
  r1 = r[1];
  r2 = r[2];
  r3 = r[3];
}

// ldmatrix.x4.trans: lanes 8i..8i+7 give the rows of matrix i; lane L receives M_i[2t][g] (low) and M_i[2t+1][g].
void ldmatrix_x4_trans(uint32_t& r0, uint32_t& r1, uint32_t& r2, uint32_t& r3, const bf16* row) {
  WarpExchange& w = warps[warp()];
  const int L = lane();
  w.p[L] = row;
  warp_sync();
  const int g = L / 4, t = L % 4;
  uint32_t r[4];
  for (int i = 0; i < 4; ++i)
    r[i] = uint32_t(w.p[8 * i + 2 * t][g].bits) | (uint32_t(w.p[8 * i + 2 * t + 1][g].bits) << 16);
  warp_sync();
  r0 = r[0];
  r1 = r[1];
  r2 = r[2];
  r3 = r[3];
}

// Runs `kernel` over the grid, one block at a time, each block as blockDim.x threads. Shared memory starts as
// 0xff bytes (bf16 NaN), so a read of a tile slot that nothing wrote shows up as NaN in the outputs.
void launch(dim3 grid, int threads, const std::function<void()>& kernel) {
  gridDim = grid;
  blockDim = dim3{unsigned(threads), 1, 1};
  const int nwarps = (threads + 31) / 32;
  warps.assign(nwarps, WarpExchange{});
  for (unsigned z = 0; z < grid.z; ++z)
    for (unsigned y = 0; y < grid.y; ++y)
      for (unsigned x = 0; x < grid.x; ++x) {
        blockIdx = dim3{x, y, z};
        std::fill(dynamic_smem.begin(), dynamic_smem.end(), 0xff);
        block_barrier = std::make_unique<std::barrier<>>(threads);
        warp_barriers.clear();
        for (int i = 0; i < nwarps; ++i) warp_barriers.push_back(std::make_unique<std::barrier<>>(32));
        std::vector<std::thread> ts;
        for (int tid = 0; tid < threads; ++tid)
          ts.emplace_back([&, tid] {
            threadIdx = dim3{unsigned(tid), 0, 0};
            kernel();
            warp_barriers[tid / 32]->arrive_and_drop();
            block_barrier->arrive_and_drop();
          });
        for (auto& th : ts) th.join();
      }
}


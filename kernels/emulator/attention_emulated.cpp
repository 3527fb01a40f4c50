// Runs the real attention.cu (compiled as host C++ over the emulated primitives) on random inputs and compares
// O, LSE, dQ, dK, dV with a float64 reference of method section 2 (S2 segments, GQA, causal). This checks the
// kernels' tiling, masking, fragment and index arithmetic on a machine without a GPU; speed and the real
// hardware's rounding are for kernels/device-check.sh. Exit status 0 when every case is within the bf16 bound.
#include <barrier>
#include <cstdio>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "prelude.h"
#include "attention.cu"

// ---- the emulated machine ------------------------------------------------------------------------------------

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

// ---- the check -------------------------------------------------------------------------------------------------

struct Case {
  int B, L, H, Hkv, D, G, shift;
  std::string name;
};

double rel_l2(const std::vector<double>& out, const std::vector<double>& ref) {
  double num = 0, den = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (!std::isfinite(out[i])) return NAN;
    num += (out[i] - ref[i]) * (out[i] - ref[i]);
    den += ref[i] * ref[i];
  }
  return std::sqrt(num / den);
}

bool run_case(const Case& c, std::mt19937& rng) {
  std::normal_distribution<float> nd;
  const long nq = (long)c.B * c.L * c.H * c.D, nk = (long)c.B * c.L * c.Hkv * c.D;
  auto randbf = [&](long n) {
    std::vector<bf16> v(n);
    for (auto& x : v) x = __float2bfloat16(nd(rng));
    return v;
  };
  std::vector<bf16> q = randbf(nq), k = randbf(nk), v = randbf(nk), dout = randbf(nq);
  auto f = [](const std::vector<bf16>& x, long i) { return (double)__bfloat162float(x[i]); };

  // float64 reference
  const double scale = 1.0 / std::sqrt((double)c.D);
  std::vector<double> ro(nq), rlse((long)c.B * c.H * c.L), rdq(nq, 0.0), rdk(nk, 0.0), rdv(nk, 0.0);
  for (int b = 0; b < c.B; ++b)
    for (int h = 0; h < c.H; ++h) {
      const int hk = h / (c.H / c.Hkv), s = h >= c.H / 2 ? c.shift : 0;
      auto qi = [&](int p, int d) { return (((long)b * c.L + p) * c.H + h) * c.D + d; };
      auto ki = [&](int p, int d) { return (((long)b * c.L + p) * c.Hkv + hk) * c.D + d; };
      for (int p = 0; p < c.L; ++p) {
        std::vector<double> sc(c.L, -INFINITY), pr(c.L, 0.0);
        double mx = -INFINITY;
        for (int j = 0; j <= p; ++j) {
          if ((j + s) / c.G != (p + s) / c.G) continue;
          double acc = 0;
          for (int d = 0; d < c.D; ++d) acc += f(q, qi(p, d)) * f(k, ki(j, d));
          sc[j] = acc * scale;
          mx = std::max(mx, sc[j]);
        }
        double sum = 0;
        for (int j = 0; j <= p; ++j) sum += (pr[j] = std::isinf(sc[j]) ? 0.0 : std::exp(sc[j] - mx));
        for (int j = 0; j <= p; ++j) pr[j] /= sum;
        rlse[((long)b * c.H + h) * c.L + p] = mx + std::log(sum);
        for (int d = 0; d < c.D; ++d) {
          double o = 0;
          for (int j = 0; j <= p; ++j) o += pr[j] * f(v, ki(j, d));
          ro[qi(p, d)] = o;
        }
        double delta = 0;
        for (int d = 0; d < c.D; ++d) delta += f(dout, qi(p, d)) * ro[qi(p, d)];
        for (int j = 0; j <= p; ++j) {
          if (pr[j] == 0.0) continue;
          double dp = 0;
          for (int d = 0; d < c.D; ++d) dp += f(dout, qi(p, d)) * f(v, ki(j, d));
          const double ds = pr[j] * (dp - delta);
          for (int d = 0; d < c.D; ++d) {
            rdv[ki(j, d)] += pr[j] * f(dout, qi(p, d));
            rdq[qi(p, d)] += scale * ds * f(k, ki(j, d));
            rdk[ki(j, d)] += scale * ds * f(q, qi(p, d));
          }
        }
      }
    }

  // kernels, outputs poisoned with NaN
  std::vector<bf16> o(nq, bf16{0x7fc0}), dq(nq, bf16{0x7fc0}), dk(nk, bf16{0x7fc0}), dv(nk, bf16{0x7fc0});
  std::vector<float> lse((long)c.B * c.H * c.L, NAN), delta((long)c.B * c.H * c.L, NAN), dq_acc(nq, NAN);
  const float fscale = 1.f / std::sqrt((float)c.D);
  launch(dim3{unsigned((c.L + 63) / 64), unsigned(c.H), unsigned(c.B)}, 128, [&] {
    if (c.D == 64) attn_fwd_d64(q.data(), k.data(), v.data(), o.data(), lse.data(), c.H, c.Hkv, c.L, c.G, c.shift, fscale);
    else attn_fwd_d128(q.data(), k.data(), v.data(), o.data(), lse.data(), c.H, c.Hkv, c.L, c.G, c.shift, fscale);
  });
  const long rows = (long)c.B * c.L * c.H;
  launch(dim3{unsigned((rows + 3) / 4), 1, 1}, 128, [&] {
    attn_bwd_preprocess(o.data(), dout.data(), delta.data(), dq_acc.data(), c.B, c.H, c.L, c.D);
  });
  launch(dim3{unsigned((c.L + 63) / 64), unsigned(c.Hkv), unsigned(c.B)}, 128, [&] {
    if (c.D == 64)
      attn_bwd_d64(q.data(), k.data(), v.data(), dout.data(), lse.data(), delta.data(), dq_acc.data(), dk.data(),
                   dv.data(), c.H, c.Hkv, c.L, c.G, c.shift, fscale);
    else
      attn_bwd_d128(q.data(), k.data(), v.data(), dout.data(), lse.data(), delta.data(), dq_acc.data(), dk.data(),
                    dv.data(), c.H, c.Hkv, c.L, c.G, c.shift, fscale);
  });
  launch(dim3{unsigned((nq + 255) / 256), 1, 1}, 256, [&] { attn_dq_convert(dq_acc.data(), dq.data(), nq); });

  auto dbl = [](const auto& x) {
    std::vector<double> r(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      if constexpr (std::is_same_v<std::decay_t<decltype(x[0])>, bf16>) r[i] = __bfloat162float(x[i]);
      else r[i] = x[i];
    }
    return r;
  };
  const double eo = rel_l2(dbl(o), ro), el = rel_l2(dbl(lse), rlse), eq = rel_l2(dbl(dq), rdq),
               ek = rel_l2(dbl(dk), rdk), ev = rel_l2(dbl(dv), rdv);
  const bool ok = eo < 1e-2 && el < 1e-2 && eq < 1e-2 && ek < 1e-2 && ev < 1e-2;  // NaN compares false
  std::printf("emulated %-36s o=%.2e lse=%.2e dq=%.2e dk=%.2e dv=%.2e %s\n", c.name.c_str(), eo, el, eq, ek, ev,
              ok ? "ok" : "FAIL");
  std::fflush(stdout);
  return ok;
}

int main(int argc, char** argv) {
  std::mt19937 rng(12345);
  std::vector<Case> cases = {
      {1, 200, 4, 2, 64, 200, 0, "B1 L200 H4/2 d64 full"},
      {1, 96, 4, 1, 64, 24, 12, "B1 L96 H4/1 d64 s2 G24 (G/2 splits tiles)"},
      {2, 136, 2, 2, 128, 136, 0, "B2 L136 H2/2 d128 full"},
      {1, 256, 4, 2, 128, 64, 32, "B1 L256 H4/2 d128 s2 G64"},
      {1, 160, 2, 1, 64, 40, 0, "B1 L160 H2/1 d64 short G40 no shift"},
  };
  const bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  bool ok = true;
  // --quick (the Maven build's test phase): one S2 case per head dimension, the tile-splitting ones.
  for (size_t i = 0; i < cases.size(); ++i)
    if (!quick || i == 1 || i == 3) ok &= run_case(cases[i], rng);
  std::printf("emulated attention: %s\n", ok ? "all cases passed" : "FAILED");
  return ok ? 0 : 1;
}

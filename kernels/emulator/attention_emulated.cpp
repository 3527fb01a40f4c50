// Runs the real attention.cu (compiled as host C++ over the emulated primitives) on random inputs and compares
// O, LSE, dQ, dK, dV with a float64 reference of method section 2 (S2 segments, GQA, causal). This checks the
// kernels' tiling, masking, fragment and index arithmetic on a machine without a GPU; speed and the real
// hardware's rounding are for kernels/device-check.sh. Exit status 0 when every case is within the bf16 bound.
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "prelude.h"
#include "attention.cu"

#include "runtime.h"

// ---- the check -------------------------------------------------------------------------------------------------

struct Case {
  int B, L, H, Hkv, D, G, shift;
  std::string name;
  int fwd_rows = 64, bwd_keys = 64;  // the kernel variant: query rows per forward block, keys per backward block
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

bool run_case(const Case& c, std::mt19937& rng, bool quick) {
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

  bool ok = true;
  const bool tensor_cores = c.D == 64 || c.D == 128;
  // kernels, outputs poisoned with NaN
  std::vector<bf16> o(nq, bf16{0x7fc0}), dq(nq, bf16{0x7fc0}), dk(nk, bf16{0x7fc0}), dv(nk, bf16{0x7fc0});
  std::vector<float> lse((long)c.B * c.H * c.L, NAN), delta((long)c.B * c.H * c.L, NAN), dq_acc(nq, NAN);
  const float fscale = 1.f / std::sqrt((float)c.D);
  if (tensor_cores) {
    auto fwd = c.D == 64 ? (c.fwd_rows == 64 ? attn_fwd_d64 : attn_fwd_d64_m128)
                         : (c.fwd_rows == 64 ? attn_fwd_d128 : attn_fwd_d128_m128);
    launch(dim3{unsigned((c.L + c.fwd_rows - 1) / c.fwd_rows), unsigned(c.H), unsigned(c.B)}, c.fwd_rows * 2, [&] {
      fwd(q.data(), k.data(), v.data(), o.data(), lse.data(), c.H, c.Hkv, c.L, c.G, c.shift, fscale);
    });
    const long rows = (long)c.B * c.L * c.H;
    launch(dim3{unsigned((rows + 3) / 4), 1, 1}, 128, [&] {
      attn_bwd_preprocess(o.data(), dout.data(), delta.data(), dq_acc.data(), c.B, c.H, c.L, c.D);
    });
    auto bwd = c.D == 64 ? (c.bwd_keys == 64 ? attn_bwd_d64 : attn_bwd_d64_n128)
                         : (c.bwd_keys == 64 ? attn_bwd_d128 : attn_bwd_d128_n128);
    launch(dim3{unsigned((c.L + c.bwd_keys - 1) / c.bwd_keys), unsigned(c.Hkv), unsigned(c.B)}, c.bwd_keys * 2, [&] {
      bwd(q.data(), k.data(), v.data(), dout.data(), lse.data(), delta.data(), dq_acc.data(), dk.data(), dv.data(),
          c.H, c.Hkv, c.L, c.G, c.shift, fscale);
    });
    launch(dim3{unsigned((nq + 255) / 256), 1, 1}, 256, [&] { attn_dq_convert(dq_acc.data(), dq.data(), nq); });
  }

  // The generic fp32 kernels on the same values: fp32 bound; gradients accumulate onto 1.0. (They are slow to
  // emulate, one warp exchange per key, so --quick runs them on the short cases only.)
  const bool generic = !quick || c.L <= 100;
  auto f32 = [](const std::vector<bf16>& x) {
    std::vector<float> r(x.size());
    for (size_t i = 0; i < x.size(); ++i) r[i] = __bfloat162float(x[i]);
    return r;
  };
  if (generic) {
  std::vector<float> fq = f32(q), fk = f32(k), fv = f32(v), fdo = f32(dout);
  std::vector<float> go(nq, NAN), glse((long)c.B * c.H * c.L, NAN), gdq(nq, 1.f), gdk(nk, 1.f), gdv(nk, 1.f);
  const unsigned grows = unsigned(((long)c.B * c.L * c.H + 3) / 4);
  launch(dim3{grows, 1, 1}, 128, [&] {
    attn_generic_fwd(fq.data(), fk.data(), fv.data(), go.data(), glse.data(), c.B, c.H, c.Hkv, c.L, c.D, c.G,
                     c.shift, fscale);
  });
  launch(dim3{grows, 1, 1}, 128, [&] {
    attn_generic_bwd(fq.data(), fk.data(), fv.data(), go.data(), fdo.data(), glse.data(), gdq.data(), gdk.data(),
                     gdv.data(), c.B, c.H, c.Hkv, c.L, c.D, c.G, c.shift, fscale);
  });
  auto minus1 = [](std::vector<float> x) {
    std::vector<double> r(x.size());
    for (size_t i = 0; i < x.size(); ++i) r[i] = x[i] - 1.0;
    return r;
  };
  auto as_d = [](const std::vector<float>& x) { return std::vector<double>(x.begin(), x.end()); };
  const double g_o = rel_l2(as_d(go), ro), g_l = rel_l2(as_d(glse), rlse), g_q = rel_l2(minus1(gdq), rdq),
               g_k = rel_l2(minus1(gdk), rdk), g_v = rel_l2(minus1(gdv), rdv);
  const bool gok = g_o < 1e-4 && g_l < 1e-4 && g_q < 1e-4 && g_k < 1e-4 && g_v < 1e-4;
  std::printf("emulated %-36s generic fp32: o=%.1e lse=%.1e dq=%.1e dk=%.1e dv=%.1e %s\n", c.name.c_str(), g_o, g_l,
              g_q, g_k, g_v, gok ? "ok" : "FAIL");
  ok &= gok;
  }
  if (!tensor_cores) return ok;

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
  const bool tc_ok = eo < 1e-2 && el < 1e-2 && eq < 1e-2 && ek < 1e-2 && ev < 1e-2;  // NaN compares false
  std::printf("emulated %-36s o=%.2e lse=%.2e dq=%.2e dk=%.2e dv=%.2e %s\n", c.name.c_str(), eo, el, eq, ek, ev,
              tc_ok ? "ok" : "FAIL");
  std::fflush(stdout);
  return ok && tc_ok;
}

int main(int argc, char** argv) {
  std::mt19937 rng(12345);
  std::vector<Case> cases = {
      {1, 200, 4, 2, 64, 200, 0, "B1 L200 H4/2 d64 full"},
      {1, 96, 4, 1, 64, 24, 12, "B1 L96 H4/1 d64 s2 G24 (G/2 splits tiles)"},
      {2, 136, 2, 2, 128, 136, 0, "B2 L136 H2/2 d128 full"},
      {1, 256, 4, 2, 128, 64, 32, "B1 L256 H4/2 d128 s2 G64"},
      {1, 160, 2, 1, 64, 40, 0, "B1 L160 H2/1 d64 short G40 no shift"},
      {1, 200, 4, 2, 64, 40, 20, "B1 L200 H4/2 d64 s2 G40 (m128/n128)", 128, 128},
      {1, 192, 2, 1, 128, 96, 48, "B1 L192 H2/1 d128 s2 G96 (m128/n128)", 128, 128},
      {1, 40, 2, 2, 64, 40, 0, "B1 L40 H2/2 d64 full (shorter than a tile)"},
      {1, 8, 1, 1, 64, 4, 2, "B1 L8 H1/1 d64 s2 G4 (one head: shifted)"},
      {1, 48, 4, 2, 16, 12, 6, "B1 L48 H4/2 d16 s2 G12 (generic only)"},
      {2, 40, 2, 1, 48, 40, 0, "B2 L40 H2/1 d48 full (generic only)"},
  };
  const bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  bool ok = true;
  // --quick (the Maven build's test phase): S2 cases with tile-splitting groups, both head dims and variants.
  for (size_t i = 0; i < cases.size(); ++i)
    if (!quick || i == 1 || i == 3 || i == 5 || i == 6 || i >= 9) ok &= run_case(cases[i], rng, quick);
  std::printf("emulated attention: %s\n", ok ? "all cases passed" : "FAILED");
  return ok ? 0 : 1;
}

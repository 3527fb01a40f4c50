#!/usr/bin/env python3
"""Checks the attention kernels against PyTorch math and times them against PyTorch SDPA (flash backend).

Runs on the lent GPU machine (PyTorch + CuPy, no Java): loads the cubin built by build-kernels.sh with CuPy,
checks forward (O, LSE) and backward (dQ, dK, dV) against an fp32 PyTorch reference on random bf16 inputs at
several shapes (lengths that are not multiples of the 64-row tile, GQA ratios, S2 and full causal), with the
outputs poisoned with NaN before every run, then times forward and forward+backward at B=1, H=32, d=128.

Usage: attention_check.py --kernels DIR --out DIR [--skip-bench]
"""
import argparse
import json
import math
import os
import sys

import cupy as cp
import numpy as np
import torch
import torch.nn.functional as F

REL_L2_BF16 = 1e-2


def ptr(t):
    return np.uint64(t.data_ptr())


class AttentionKernels:
    """Launches the kernels of attention.cu with the shapes its header documents."""

    def __init__(self, module_path, fwd_rows=64, bwd_keys=64):
        """fwd_rows: 64 (attn_fwd_d*) or 128 (the _m128 variant); bwd_keys: 64 or 128 (the _n128 variant)."""
        self.module = cp.RawModule(path=module_path)
        self.fwd_rows, self.bwd_keys = fwd_rows, bwd_keys
        fsuffix = "" if fwd_rows == 64 else "_m128"
        bsuffix = "" if bwd_keys == 64 else "_n128"
        self.fwd = {d: self.module.get_function(f"attn_fwd_d{d}{fsuffix}") for d in (64, 128)}
        self.bwd = {d: self.module.get_function(f"attn_bwd_d{d}{bsuffix}") for d in (64, 128)}
        self.pre = self.module.get_function("attn_bwd_preprocess")
        self.conv = self.module.get_function("attn_dq_convert")
        for d in (64, 128):
            self.fwd[d].max_dynamic_shared_size_bytes = self.fwd_smem(d)
            self.bwd[d].max_dynamic_shared_size_bytes = self.bwd_smem(d)

    def fwd_smem(self, d):
        return (self.fwd_rows + 4 * 64) * (d + 8) * 2

    def bwd_smem(self, d):
        bm = 32 if d == 128 else 64
        bn = self.bwd_keys
        return (2 * bn + 2 * bm) * (d + 8) * 2 + bm * (bn + 8) * 2 + 2 * bm * 4

    def forward(self, q, k, v, group, shift, o=None, lse=None):
        b, l, h, d = q.shape
        hkv = k.shape[2]
        o = torch.empty_like(q) if o is None else o
        lse = torch.empty(b, h, l, device=q.device, dtype=torch.float32) if lse is None else lse
        grid = ((l + self.fwd_rows - 1) // self.fwd_rows, h, b)
        with cp.cuda.ExternalStream(torch.cuda.current_stream().cuda_stream):
            self.fwd[d](grid, (self.fwd_rows * 2,), (ptr(q), ptr(k), ptr(v), ptr(o), ptr(lse), np.int32(h), np.int32(hkv),
                                       np.int32(l), np.int32(group), np.int32(shift),
                                       np.float32(1.0 / math.sqrt(d))), shared_mem=self.fwd_smem(d))
        return o, lse

    def backward(self, q, k, v, o, lse, dout, group, shift, grads=None):
        b, l, h, d = q.shape
        hkv = k.shape[2]
        if grads is None:
            grads = (torch.empty_like(q), torch.empty_like(k), torch.empty_like(v),
                     torch.empty(b, h, l, device=q.device, dtype=torch.float32),
                     torch.empty(b, l, h, d, device=q.device, dtype=torch.float32))
        dq, dk, dv, delta, dq_acc = grads
        rows = b * l * h
        with cp.cuda.ExternalStream(torch.cuda.current_stream().cuda_stream):
            self.pre(((rows + 3) // 4,), (128,), (ptr(o), ptr(dout), ptr(delta), ptr(dq_acc), np.int32(b),
                                                   np.int32(h), np.int32(l), np.int32(d)))
            self.bwd[d](((l + self.bwd_keys - 1) // self.bwd_keys, hkv, b), (self.bwd_keys * 2,),
                        (ptr(q), ptr(k), ptr(v), ptr(dout), ptr(lse), ptr(delta), ptr(dq_acc), ptr(dk), ptr(dv),
                         np.int32(h), np.int32(hkv), np.int32(l), np.int32(group), np.int32(shift),
                         np.float32(1.0 / math.sqrt(d))), shared_mem=self.bwd_smem(d))
            n = dq.numel()
            self.conv(((n + 255) // 256,), (256,), (ptr(dq_acc), ptr(dq), np.int64(n)))
        return dq, dk, dv


def visibility_mask(l, h, group, shift, device):
    """[H, L, L] boolean: method section 2's segments, causal inside each, head-dependent shift."""
    pos = torch.arange(l, device=device)
    masks = []
    for head in range(h):
        s = shift if head >= h // 2 else 0
        seg = torch.div(pos + s, group, rounding_mode="floor")
        masks.append((seg[:, None] == seg[None, :]) & (pos[None, :] <= pos[:, None]))
    return torch.stack(masks)


def reference(q, k, v, dout, group, shift):
    """fp32 attention on the bf16 inputs (GQA by repeat_interleave), with autograd for the gradients."""
    b, l, h, d = q.shape
    r = h // k.shape[2]
    qf = q.float().permute(0, 2, 1, 3).detach().requires_grad_()
    kf = k.float().permute(0, 2, 1, 3).detach().requires_grad_()
    vf = v.float().permute(0, 2, 1, 3).detach().requires_grad_()
    kr = kf.repeat_interleave(r, dim=1)
    vr = vf.repeat_interleave(r, dim=1)
    scores = (qf @ kr.transpose(-1, -2)) / math.sqrt(d)
    scores = scores.masked_fill(~visibility_mask(l, h, group, shift, q.device)[None], float("-inf"))
    lse = torch.logsumexp(scores, dim=-1)
    o = torch.softmax(scores, dim=-1) @ vr
    o.backward(dout.float().permute(0, 2, 1, 3))
    back = lambda t: t.permute(0, 2, 1, 3)
    return back(o).detach(), lse.detach(), back(qf.grad), back(kf.grad), back(vf.grad)


def rel_l2(out, ref):
    out = out.float()
    ref = ref.float()
    if not torch.isfinite(out).all():
        return float("nan")
    return (torch.linalg.vector_norm(out - ref) / torch.linalg.vector_norm(ref)).item()


def check(kern, results):
    torch.manual_seed(1234)
    cases = [  # (B, L, H, Hkv, D, pattern)
        (1, 256, 4, 4, 64, "full"), (2, 200, 4, 2, 64, "full"), (1, 1000, 8, 2, 128, "s2"),
        (1, 1024, 8, 1, 128, "s2"), (2, 520, 4, 4, 128, "s2"), (1, 777, 6, 3, 64, "full"),
        (1, 1536, 8, 8, 128, "full"), (1, 2048, 4, 1, 64, "s2"), (1, 96, 2, 2, 128, "s2"),
    ]
    ok = True
    for (b, l, h, hkv, d, pattern) in cases:
        if pattern == "s2":
            group, shift = l // 4, l // 8
            assert l % 4 == 0 and group % 2 == 0
        else:
            group, shift = l, 0
        q = torch.randn(b, l, h, d, device="cuda", dtype=torch.bfloat16)
        k = torch.randn(b, l, hkv, d, device="cuda", dtype=torch.bfloat16)
        v = torch.randn(b, l, hkv, d, device="cuda", dtype=torch.bfloat16)
        dout = torch.randn(b, l, h, d, device="cuda", dtype=torch.bfloat16)
        o = torch.full_like(q, float("nan"))
        lse = torch.full((b, h, l), float("nan"), device="cuda")
        kern.forward(q, k, v, group, shift, o, lse)
        grads = (torch.full_like(q, float("nan")), torch.full_like(k, float("nan")), torch.full_like(v, float("nan")),
                 torch.full((b, h, l), float("nan"), device="cuda"),
                 torch.full((b, l, h, d), float("nan"), device="cuda"))
        dq, dk, dv = kern.backward(q, k, v, o, lse, dout, group, shift, grads)
        torch.cuda.synchronize()
        ro, rlse, rdq, rdk, rdv = reference(q, k, v, dout, group, shift)
        errs = {"o": rel_l2(o, ro), "lse": rel_l2(lse, rlse), "dq": rel_l2(dq, rdq), "dk": rel_l2(dk, rdk),
                "dv": rel_l2(dv, rdv)}
        passed = all(e == e and e < REL_L2_BF16 for e in errs.values())
        ok &= passed
        name = f"B{b} L{l} H{h}/{hkv} d{d} {pattern}"
        print(f"check {name:28s} " + " ".join(f"{key}={val:.2e}" for key, val in errs.items())
              + ("  ok" if passed else "  FAIL"), flush=True)
        results["checks"].append({"case": name, "rel_l2": errs, "passed": passed})
    return ok


def check_generic(module_path, results):
    """The generic fp32 kernels (head dims without a tensor-core kernel) against the fp32 reference, bound 1e-4."""
    module = cp.RawModule(path=module_path)
    fwd, bwd = module.get_function("attn_generic_fwd"), module.get_function("attn_generic_bwd")
    ok = True
    for (b, l, h, hkv, d, pattern) in [(1, 96, 4, 2, 16, "s2"), (2, 70, 2, 1, 48, "full"), (1, 64, 2, 2, 200, "s2")]:
        group, shift = (l // 4, l // 8) if pattern == "s2" else (l, 0)
        q = torch.randn(b, l, h, d, device="cuda").to(torch.bfloat16)
        k = torch.randn(b, l, hkv, d, device="cuda").to(torch.bfloat16)
        v = torch.randn(b, l, hkv, d, device="cuda").to(torch.bfloat16)
        dout = torch.randn(b, l, h, d, device="cuda").to(torch.bfloat16)
        qf, kf, vf, gf = (t.float().contiguous() for t in (q, k, v, dout))
        o = torch.full_like(qf, float("nan"))
        lse = torch.full((b, h, l), float("nan"), device="cuda")
        dq, dk, dv = torch.zeros_like(qf), torch.zeros_like(kf), torch.zeros_like(vf)
        grid = ((b * l * h + 3) // 4,)
        args = (np.int32(b), np.int32(h), np.int32(hkv), np.int32(l), np.int32(d), np.int32(group), np.int32(shift),
                np.float32(1.0 / math.sqrt(d)))
        with cp.cuda.ExternalStream(torch.cuda.current_stream().cuda_stream):
            fwd(grid, (128,), (ptr(qf), ptr(kf), ptr(vf), ptr(o), ptr(lse)) + args)
            bwd(grid, (128,), (ptr(qf), ptr(kf), ptr(vf), ptr(o), ptr(gf), ptr(lse), ptr(dq), ptr(dk), ptr(dv)) + args)
        torch.cuda.synchronize()
        ro, rlse, rdq, rdk, rdv = reference(q, k, v, dout, group, shift)
        errs = {"o": rel_l2(o, ro), "lse": rel_l2(lse, rlse), "dq": rel_l2(dq, rdq), "dk": rel_l2(dk, rdk),
                "dv": rel_l2(dv, rdv)}
        passed = all(e == e and e < 1e-4 for e in errs.values())
        ok &= passed
        name = f"generic B{b} L{l} H{h}/{hkv} d{d} {pattern}"
        print(f"check {name:36s} " + " ".join(f"{key}={val:.2e}" for key, val in errs.items())
              + ("  ok" if passed else "  FAIL"), flush=True)
        results["checks"].append({"case": name, "rel_l2": errs, "passed": passed})
    return ok


def time_ms(fn, warmup=3, reps=10):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return float(np.median(times))


def bench(kern, results, lengths):
    from torch.nn.attention import SDPBackend, sdpa_kernel
    b, h, d = 1, 32, 128
    card = torch.cuda.get_device_name()
    rows = []
    full32 = None
    for l, pattern in [(x, "full") for x in lengths] + [(lengths[-1], "s2")]:
        group, shift = (l, 0) if pattern == "full" else (l // 4, l // 8)
        q = torch.randn(b, l, h, d, device="cuda", dtype=torch.bfloat16)
        k = torch.randn_like(q)
        v = torch.randn_like(q)
        dout = torch.randn_like(q)
        o, lse = kern.forward(q, k, v, group, shift)
        grads = (torch.empty_like(q), torch.empty_like(k), torch.empty_like(v),
                 torch.empty(b, h, l, device="cuda"), torch.empty(b, l, h, d, device="cuda"))
        ours_f = time_ms(lambda: kern.forward(q, k, v, group, shift, o, lse))
        ours_fb = time_ms(lambda: (kern.forward(q, k, v, group, shift, o, lse),
                                   kern.backward(q, k, v, o, lse, dout, group, shift, grads)))
        causal_flops = 4 * b * h * l * l * d / 2
        flops_f = causal_flops if pattern == "full" else causal_flops / 4  # S2: each query sees <= G keys
        row = {"card": card, "L": l, "pattern": pattern, "ours_fwd_ms": ours_f, "ours_fwdbwd_ms": ours_fb,
               "ours_fwd_tflops": flops_f / ours_f / 1e9, "ours_fwdbwd_tflops": 3.5 * flops_f / ours_fb / 1e9}
        if pattern == "full":
            qs, ks, vs = (t.permute(0, 2, 1, 3).contiguous().requires_grad_() for t in (q, k, v))
            ds = dout.permute(0, 2, 1, 3).contiguous()
            with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
                ref = F.scaled_dot_product_attention(qs, ks, vs, is_causal=True)
                row["o_vs_sdpa_rel_l2"] = rel_l2(o, ref.detach().permute(0, 2, 1, 3))
                sd_f = time_ms(lambda: F.scaled_dot_product_attention(qs, ks, vs, is_causal=True))
                sd_fb = time_ms(lambda: F.scaled_dot_product_attention(qs, ks, vs, is_causal=True).backward(ds))
            row.update({"sdpa_fwd_ms": sd_f, "sdpa_fwdbwd_ms": sd_fb, "sdpa_fwd_tflops": flops_f / sd_f / 1e9,
                        "sdpa_fwdbwd_tflops": 3.5 * flops_f / sd_fb / 1e9, "fwdbwd_speedup_vs_sdpa": sd_fb / ours_fb})
            if l == lengths[-1]:
                full32 = ours_fb
        else:
            row["fwdbwd_time_vs_full"] = ours_fb / full32 if full32 else None
        rows.append(row)
        print("bench " + json.dumps(row), flush=True)
        del q, k, v, dout, o, lse, grads
        torch.cuda.empty_cache()
    results["bench"] = rows
    return rows


def variants(default, variant, results):
    """Times the default tiles (fwd 64 rows, bwd 64 keys) against the variant (128/128) at L=16k full causal."""
    b, h, d, l = 1, 32, 128, 16384
    q = torch.randn(b, l, h, d, device="cuda", dtype=torch.bfloat16)
    k, v, dout = torch.randn_like(q), torch.randn_like(q), torch.randn_like(q)
    out = {}
    for name, kern in (("fwd64/bwd64", default), ("fwd128/bwd128", variant)):
        o, lse = kern.forward(q, k, v, l, 0)
        grads = (torch.empty_like(q), torch.empty_like(k), torch.empty_like(v),
                 torch.empty(b, h, l, device="cuda"), torch.empty(b, l, h, d, device="cuda"))
        f = time_ms(lambda: kern.forward(q, k, v, l, 0, o, lse))
        bw = time_ms(lambda: kern.backward(q, k, v, o, lse, dout, l, 0, grads))
        out[name] = {"fwd_ms": f, "bwd_ms": bw}
        print(f"variant {name}: fwd {f:.2f} ms, bwd {bw:.2f} ms (L=16k full causal, H=32, d=128)", flush=True)
    results["variants"] = out
    fwd_rows = 64 if out["fwd64/bwd64"]["fwd_ms"] <= out["fwd128/bwd128"]["fwd_ms"] else 128
    bwd_keys = 64 if out["fwd64/bwd64"]["bwd_ms"] <= out["fwd128/bwd128"]["bwd_ms"] else 128
    results["bench_variant"] = {"fwd_rows": fwd_rows, "bwd_keys": bwd_keys}
    print(f"bench uses forward {fwd_rows}-row tiles and backward {bwd_keys}-key tiles", flush=True)
    return fwd_rows, bwd_keys


def table(rows):
    lines = ["| card | shape (B=1,H=32,d=128) | ours fwd ms | ours fwd+bwd ms | ours fwd+bwd TFLOP/s | "
             "SDPA fwd ms | SDPA fwd+bwd ms | SDPA fwd+bwd TFLOP/s | ratio |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        shape = f"L={r['L'] // 1024}k {r['pattern']}"
        if r["pattern"] == "full":
            ratio = f"{r['fwdbwd_speedup_vs_sdpa']:.2f}x SDPA speed"
            sd = f"{r['sdpa_fwd_ms']:.2f} | {r['sdpa_fwdbwd_ms']:.2f} | {r['sdpa_fwdbwd_tflops']:.0f}"
        else:
            ratio = f"{r['fwdbwd_time_vs_full']:.3f}x full-causal time"
            sd = "- | - | -"
        lines.append(f"| {r['card']} | {shape} | {r['ours_fwd_ms']:.2f} | {r['ours_fwdbwd_ms']:.2f} | "
                     f"{r['ours_fwdbwd_tflops']:.0f} | {sd} | {ratio} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernels", required=True, help="folder with attention.<target>.cubin / .ptx")
    ap.add_argument("--out", required=True)
    ap.add_argument("--skip-bench", action="store_true")
    ap.add_argument("--lengths", default="8192,16384,32768")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    major, minor = torch.cuda.get_device_capability()
    target = "sm_90a" if (major, minor) == (9, 0) else ("sm_80" if major == 8 else "compute_80")
    path = os.path.join(args.kernels, f"attention.{target}." + ("ptx" if target.startswith("compute") else "cubin"))
    print(f"device {torch.cuda.get_device_name()} (sm_{major}{minor}), torch {torch.__version__}, "
          f"cupy {cp.__version__}, module {path}", flush=True)
    results = {"device": torch.cuda.get_device_name(), "module": path, "checks": []}
    kern = AttentionKernels(path)
    ok = check(kern, results)
    ok &= check_generic(path, results)
    # The tile-size variants must be right before they are timed.
    variant = AttentionKernels(path, fwd_rows=128, bwd_keys=128)
    ok &= check(variant, {"checks": []})
    # The compute_80 PTX must also load (the driver JIT-compiles it for cards without a cubin).
    ptx = AttentionKernels(os.path.join(args.kernels, "attention.compute_80.ptx"))
    ok &= check(ptx, {"checks": []}) if target != "compute_80" else True
    if ok and not args.skip_bench:
        fwd_rows, bwd_keys = variants(kern, variant, results)
        best = AttentionKernels(path, fwd_rows=fwd_rows, bwd_keys=bwd_keys)
        rows = bench(best, results, [int(x) for x in args.lengths.split(",")])
        md = table(rows) + (f"\n\nTiles: forward {fwd_rows} query rows per block, backward {bwd_keys} keys per block"
                            " (the faster of each at L=16k).")
        print(md)
        with open(os.path.join(args.out, "attention-bench.md"), "w") as f:
            f.write(md + "\n")
    with open(os.path.join(args.out, "attention-check.json"), "w") as f:
        json.dump(results, f, indent=1)
    print("attention: " + ("all checks passed" if ok else "CHECKS FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

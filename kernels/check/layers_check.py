#!/usr/bin/env python3
"""Checks the fp32 layer kernels of layers.cu against PyTorch (float64 references) on random inputs.

Outputs are poisoned with NaN before each run (accumulating outputs start from random values instead), and NaN
never passes. Bound: relative L2 error < 1e-4 (fp32 kernels).

Usage: layers_check.py --kernels DIR --out DIR
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

REL_L2_F32 = 1e-4


def ptr(t):
    return np.uint64(t.data_ptr())


def rel_l2(out, ref):
    out, ref = out.double(), ref.double()
    if not torch.isfinite(out).all():
        return float("nan")
    den = torch.linalg.vector_norm(ref).item()
    return torch.linalg.vector_norm(out - ref).item() / (den if den > 0 else 1.0)


class Layers:
    def __init__(self, path):
        self.m = cp.RawModule(path=path)

    def __call__(self, name, grid, block, *args):
        conv = []
        for a in args:
            if isinstance(a, torch.Tensor):
                conv.append(ptr(a))
            elif isinstance(a, float):
                conv.append(np.float32(a))
            elif isinstance(a, tuple):  # (value, numpy type) for explicit widths
                conv.append(a[1](a[0]))
            else:
                conv.append(np.int32(a))
        grid = grid if isinstance(grid, tuple) else (grid,)
        with cp.cuda.ExternalStream(torch.cuda.current_stream().cuda_stream):
            self.m.get_function(name)(grid, (block,), tuple(conv))
        torch.cuda.synchronize()


def nan_like(t):
    return torch.full_like(t, float("nan"))


def cdiv(a, b):
    return (a + b - 1) // b


def run_checks(k):
    torch.manual_seed(7)
    dev = "cuda"
    res = {}
    L64 = lambda v: (v, np.int64)

    # RMSNorm forward and backward (dx, dw accumulate).
    for rows, c in [(37, 96), (300, 1000)]:
        x = torch.randn(rows, c, device=dev, dtype=torch.float64)
        w = torch.randn(c, device=dev, dtype=torch.float64)
        g = torch.randn(rows, c, device=dev, dtype=torch.float64)
        xr = x.clone().requires_grad_()
        wr = w.clone().requires_grad_()
        ref = xr * torch.rsqrt(xr.pow(2).mean(-1, keepdim=True) + 1e-5) * wr
        ref.backward(g)
        out, rstd = nan_like(x.float()), torch.full((rows,), float("nan"), device=dev)
        k("rmsnorm_fwd", rows, 256, out, rstd, x.float(), w.float(), c, 1e-5)
        dx0, dw0 = torch.randn(rows, c, device=dev), torch.randn(c, device=dev)
        dx, dw = dx0.clone(), dw0.clone()
        k("rmsnorm_bwd_dx", rows, 256, dx, g.float(), x.float(), w.float(), rstd, c)
        k("rmsnorm_bwd_dw", (cdiv(c, 256), cdiv(rows, 256)), 256, dw, g.float(), x.float(), rstd, rows, c)
        res[f"rmsnorm fwd {rows}x{c}"] = rel_l2(out, ref.detach())
        res[f"rmsnorm dx {rows}x{c}"] = rel_l2(dx - dx0, xr.grad)
        res[f"rmsnorm dw {rows}x{c}"] = rel_l2(dw - dw0, wr.grad)

    # RoPE with PI (rotate_half), forward and its transpose.
    for t, heads, d, factor in [(50, 3, 64, 4.0), (129, 2, 128, 1.0)]:
        x = torch.randn(t, heads * d, device=dev, dtype=torch.float64)
        inv = 10000.0 ** (-torch.arange(0, d, 2, device=dev, dtype=torch.float64) / d)
        ang = (torch.arange(t, device=dev, dtype=torch.float64) / factor)[:, None] * inv[None]
        cos, sin = torch.cat([ang.cos()] * 2, -1), torch.cat([ang.sin()] * 2, -1)
        xh = x.view(t, heads, d)
        rot = lambda v: torch.cat([-v[..., d // 2:], v[..., :d // 2]], -1)
        ref = (xh * cos[:, None] + rot(xh) * sin[:, None]).reshape(t, heads * d)
        y = x.float().clone()
        k("rope", t, 256, y, heads, d, 10000.0, factor, 1.0)
        res[f"rope fwd T{t} d{d} x{factor}"] = rel_l2(y, ref)
        k("rope", t, 256, y, heads, d, 10000.0, factor, -1.0)
        res[f"rope inverse T{t} d{d}"] = rel_l2(y, x)

    # SwiGLU.
    n = 10007
    gte, up, dh = (torch.randn(n, device=dev, dtype=torch.float64) * 3 for _ in range(3))
    gr, ur = gte.clone().requires_grad_(), up.clone().requires_grad_()
    ref = F.silu(gr) * ur
    ref.backward(dh)
    h = nan_like(gte.float())
    k("swiglu_fwd", cdiv(n, 256), 256, h, gte.float(), up.float(), L64(n))
    dg0, du0 = torch.randn(n, device=dev), torch.randn(n, device=dev)
    dg, du = dg0.clone(), du0.clone()
    k("swiglu_bwd", cdiv(n, 256), 256, dg, du, dh.float(), gte.float(), up.float(), L64(n))
    res["swiglu fwd"] = rel_l2(h, ref.detach())
    res["swiglu dgate"] = rel_l2(dg - dg0, gr.grad)
    res["swiglu dup"] = rel_l2(du - du0, ur.grad)

    # Dropout: the CPU reference's splitmix64 hash, recomputed here in Python.
    n, p, seed = 4099, 0.3, 0x1234_5678_9ABC
    x = torch.randn(n, device=dev)
    mask = []
    M = (1 << 64) - 1
    for i in range(n):
        z = (seed + (i + 1) * 0x9E3779B97F4A7C15) & M
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
        z ^= z >> 31
        mask.append((z >> 40) * 2.0 ** -24 >= p)
    mask = torch.tensor(mask, device=dev)
    out = nan_like(x)
    k("dropout_fwd", cdiv(n, 256), 256, out, x, p, 1 / (1 - p), (seed, np.uint64), L64(n))
    res["dropout fwd (hash)"] = rel_l2(out, torch.where(mask, x / (1 - p), torch.zeros_like(x)))

    # Cross-entropy in vocabulary chunks, with ignored rows, vs F.cross_entropy (sum) and its gradient.
    rows, vocab, chunk = 70, 5003, 1024
    logits = torch.randn(rows, vocab, device=dev, dtype=torch.float64) * 4
    labels = torch.randint(0, vocab, (rows,), device=dev)
    labels[::7] = -100
    lr_ = logits.clone().requires_grad_()
    loss_ref = F.cross_entropy(lr_, labels, ignore_index=-100, reduction="sum")
    (loss_ref * 0.5).backward()
    lf = logits.float().contiguous()
    lab = labels.int()
    run_max = torch.full((rows,), float("-inf"), device=dev)
    run_sum = torch.zeros(rows, device=dev)
    target = torch.zeros(rows, device=dev)
    for v0 in range(0, vocab, chunk):
        vc = min(chunk, vocab - v0)
        view = lf[:, v0:]
        k("ce_chunk_stats", rows, 256, view, vocab, vc, v0, lab, run_max, run_sum, target)
    lse = nan_like(run_max)
    loss = torch.full((rows,), float("nan"), device=dev, dtype=torch.float64)
    k("ce_finish", cdiv(rows, 256), 256, run_max, run_sum, target, lab, lse, loss, rows)
    grad = nan_like(lf)
    for v0 in range(0, vocab, chunk):
        vc = min(chunk, vocab - v0)
        k("ce_chunk_grad", rows, 256, grad[:, v0:], lf[:, v0:], vocab, vc, v0, lab, lse, 0.5)
    res["cross-entropy loss (chunked)"] = abs(loss.sum().item() - loss_ref.item()) / abs(loss_ref.item())
    res["cross-entropy grad (chunked)"] = rel_l2(grad, lr_.grad)

    # Argmax (first on ties).
    x = torch.randn(33, 3001, device=dev)
    x[5, 10] = x[5, 2000] = 100.0
    out = torch.full((33,), -1, device=dev, dtype=torch.int32)
    k("argmax_rows", 33, 256, x, 3001, out)
    res["argmax rows"] = 0.0 if torch.equal(out.long(), x.argmax(-1)) and out[5].item() == 10 else float("nan")

    # AdamW, one step at step 3, vs PyTorch's formula in float64.
    n, lr, b1, b2, eps, wd, step = 5000, 1e-3, 0.9, 0.95, 1e-8, 0.1, 3
    p0, gg = torch.randn(n, device=dev, dtype=torch.float64), torch.randn(n, device=dev, dtype=torch.float64)
    m0, v0_ = torch.randn(n, device=dev, dtype=torch.float64) * 0.1, torch.rand(n, device=dev, dtype=torch.float64)
    m_ref = b1 * m0 + (1 - b1) * gg
    v_ref = b2 * v0_ + (1 - b2) * gg * gg
    bc1, bc2 = 1 - b1 ** step, 1 - b2 ** step
    p_ref = p0 * (1 - lr * wd) - (lr / bc1) * m_ref / ((v_ref / bc2).sqrt() + eps)
    pp, mm, vv = p0.float(), m0.float(), v0_.float()
    k("adamw", cdiv(n, 256), 256, pp, gg.float(), mm, vv, b1, b2, eps, lr / bc1, math.sqrt(bc2), 1 - lr * wd, L64(n))
    res["adamw param"] = rel_l2(pp - p0, p_ref - p0)
    res["adamw m"] = rel_l2(mm, m_ref)
    res["adamw v"] = rel_l2(vv, v_ref)

    # Fallback GEMM, all four transpose combinations, beta 0 over NaN and beta 1.
    for ta in (0, 1):
        for tb in (0, 1):
            mdim, ndim, kdim = 131, 77, 200
            a = torch.randn(kdim, mdim, device=dev) if ta else torch.randn(mdim, kdim, device=dev)
            b = torch.randn(ndim, kdim, device=dev) if tb else torch.randn(kdim, ndim, device=dev)
            ref = (a.double().T if ta else a.double()) @ (b.double().T if tb else b.double())
            c = torch.full((mdim, ndim), float("nan"), device=dev)
            k("gemm_f32", (cdiv(ndim, 64), cdiv(mdim, 64)), 256, c, a, b, mdim, ndim, kdim, ta, tb, 1.0, 0.0)
            c0 = torch.randn(mdim, ndim, device=dev)
            c1 = c0.clone()
            k("gemm_f32", (cdiv(ndim, 64), cdiv(mdim, 64)), 256, c1, a, b, mdim, ndim, kdim, ta, tb, 2.0, 1.0)
            res[f"gemm tA={ta} tB={tb}"] = max(rel_l2(c, ref), rel_l2(c1, 2 * ref + c0.double()))

    # bf16 conversions round-trip and sum of squares.
    n = 3000
    x = torch.randn(n, device=dev)
    hb = torch.empty(n, device=dev, dtype=torch.bfloat16)
    k("f32_to_bf16", cdiv(n, 256), 256, x, hb, L64(n))
    y = torch.randn(n, device=dev)
    y0 = y.clone()
    k("bf16_to_f32", cdiv(n, 256), 256, hb, y, L64(n), 1.0)
    res["bf16 round trip (accumulate)"] = rel_l2(y - y0, x.to(torch.bfloat16).float())
    ss = torch.zeros(1, device=dev, dtype=torch.float64)
    k("sum_squares_f32", 8, 256, x, ss, L64(n))
    res["sum of squares"] = abs(ss.item() - (x.double() ** 2).sum().item()) / (x.double() ** 2).sum().item()
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernels", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    major, _ = torch.cuda.get_device_capability()
    target = {9: "sm_90a", 8: "sm_80"}.get(major, "compute_80")
    path = os.path.join(args.kernels, f"layers.{target}." + ("ptx" if target.startswith("compute") else "cubin"))
    res = run_checks(Layers(path))
    ok = True
    for name, err in res.items():
        passed = err == err and err < REL_L2_F32
        ok &= passed
        print(f"check {name:34s} rel_l2={err:.2e} {'ok' if passed else 'FAIL'}")
    with open(os.path.join(args.out, "layers-check.json"), "w") as f:
        json.dump(res, f, indent=1)
    print("layers: " + ("all checks passed" if ok else "CHECKS FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

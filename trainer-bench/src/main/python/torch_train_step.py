#!/usr/bin/env python3
"""The PyTorch peer of the trainer benchmark: one LongLoRA training step (S2-Attn, LoRA on q/k/v/o, trainable
embedding and norms, AdamW) of a small LLaMA, written to be efficient in eager PyTorch: frozen weights carry no
gradient, GQA-free batched matmuls, and S2 computed by reshaping the sequence into groups (no L x L mask).

Prints one JSON line: {"tokens_per_s": ..., "step_s": ..., "peak_rss_growth_bytes": ..., ...}.
"""
import argparse
import json
import math
import re
import resource
import sys
import time

import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint


def rss_bytes(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def blas_summary():
    """The BLAS this torch build multiplies with, from torch.__config__.show(): PyPI's x86 wheels use MKL."""
    shown = torch.__config__.show()
    blas = re.search(r"BLAS_INFO=(\w+)", shown)
    version = re.search(r"(Math Kernel Library Version [^\n]*|OpenBLAS[^\n]*)", shown)
    return " ".join(x for x in (blas.group(1) if blas else "unknown", version.group(1).strip() if version else "") if x)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


_BIAS = {}


def group_bias(n, G, block_diag_last, dtype):
    """Additive mask [n, G, G] (0 or -inf), built once per shape: causal inside each group; when block_diag_last,
    the last group holds two independent half segments (the shifted heads' [L-G/2, L) and [0, G/2)) that must not
    see each other (no wrap-around)."""
    key = (n, G, block_diag_last, dtype)
    if key not in _BIAS:
        allowed = torch.ones(G, G, dtype=torch.bool).tril().expand(n, G, G).clone()
        if block_diag_last:
            allowed[-1, G // 2:, :G // 2] = False
        bias = torch.zeros(n, G, G, dtype=dtype).masked_fill(~allowed, float("-inf"))
        _BIAS[key] = bias
    return _BIAS[key]


def causal_groups(q, k, v, block_diag_last):
    """q, k, v: [h, n, G, d]. Causal attention inside each of the n groups."""
    G = q.shape[2]
    scores = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(q.shape[-1]))
    scores = scores + group_bias(q.shape[1], G, block_diag_last, q.dtype)
    return torch.matmul(torch.softmax(scores, dim=-1), v)


def s2_attention(q, k, v, groups):
    """q, k, v: [H, L, d] after RoPE. Heads [0, H/2) in groups [0,G), [G,2G)...; heads [H/2, H) shifted by G/2."""
    H, L, d = q.shape
    G = L // groups
    half = H // 2
    out_a = causal_groups(*(t[:half].reshape(half, groups, G, d) for t in (q, k, v)), False)
    shifted = [torch.roll(t[half:], shifts=-(G // 2), dims=1).reshape(H - half, groups, G, d) for t in (q, k, v)]
    out_b = causal_groups(*shifted, True).reshape(H - half, L, d)
    out_b = torch.roll(out_b, shifts=G // 2, dims=1)
    return torch.cat((out_a.reshape(half, L, d), out_b), dim=0)


def masked_s2_reference(q, k, v, groups):
    H, L, d = q.shape
    G = L // groups
    i = torch.arange(L).view(-1, 1)
    j = torch.arange(L).view(1, -1)
    outs = []
    for h in range(H):
        s = G // 2 if h >= H // 2 else 0
        mask = (j <= i) & ((i + s) // G == (j + s) // G)
        sc = (q[h] @ k[h].T / math.sqrt(d)).masked_fill(~mask, float("-inf"))
        outs.append(torch.softmax(sc, -1) @ v[h])
    return torch.stack(outs)


class Model:
    def __init__(self, a, seed):
        g = torch.Generator().manual_seed(seed)
        C, I, V, r = a.hidden, a.intermediate, a.vocab, a.rank

        def frozen(*shape):
            return (torch.randn(*shape, generator=g) * 0.02).requires_grad_(False)

        self.embed = (torch.randn(V, C, generator=g) * 0.02).requires_grad_(True)
        self.layers = []
        for _ in range(a.layers):
            layer = {"in_norm": torch.ones(C, requires_grad=True), "post_norm": torch.ones(C, requires_grad=True)}
            for name in ("q", "k", "v", "o"):
                layer[name] = frozen(C, C)
                bound = 1 / math.sqrt(C)
                layer[name + "_A"] = (torch.rand(r, C, generator=g) * 2 * bound - bound).requires_grad_(True)
                layer[name + "_B"] = (torch.randn(C, r, generator=g) * 0.01).requires_grad_(True)
            layer["gate"], layer["up"], layer["down"] = frozen(I, C), frozen(I, C), frozen(C, I)
            self.layers.append(layer)
        self.norm = torch.ones(C, requires_grad=True)
        self.head = frozen(V, C)
        self.a = a
        d = C // a.heads
        inv_freq = 1.0 / (a.theta ** (torch.arange(0, d, 2).float() / d))
        pos = torch.arange(a.seq).float() / a.rope_factor
        emb = torch.cat((torch.outer(pos, inv_freq),) * 2, dim=-1)
        self.cos, self.sin = emb.cos(), emb.sin()

    def trainable(self):
        ps = [self.embed, self.norm]
        for layer in self.layers:
            ps += [layer["in_norm"], layer["post_norm"]] + [layer[n + s] for n in "qkvo" for s in ("_A", "_B")]
        return ps

    def rms(self, x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w

    def lora(self, x, layer, name):
        return F.linear(x, layer[name]) + self.a.scaling * F.linear(F.linear(x, layer[name + "_A"]), layer[name + "_B"])

    def block(self, x, layer):
        a = self.a
        L, C = x.shape
        d = C // a.heads
        h = self.rms(x, layer["in_norm"])
        q, k, v = (self.lora(h, layer, n).view(L, a.heads, d).transpose(0, 1) for n in "qkv")
        q = q * self.cos + rotate_half(q) * self.sin
        k = k * self.cos + rotate_half(k) * self.sin
        att = s2_attention(q, k, v, a.groups).transpose(0, 1).reshape(L, C)
        x = x + self.lora(att, layer, "o")
        h = self.rms(x, layer["post_norm"])
        return x + F.linear(F.silu(F.linear(h, layer["gate"])) * F.linear(h, layer["up"]), layer["down"])

    def loss(self, tokens, ckpt):
        x = self.embed[tokens]
        for layer in self.layers:
            x = checkpoint(self.block, x, layer, use_reentrant=False) if ckpt else self.block(x, layer)
        logits = F.linear(self.rms(x, self.norm), self.head)
        return F.cross_entropy(logits[:-1], tokens[1:])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--intermediate", type=int, default=688)
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--vocab", type=int, default=4096)
    p.add_argument("--seq", type=int, default=1024)
    p.add_argument("--groups", type=int, default=4)
    p.add_argument("--rank", type=int, default=8)
    p.add_argument("--alpha", type=float, default=16)
    p.add_argument("--theta", type=float, default=10000.0)
    p.add_argument("--rope-factor", type=float, default=4.0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--checkpointing", action="store_true")
    a = p.parse_args()
    a.scaling = a.alpha / a.rank
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    # The build configuration (BLAS, OpenMP, CPU capability) on stderr, so a benchmark log says what torch ran.
    print(f"torch {torch.__version__}\n{torch.__config__.show()}", file=sys.stderr)

    # The grouped S2 must be exactly the masked definition (small check, not timed).
    q, k, v = (torch.randn(4, 32, 8, dtype=torch.float64) for _ in range(3))
    assert torch.allclose(s2_attention(q, k, v, 4), masked_s2_reference(q, k, v, 4), atol=1e-10), "S2 mismatch"

    model = Model(a, 1)
    opt = torch.optim.AdamW(model.trainable(), lr=2e-5, betas=(0.9, 0.95), weight_decay=0.0)
    tokens = torch.randint(0, a.vocab, (a.seq,), generator=torch.Generator().manual_seed(2))
    rss_before = rss_bytes("VmRSS")
    times = []
    loss = float("nan")
    for i in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=False)
        out = model.loss(tokens, a.checkpointing)
        out.backward()
        torch.nn.utils.clip_grad_norm_(model.trainable(), 1.0)
        opt.step()
        loss = out.item()
        if i >= a.warmup:
            times.append(time.perf_counter() - t0)
    step = sorted(times)[len(times) // 2]
    print(json.dumps({
        "impl": "pytorch", "torch": torch.__version__, "threads": torch.get_num_threads(),
        "blas": blas_summary(), "checkpointing": a.checkpointing, "seq": a.seq,
        "step_s": step, "best_step_s": min(times), "tokens_per_s": a.seq / min(times), "loss": loss,
        "peak_rss_growth_bytes": rss_bytes("VmHWM") - rss_before,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }))


if __name__ == "__main__":
    main()

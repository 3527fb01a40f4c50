#!/usr/bin/env python3
"""The PyTorch + PEFT + SDPA peer of CudaStepBenchmark: one LongLoRA training step on one GPU.

A LLaMA written in plain PyTorch (bf16 weights; q/k/v/o/gate/up/down named like HF), LoRA r=8 alpha=16 on
q/k/v/o through PEFT with the embedding and every norm in modules_to_save (LongLoRA's recipe), AdamW on the
trainable parameters, S2-Attn through scaled_dot_product_attention with the flash backend: heads [0, H/2) in
groups of G, heads [H/2, H) in the shifted segments [0, G/2), [G/2, 3G/2), ..., [L-G/2, L) without wrap-around
(the middle groups reshaped into a batch, the two half segments as a second batch). Prints one JSON line.

Usage: torch_step_gpu.py [--seq 8192] [--layers 22] [--steps 3] [--warmup 1] [--checkpointing] [--pattern s2|full]
       [--device cuda|cpu]  (cpu: a tiny dry run to check the script itself)
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint


def sdpa_causal(q, k, v):
    """q, k, v: [B, H, L, d] -> causal attention (flash on CUDA)."""
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    s = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])  # torch < 2.0 (local dry runs only)
    mask = torch.ones(s.shape[-2:], dtype=torch.bool, device=s.device).tril()
    return torch.softmax(s.float().masked_fill(~mask, float("-inf")), -1).to(q.dtype) @ v


def grouped(q, k, v, G):
    """Causal attention inside consecutive groups of G positions: [B, h, L, d] with L % G == 0."""
    B, h, L, d = q.shape
    n = L // G
    fold = lambda t: t.reshape(B, h, n, G, d).transpose(1, 2).reshape(B * n, h, G, d)
    out = sdpa_causal(fold(q), fold(k), fold(v))
    return out.reshape(B, n, h, G, d).transpose(1, 2).reshape(B, h, L, d)


def s2_attention(q, k, v, groups):
    """Method section 2 without wrap-around. q, k, v: [B, H, L, d] (K/V already expanded to H heads)."""
    B, H, L, d = q.shape
    G = L // groups
    half = G // 2
    a = grouped(q[:, :H // 2], k[:, :H // 2], v[:, :H // 2], G)
    qs, ks, vs = q[:, H // 2:], k[:, H // 2:], v[:, H // 2:]
    middle = grouped(qs[:, :, half:L - half], ks[:, :, half:L - half], vs[:, :, half:L - half], G)
    ends = lambda t: torch.cat([t[:, :, :half], t[:, :, L - half:]], dim=0)
    e = sdpa_causal(ends(qs), ends(ks), ends(vs))
    b = torch.cat([e[:B], middle, e[B:]], dim=2)
    return torch.cat([a, b], dim=1)


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        h, d = cfg.hidden, cfg.hidden // cfg.heads
        self.heads, self.kv_heads, self.d = cfg.heads, cfg.kv_heads, d
        self.q_proj = nn.Linear(h, cfg.heads * d, bias=False)
        self.k_proj = nn.Linear(h, cfg.kv_heads * d, bias=False)
        self.v_proj = nn.Linear(h, cfg.kv_heads * d, bias=False)
        self.o_proj = nn.Linear(cfg.heads * d, h, bias=False)

    def forward(self, x, cos, sin, pattern, groups):
        B, L, _ = x.shape
        q = self.q_proj(x).view(B, L, self.heads, self.d).transpose(1, 2)
        k = self.k_proj(x).view(B, L, self.kv_heads, self.d).transpose(1, 2)
        v = self.v_proj(x).view(B, L, self.kv_heads, self.d).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        r = self.heads // self.kv_heads
        k, v = k.repeat_interleave(r, dim=1), v.repeat_interleave(r, dim=1)
        o = s2_attention(q, k, v, groups) if pattern == "s2" else sdpa_causal(q, k, v)
        return self.o_proj(o.transpose(1, 2).reshape(B, L, -1))


class RMSNorm(nn.Module):
    def __init__(self, n, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        xf = x.float()
        return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)).to(x.dtype) * self.weight


class Layer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.input_layernorm = RMSNorm(cfg.hidden)
        self.self_attn = Attention(cfg)
        self.post_attention_layernorm = RMSNorm(cfg.hidden)
        self.gate_proj = nn.Linear(cfg.hidden, cfg.intermediate, bias=False)
        self.up_proj = nn.Linear(cfg.hidden, cfg.intermediate, bias=False)
        self.down_proj = nn.Linear(cfg.intermediate, cfg.hidden, bias=False)

    def forward(self, x, cos, sin, pattern, groups):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, pattern, groups)
        h = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


class Llama(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.embed_tokens = nn.Embedding(cfg.vocab, cfg.hidden)
        self.layers = nn.ModuleList(Layer(cfg) for _ in range(cfg.layers))
        self.norm = RMSNorm(cfg.hidden)
        self.lm_head = nn.Linear(cfg.hidden, cfg.vocab, bias=False)

    def forward(self, tokens, labels):
        cfg = self.cfg
        L = tokens.shape[1]
        d = cfg.hidden // cfg.heads
        inv = cfg.theta ** (-torch.arange(0, d, 2, device=tokens.device, dtype=torch.float32) / d)
        ang = (torch.arange(L, device=tokens.device, dtype=torch.float32) / cfg.rope_factor)[:, None] * inv[None]
        emb = torch.cat([ang, ang], dim=-1)
        cos, sin = emb.cos().to(self.lm_head.weight.dtype), emb.sin().to(self.lm_head.weight.dtype)
        x = self.embed_tokens(tokens)
        for layer in self.layers:
            if cfg.checkpointing:
                x = checkpoint(layer, x, cos, sin, cfg.pattern, cfg.groups, use_reentrant=False)
            else:
                x = layer(x, cos, sin, cfg.pattern, cfg.groups)
        logits = self.lm_head(self.norm(x)).float()
        return F.cross_entropy(logits[:, :-1].reshape(-1, cfg.vocab), labels[:, 1:].reshape(-1))


def check_s2_layout():
    """The grouped/shifted decomposition equals masked attention over method section 2's segments."""
    B, H, L, d, groups = 2, 4, 16, 8, 4
    G = L // groups
    q, k, v = (torch.randn(B, H, L, d) for _ in range(3))
    pos = torch.arange(L)
    ref = []
    for h in range(H):
        s = G // 2 if h >= H // 2 else 0
        seg = torch.div(pos + s, G, rounding_mode="floor")
        allowed = (seg[:, None] == seg[None, :]) & (pos[None, :] <= pos[:, None])
        sc = (q[:, h] @ k[:, h].transpose(-1, -2) / math.sqrt(d)).masked_fill(~allowed, float("-inf"))
        ref.append(torch.softmax(sc, -1) @ v[:, h])
    err = (s2_attention(q, k, v, groups) - torch.stack(ref, 1)).abs().max().item()
    assert err < 1e-5, f"S2 decomposition differs from the masked reference by {err}"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seq", type=int, default=8192)
    p.add_argument("--layers", type=int, default=22)
    p.add_argument("--hidden", type=int, default=2048)
    p.add_argument("--intermediate", type=int, default=5632)
    p.add_argument("--heads", type=int, default=32)
    p.add_argument("--kv-heads", type=int, default=4)
    p.add_argument("--vocab", type=int, default=32000)
    p.add_argument("--groups", type=int, default=4)
    p.add_argument("--theta", type=float, default=10000.0)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--pattern", default="s2", choices=["s2", "full"])
    p.add_argument("--checkpointing", action="store_true")
    p.add_argument("--device", default="cuda")
    cfg = p.parse_args()
    cfg.rope_factor = max(1.0, math.ceil(cfg.seq / 4096))
    from peft import LoraConfig, get_peft_model

    dev = torch.device(cfg.device)
    dtype = torch.bfloat16
    torch.manual_seed(0)
    if dev.type == "cuda":
        with torch.device(dev):  # initialise on the GPU: a 1B model's CPU init alone takes many seconds
            model = Llama(cfg)
    else:
        check_s2_layout()
        model = Llama(cfg)
    model = model.to(device=dev, dtype=dtype)
    norms = ["input_layernorm", "post_attention_layernorm", "norm"]
    lora = LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, bias="none",
                      target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
                      modules_to_save=["embed_tokens"] + norms)
    model = get_peft_model(model, lora)
    trainable = [q for q in model.parameters() if q.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=2e-5, betas=(0.9, 0.95), weight_decay=0.0)
    tokens = torch.randint(0, cfg.vocab, (1, cfg.seq), device=dev)

    def step():
        loss = model(tokens, tokens)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss

    times = []
    loss = None
    for i in range(cfg.warmup + cfg.steps):
        if dev.type == "cuda":
            if i == cfg.warmup:
                torch.cuda.reset_peak_memory_stats()
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        loss = step()
        if dev.type == "cuda":
            torch.cuda.synchronize()
        if i >= cfg.warmup:
            times.append(time.perf_counter() - t0)
    times.sort()
    median = times[len(times) // 2]
    print(json.dumps({
        "impl": "pytorch-peft-sdpa", "device": torch.cuda.get_device_name() if dev.type == "cuda" else "cpu",
        "torch": torch.__version__, "seq": cfg.seq, "layers": cfg.layers, "hidden": cfg.hidden,
        "pattern": cfg.pattern, "checkpointing": cfg.checkpointing, "step_s": round(median, 4),
        "tokens_per_s": round(cfg.seq / median, 1),
        "peak_bytes": torch.cuda.max_memory_allocated() if dev.type == "cuda" else None,
        "trainable_params": sum(q.numel() for q in trainable), "loss": round(float(loss), 4)}))


if __name__ == "__main__":
    main()

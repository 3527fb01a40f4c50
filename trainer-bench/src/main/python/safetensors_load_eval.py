"""Peer of dev.longlora.trainer.bench.LoadingBenchmark: open a sharded safetensors LLaMA checkpoint with
safetensors.safe_open, load every tensor as fp32 PyTorch tensors (one shard open at a time), and compute the mean
next-token loss of one window with a plain fp32 LLaMA forward (HF conventions, full causal attention).
Prints "RESULT load_s window_s peak_rss_kib loss".

usage: safetensors_load_eval.py MODEL_DIR SEQ_LEN THREADS
"""
import json
import math
import os
import resource
import sys
import time

import torch
from safetensors import safe_open

model_dir, seq_len, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)

t0 = time.time()
with open(os.path.join(model_dir, "config.json")) as f:
    cfg = json.load(f)
with open(os.path.join(model_dir, "model.safetensors.index.json")) as f:
    shards = sorted(set(json.load(f)["weight_map"].values()))
w = {}
for shard in shards:
    with safe_open(os.path.join(model_dir, shard), framework="pt") as f:
        for k in f.keys():
            w[k] = f.get_tensor(k).float()
t1 = time.time()

# The same window as the Java side: a 64-bit LCG, ids mod vocab.
vocab, x, ids = cfg["vocab_size"], 12345, []
for _ in range(seq_len):
    x = (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)
    ids.append((x >> 33) % vocab)
tokens = torch.tensor(ids)

H, C = cfg["num_attention_heads"], cfg["hidden_size"]
Hkv, d, eps = cfg.get("num_key_value_heads", H), C // H, cfg["rms_norm_eps"]
theta = cfg.get("rope_theta", 10000.0)
factor = (cfg.get("rope_scaling") or {}).get("factor", 1.0)


def rmsnorm(h, weight):
    return h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps) * weight


pos = torch.arange(seq_len, dtype=torch.float64) / factor
inv = theta ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
ang = torch.outer(pos, inv)
cos = torch.cat([ang.cos(), ang.cos()], -1).float()
sin = torch.cat([ang.sin(), ang.sin()], -1).float()


def rope(t):  # [heads, T, d]
    t1, t2 = t[..., : d // 2], t[..., d // 2:]
    return t * cos + torch.cat([-t2, t1], -1) * sin


with torch.no_grad():
    h = w["model.embed_tokens.weight"][tokens]
    mask = torch.full((seq_len, seq_len), float("-inf")).triu(1)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        xn = rmsnorm(h, w[p + "input_layernorm.weight"])
        q = (xn @ w[p + "self_attn.q_proj.weight"].T).view(seq_len, H, d).transpose(0, 1)
        k = (xn @ w[p + "self_attn.k_proj.weight"].T).view(seq_len, Hkv, d).transpose(0, 1)
        v = (xn @ w[p + "self_attn.v_proj.weight"].T).view(seq_len, Hkv, d).transpose(0, 1)
        q, k = rope(q), rope(k)
        k = k.repeat_interleave(H // Hkv, 0)
        v = v.repeat_interleave(H // Hkv, 0)
        att = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(d) + mask, -1) @ v
        h = h + att.transpose(0, 1).reshape(seq_len, C) @ w[p + "self_attn.o_proj.weight"].T
        xn = rmsnorm(h, w[p + "post_attention_layernorm.weight"])
        g = xn @ w[p + "mlp.gate_proj.weight"].T
        u = xn @ w[p + "mlp.up_proj.weight"].T
        h = h + (torch.nn.functional.silu(g) * u) @ w[p + "mlp.down_proj.weight"].T
    head = w.get("lm_head.weight", w["model.embed_tokens.weight"])
    logits = rmsnorm(h, w["model.norm.weight"]) @ head.T
    loss = torch.nn.functional.cross_entropy(logits[:-1], tokens[1:]).item()
t2 = time.time()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
print(f"RESULT {t1 - t0:.3f} {t2 - t1:.3f} {peak} {loss:.6f}")

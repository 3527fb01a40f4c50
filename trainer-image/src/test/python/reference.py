#!/usr/bin/env python3
"""PyTorch reference for the LongLoRA trainer's numerics (test-only).

Written from docs/longlora-method.md sections 2 and 2b, independently of the Java code: a LLaMA forward pass in
plain PyTorch (HF conventions: RMSNorm in fp32 or wider, rotate_half RoPE with linear position interpolation, GQA by
repeat_interleave of the KV heads, SwiGLU, LoRA y = Wx + (alpha/r) B(Ax)), attention masked per the S2 rule
seg(p) = floor((p + s) / G) with s = G/2 on heads [H/2, H), and mean next-token cross-entropy over labels != -100.
Autograd gives the gradient of every trainable parameter.

Usage: reference.py CASE_DIR   (reads CASE_DIR/manifest.json and the raw little-endian float32 files it names;
writes CASE_DIR/reference.json and CASE_DIR/grad/<name>.f32)
"""
import json
import math
import os
import sys

import torch


def load_f32(path, shape):
    with open(path, "rb") as f:
        data = f.read()
    t = torch.frombuffer(bytearray(data), dtype=torch.float32).clone()
    return t.reshape(shape)


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def rope_cos_sin(seq_len, dim, theta, factor, dtype):
    inv_freq = 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
    positions = torch.arange(seq_len, dtype=torch.float64) / factor  # linear position interpolation
    freqs = torch.outer(positions, inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().to(dtype), emb.sin().to(dtype)


def attention_mask(seq_len, heads, pattern, group):
    """[H, L, L] boolean: True where query i may attend to key j."""
    i = torch.arange(seq_len).view(-1, 1)
    j = torch.arange(seq_len).view(1, -1)
    causal = j <= i
    masks = []
    for h in range(heads):
        if pattern == "full":
            masks.append(causal)
            continue
        shift = group // 2 if (pattern == "s2" and h >= heads // 2) else 0
        same_segment = torch.div(i + shift, group, rounding_mode="floor") == torch.div(j + shift, group,
                                                                                      rounding_mode="floor")
        masks.append(causal & same_segment)
    return torch.stack(masks)


def main(case_dir):
    with open(os.path.join(case_dir, "manifest.json")) as f:
        manifest = json.load(f)
    dtype = torch.float64 if manifest.get("dtype", "float64") == "float64" else torch.float32
    cfg = manifest["config"]
    lora = manifest["lora"]
    attn = manifest["attention"]
    tokens = torch.tensor(manifest["tokens"], dtype=torch.long)
    labels = torch.tensor(manifest["labels"], dtype=torch.long)
    L = tokens.numel()
    C = cfg["hidden_size"]
    H = cfg["num_attention_heads"]
    Hkv = cfg["num_key_value_heads"]
    d = C // H
    eps = cfg["rms_norm_eps"]
    scaling = lora["alpha"] / lora["rank"] if lora["rank"] > 0 else 0.0

    params = {}
    for p in manifest["params"]:
        t = load_f32(os.path.join(case_dir, p["file"]), p["shape"]).to(dtype)
        t.requires_grad_(bool(p["trainable"]))
        params[p["name"]] = t

    def linear(x, prefix):
        y = x @ params[prefix + ".weight"].T
        a = params.get(prefix + ".lora_A.weight")
        if a is not None:
            y = y + scaling * ((x @ a.T) @ params[prefix + ".lora_B.weight"].T)
        return y

    cos, sin = rope_cos_sin(L, d, cfg["rope_theta"], cfg["rope_factor"], dtype)
    mask = attention_mask(L, H, attn["pattern"], attn["group_size"])

    x = params["model.embed_tokens.weight"][tokens]
    for i in range(cfg["num_hidden_layers"]):
        pre = f"model.layers.{i}."
        h = rms_norm(x, params[pre + "input_layernorm.weight"], eps)
        q = linear(h, pre + "self_attn.q_proj").view(L, H, d).transpose(0, 1)
        k = linear(h, pre + "self_attn.k_proj").view(L, Hkv, d).transpose(0, 1)
        v = linear(h, pre + "self_attn.v_proj").view(L, Hkv, d).transpose(0, 1)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(H // Hkv, dim=0)  # query head h reads KV head h // (H / Hkv)
        v = v.repeat_interleave(H // Hkv, dim=0)
        scores = (q @ k.transpose(1, 2)) / math.sqrt(d)
        scores = scores.masked_fill(~mask, float("-inf"))
        out = torch.softmax(scores, dim=-1) @ v
        out = out.transpose(0, 1).reshape(L, C)
        x = x + linear(out, pre + "self_attn.o_proj")
        h = rms_norm(x, params[pre + "post_attention_layernorm.weight"], eps)
        gate = linear(h, pre + "mlp.gate_proj")
        up = linear(h, pre + "mlp.up_proj")
        x = x + linear(torch.nn.functional.silu(gate) * up, pre + "mlp.down_proj")
    x = rms_norm(x, params["model.norm.weight"], eps)
    head = params["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else params["lm_head.weight"]
    logits = x @ head.T
    loss = torch.nn.functional.cross_entropy(logits[:-1], labels[1:], ignore_index=-100)
    loss.backward()

    os.makedirs(os.path.join(case_dir, "grad"), exist_ok=True)
    grads = {}
    for name, t in params.items():
        if t.requires_grad:
            g = t.grad if t.grad is not None else torch.zeros_like(t)
            path = os.path.join("grad", name + ".f32")
            with open(os.path.join(case_dir, path), "wb") as f:
                f.write(g.to(torch.float32).contiguous().numpy().tobytes())
            grads[name] = path
    with open(os.path.join(case_dir, "reference.json"), "w") as f:
        json.dump({"loss": loss.item(), "grads": grads, "torch": torch.__version__}, f)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: reference.py CASE_DIR")
    main(sys.argv[1])

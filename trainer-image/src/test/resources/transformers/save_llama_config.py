"""Saves LLaMA base-model configs the way transformers 5 does (LlamaConfig.save_pretrained), so the trainer's
config reader is tested against transformers' own output rather than hand-written JSON.

usage: save_llama_config.py OUT_DIR   (writes OUT_DIR/linear/config.json and OUT_DIR/default/config.json;
prints the transformers version and what it saved, as JSON)
"""
import json
import os
import sys

import transformers
from transformers import LlamaConfig

out = sys.argv[1]
shape = dict(vocab_size=258, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
             num_key_value_heads=2, rms_norm_eps=1e-5, tie_word_embeddings=False)
configs = {
    # A base model already extended by linear position interpolation (factor 4), LLaMA-3 theta.
    "linear": LlamaConfig(max_position_embeddings=4096,
                          rope_parameters={"rope_type": "linear", "factor": 4.0, "rope_theta": 500000.0}, **shape),
    # A plain base model: transformers fills in its default RoPE parameters itself.
    "default": LlamaConfig(max_position_embeddings=2048, **shape),
}
saved = {}
for name, config in configs.items():
    config.save_pretrained(os.path.join(out, name))
    with open(os.path.join(out, name, "config.json")) as f:
        saved[name] = json.load(f)
print(json.dumps({"transformers": transformers.__version__, "saved": saved}))

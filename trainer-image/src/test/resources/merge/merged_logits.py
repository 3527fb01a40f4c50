"""Loads a merged model directory with HF transformers alone (no PEFT) through AutoConfig and
AutoModelForCausalLM, and prints the fp32 logits of a token window at the given positions, plus the config values
transformers read, as JSON.

usage: merged_logits.py MODEL_DIR TOKENS_COMMA_SEPARATED POSITIONS_COMMA_SEPARATED
"""
import json
import sys

import torch
from transformers import AutoConfig, AutoModelForCausalLM

model_dir, tokens, positions = sys.argv[1], [int(t) for t in sys.argv[2].split(",")], [int(p) for p in sys.argv[3].split(",")]
config = AutoConfig.from_pretrained(model_dir)
model = AutoModelForCausalLM.from_pretrained(model_dir, config=config, dtype=torch.float32, attn_implementation="eager")
model.eval()
with torch.no_grad():
    logits = model(input_ids=torch.tensor([tokens])).logits[0]
print(json.dumps({
    "config_class": type(config).__name__,
    "model_class": type(model).__name__,
    # transformers 5 keeps RoPE scaling and theta in one rope_parameters dict (rope_type, factor, rope_theta).
    "rope_parameters": dict(config.rope_parameters),
    "max_position_embeddings": config.max_position_embeddings,
    "logits": [logits[p].tolist() for p in positions],
}))

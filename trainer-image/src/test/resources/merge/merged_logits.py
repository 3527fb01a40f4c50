"""Loads a merged model directory with HF transformers alone (no PEFT) and prints the fp32 logits of a token window
at the given positions, plus the config values transformers read, as JSON.

usage: merged_logits.py MODEL_DIR TOKENS_COMMA_SEPARATED POSITIONS_COMMA_SEPARATED
"""
import json
import sys

import torch
from transformers import LlamaForCausalLM

model_dir, tokens, positions = sys.argv[1], [int(t) for t in sys.argv[2].split(",")], [int(p) for p in sys.argv[3].split(",")]
model = LlamaForCausalLM.from_pretrained(model_dir, torch_dtype=torch.float32, attn_implementation="eager")
model.eval()
with torch.no_grad():
    logits = model(input_ids=torch.tensor([tokens])).logits[0]
print(json.dumps({
    "rope_scaling": model.config.rope_scaling,
    "max_position_embeddings": model.config.max_position_embeddings,
    "logits": [logits[p].tolist() for p in positions],
}))

"""Loads a model directory and a PEFT adapter written by the trainer with HF transformers + PEFT, and prints
the next-token loss of a token window plus the adapter weights PEFT actually holds, as JSON.

usage: peft_check.py MODEL_DIR ADAPTER_DIR TOKENS_COMMA_SEPARATED
"""
import json
import sys

import torch
from peft import PeftModel
from transformers import LlamaForCausalLM

model_dir, adapter_dir, tokens = sys.argv[1], sys.argv[2], [int(t) for t in sys.argv[3].split(",")]
torch.manual_seed(0)
base = LlamaForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="eager")
model = PeftModel.from_pretrained(base, adapter_dir)
model.eval()
ids = torch.tensor([tokens])
with torch.no_grad():
    loss = model(input_ids=ids, labels=ids).loss.item()

# What PEFT loaded, under the trainer's HF names, so the caller can compare values.
state = {}
for name, param in model.named_parameters():
    clean = name.replace("base_model.model.", "", 1)
    if ".lora_A.default." in clean or ".lora_B.default." in clean:
        state[clean.replace(".default.", ".")] = param.detach().flatten()[:4].tolist()
    elif ".modules_to_save.default." in clean:
        state[clean.replace(".modules_to_save.default.", ".")] = param.detach().flatten()[:4].tolist()
print(json.dumps({"loss": loss, "params": state}))

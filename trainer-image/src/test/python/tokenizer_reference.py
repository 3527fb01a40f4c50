"""Token ids of Python `tokenizers` for the trainer's parity test.

Usage: tokenizer_reference.py TOKENIZER_JSON TEXTS_JSON
TEXTS_JSON is a JSON array of strings; prints {"version", "plain": [[ids]...], "special": [[ids]...]}, without and
with the tokenizer's post-processor (BOS) special tokens.
"""
import json
import sys

import tokenizers
from tokenizers import Tokenizer

tok = Tokenizer.from_file(sys.argv[1])
with open(sys.argv[2], encoding="utf-8") as f:
    texts = json.load(f)
print(json.dumps({
    "version": tokenizers.__version__,
    "plain": [tok.encode(t, add_special_tokens=False).ids for t in texts],
    "special": [tok.encode(t, add_special_tokens=True).ids for t in texts],
}))

"""Python `tokenizers` peer of the trainer's TokenizerBenchmark: the same work on the same files.

Usage: tokenizer_throughput.py TOKENIZER_JSON CORPUS_JSONL OUT_BIN BATCH_CHARS
Reads the JSONL corpus ({"text": ...} per line), encodes it in batches of about BATCH_CHARS characters with
encode_batch (no special tokens; BOS/EOS added per document as the trainer does), writes uint16/uint32 ids, and
prints {"encode_s", "total_s", "bytes", "tokens", "ids_sha256"} as JSON. encode_s counts only encode_batch.
"""
import array
import hashlib
import json
import sys
import time

from tokenizers import Tokenizer

tok_path, corpus, out_path, batch_chars = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
tok = Tokenizer.from_file(tok_path)
cfg = json.load(open(tok_path.rsplit("/", 1)[0] + "/tokenizer_config.json"))
bos, eos = tok.token_to_id(cfg["bos_token"]), tok.token_to_id(cfg["eos_token"])
typecode = "H" if tok.get_vocab_size(with_added_tokens=True) <= 65536 else "I"

start = time.perf_counter()
encode_s = 0.0
tokens = 0
digest = hashlib.sha256()
with open(corpus, "rb") as f, open(out_path, "wb") as out:
    nbytes = 0

    def flush(batch):
        global encode_s, tokens
        t0 = time.perf_counter()
        encs = tok.encode_batch(batch, add_special_tokens=False)
        encode_s += time.perf_counter() - t0
        ids = array.array(typecode)
        for e in encs:
            ids.append(bos)
            ids.extend(e.ids)
            ids.append(eos)
        b = ids.tobytes()
        digest.update(b)
        out.write(b)
        tokens += len(ids)

    batch, chars = [], 0
    for line in f:
        nbytes += len(line)
        if not line.strip():
            continue
        text = json.loads(line)["text"]
        batch.append(text)
        chars += len(text)
        if chars >= batch_chars:
            flush(batch)
            batch, chars = [], 0
    if batch:
        flush(batch)
print(json.dumps({"encode_s": encode_s, "total_s": time.perf_counter() - start, "bytes": nbytes, "tokens": tokens,
                  "ids_sha256": digest.hexdigest()}))

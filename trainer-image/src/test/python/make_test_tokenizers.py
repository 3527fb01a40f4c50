"""Makes the two small tokenizer.json fixtures of the trainer's tokenizer tests with Python `tokenizers` (no hub).

  llama2-style/: BPE over SentencePiece-like "▁" words with byte fallback (<0x00>..<0xFF>), <unk>=0 <s>=1 </s>=2,
                 BOS prepended by the post-processor, like LLaMA-2's tokenizer.json.
  llama3-style/: byte-level BPE with LLaMA-3's split regex, <|begin_of_text|> / <|end_of_text|> added at the end of
                 the vocabulary, BOS prepended by the post-processor, like LLaMA-3's tokenizer.json.

Both are trained on a small generated corpus of prose, code, digits, whitespace runs and non-Latin text, so the
parity test meets merges, byte fallback and special-token handling. Usage: make_test_tokenizers.py OUT_DIR
"""
import json
import os
import random
import sys

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

LLAMA3_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                r"|\s*[\r\n]+|\s+(?!\S)|\s+")


def corpus(seed=7, lines=3000):
    rnd = random.Random(seed)
    words = ("the model reads long documents and learns to attend across thousands of tokens while the "
             "adapter stays small shifted sparse attention splits heads into groups position interpolation "
             "stretches rotary embeddings training data packing windows tokenizer vocabulary merges").split()
    code = ["def forward(self, x):\n    return self.proj(x) + x\n",
            "for (int i = 0; i < n; i++) { sum += a[i] * b[i]; }\n",
            "if err != nil {\n\treturn fmt.Errorf(\"open %s: %w\", path, err)\n}\n",
            "SELECT id, name FROM users WHERE age >= 42 ORDER BY name;\n"]
    other = ["Größe und Übung — café, naïve résumé.", "東京は日本の首都です。長い文脈を学習する。",
             "Привет, мир! Длинный контекст.", "مرحبا بالعالم", "emoji 🙂🚀 and ✓ marks", "x² + y² = r²; π ≈ 3.14159"]
    out = []
    for _ in range(lines):
        kind = rnd.random()
        if kind < 0.6:
            out.append(" ".join(rnd.choice(words) for _ in range(rnd.randint(3, 18))).capitalize() + ".")
        elif kind < 0.75:
            out.append(rnd.choice(code))
        elif kind < 0.9:
            out.append(rnd.choice(other))
        else:
            out.append(f"{rnd.randint(0, 10**rnd.randint(1, 9))} items at {rnd.random() * 100:.2f}% on 2026-11-{rnd.randint(1, 30):02d}")
    return out


def llama2_style(lines, vocab_size=1200):
    specials = ["<unk>", "<s>", "</s>"]
    byte_tokens = [f"<0x{b:02X}>" for b in range(256)]
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    # Training splits on "▁" so merges stay inside words (SentencePiece's pieces); encoding, like LLaMA-2's file,
    # runs BPE over the whole normalized text without a pre-tokenizer.
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="never", split=True)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size - len(byte_tokens), special_tokens=specials,
                                  limit_alphabet=200, show_progress=False)
    tok.train_from_iterator(lines, trainer)
    spec = json.loads(tok.to_str())
    # LLaMA-2 keeps the 256 byte-fallback pieces right after the specials: shift the learned pieces behind them.
    learned = sorted(((t, i) for t, i in spec["model"]["vocab"].items() if t not in specials), key=lambda x: x[1])
    vocab = {t: i for i, t in enumerate(specials + byte_tokens)}
    for t, _ in learned:
        vocab.setdefault(t, len(vocab))
    spec["model"]["vocab"] = vocab
    spec["pre_tokenizer"] = None
    tok = Tokenizer.from_str(json.dumps(spec))
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(" ", 1, 0)])
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B",
                                                       special_tokens=[("<s>", 1)])
    return tok, {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}


def llama3_style(lines, vocab_size=1500):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(pattern=__import__("tokenizers").Regex(LLAMA3_SPLIT), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(lines, trainer)
    tok.add_special_tokens(["<|begin_of_text|>", "<|end_of_text|>"])
    bos = tok.token_to_id("<|begin_of_text|>")
    tok.post_processor = processors.TemplateProcessing(single="<|begin_of_text|> $A",
                                                       pair="<|begin_of_text|> $A <|begin_of_text|> $B",
                                                       special_tokens=[("<|begin_of_text|>", bos)])
    return tok, {"bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>"}


def main():
    out = sys.argv[1]
    lines = corpus()
    for name, make in (("llama2-style", llama2_style), ("llama3-style", llama3_style)):
        tok, config = make(lines)
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        tok.save(os.path.join(d, "tokenizer.json"), pretty=False)
        with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
            json.dump(config, f, indent=1)
        print(name, tok.get_vocab_size(with_added_tokens=True))


if __name__ == "__main__":
    main()

# Installs Python `tokenizers` (the reference the trainer's tokenizer parity test compares token ids against, and
# the peer of the tokenizer benchmark) into its own small venv: version 0.21.0, the Rust library version that DJL's
# binding bundles. Exports LONGLORA_TOKENIZERS_PYTHON. Sourced by bin/test with `set -euo pipefail`: no exit,
# every failure guarded. Quiet and fast when warm.

longlora_tok_venv="$LONGLORA_CACHE/tokenizers-venv-0.21.0"
if [ ! -x "$longlora_tok_venv/bin/python" ]; then
  echo "Installing Python tokenizers 0.21.0 (reference for the trainer's tokenizer parity test)..." >&2
  if python3 -m venv "$longlora_tok_venv" >/dev/null 2>&1 &&
     "$longlora_tok_venv/bin/pip" install -q "tokenizers==0.21.0" >/dev/null 2>&1 &&
     "$longlora_tok_venv/bin/python" -c "import tokenizers" >/dev/null 2>&1; then
    :
  else
    echo "warning: could not install Python tokenizers; the tokenizer parity test fails under CI=true" >&2
    rm -rf "$longlora_tok_venv" || true
  fi
fi
if [ -x "$longlora_tok_venv/bin/python" ]; then
  export LONGLORA_TOKENIZERS_PYTHON="$longlora_tok_venv/bin/python"
fi
unset longlora_tok_venv

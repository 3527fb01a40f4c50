# Installs HF transformers + PEFT (test-only) into a venv beside Debian's python3-torch (from 20-torch-reference.sh),
# so the trainer's PEFT compatibility test can load our adapters with PeftModel.from_pretrained. Pinned versions
# that work with Debian's torch 1.13; --no-deps keeps pip from pulling a second, multi-GB torch.
# Sourced by bin/test with `set -euo pipefail`: no exit, every failure guarded. Quiet and fast when warm.

longlora_peft_venv="$LONGLORA_CACHE/peft-venv-transformers4.38.2-peft0.10.0"
if [ -n "${LONGLORA_TORCH_PYTHON:-}" ] && [ ! -x "$longlora_peft_venv/bin/python" ]; then
  echo "Installing transformers and PEFT (reference for the trainer's PEFT compatibility test)..." >&2
  if "$LONGLORA_TORCH_PYTHON" -m venv --system-site-packages "$longlora_peft_venv" >/dev/null 2>&1 &&
     "$longlora_peft_venv/bin/pip" install -q --no-deps "transformers==4.38.2" "peft==0.10.0" "accelerate==0.27.2" \
       "safetensors==0.4.2" "tokenizers==0.15.2" "huggingface_hub==0.21.4" tqdm regex filelock packaging fsspec \
       >/dev/null 2>&1 &&
     "$longlora_peft_venv/bin/python" -c "import peft, transformers" >/dev/null 2>&1; then
    :
  else
    echo "warning: could not install transformers/PEFT; the PEFT compatibility test will be skipped" >&2
    rm -rf "$longlora_peft_venv" || true
  fi
fi
if [ -x "$longlora_peft_venv/bin/python" ]; then
  export LONGLORA_PEFT_PYTHON="$longlora_peft_venv/bin/python"
fi
unset longlora_peft_venv

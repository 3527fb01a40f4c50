# Installs the Python reference stack of the trainer's tests and benchmarks into one venv: PyTorch (numeric float64
# references, the train-step benchmark's peer, libnccl.so.2 for NcclTest), HF transformers (loads our merged model)
# and PEFT (loads our adapter). Every package is pinned in 20-torch-reference.requirements.txt and installed with
# --no-deps, so the venv is exactly that list. Exports LONGLORA_TORCH_PYTHON and LONGLORA_PEFT_PYTHON (the same venv
# python; two names because numerics and the HF-format tests are separate users).
#
# The venv lives at $LONGLORA_CACHE/torch-venv-torch<v>-transformers<v>-peft<v>-<hash of the requirements file>.
# It is built in a temporary folder beside it, under a lock (two setups at once wait for each other), and renamed into
# place only once `import torch, transformers, peft` works, so a half-built venv is never used. Wheels are kept in
# $LONGLORA_CACHE/pip/wheels (`pip download -d`, then an offline install from there: pip's own HTTP cache stayed
# empty here, so a rebuild would download everything again). A cold install downloads about 3 GB (torch is PyPI's
# CUDA build; it runs on CPU), see docs/operations.md; a warm run only checks a file. Sourced by bin/test with
# `set -euo pipefail`: no exit, every failure guarded; on failure it warns, and the Python-reference tests then fail
# under CI=true and skip elsewhere.
# After the rename only bin/python is used (pip's console scripts keep the temporary folder in their #! line).

: "${LONGLORA_CACHE:=$HOME/.cache/longlora}"  # tools/env.sh sets it; a bare `source` must not install into /
longlora_torch_reqs="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/20-torch-reference.requirements.txt"
longlora_torch_venv=""
if [ -r "$longlora_torch_reqs" ]; then
  longlora_torch_venv="$LONGLORA_CACHE/torch-venv-torch$(sed -n 's/^torch==//p' "$longlora_torch_reqs")"
  longlora_torch_venv+="-transformers$(sed -n 's/^transformers==//p' "$longlora_torch_reqs")"
  longlora_torch_venv+="-peft$(sed -n 's/^peft==//p' "$longlora_torch_reqs")"
  longlora_torch_venv+="-$(sha256sum "$longlora_torch_reqs" | cut -c1-12)"
fi

longlora_torch_ready() {
  [ -n "$longlora_torch_venv" ] && [ -f "$longlora_torch_venv/.complete" ] && [ -x "$longlora_torch_venv/bin/python" ]
}

# Runs in a subshell holding the lock, so its `exit`s leave only the subshell.
longlora_torch_build() (
  local lock="$LONGLORA_CACHE/torch-venv.lock" log="$LONGLORA_CACHE/torch-venv.log" tmp
  mkdir -p "$LONGLORA_CACHE" || exit 1
  exec 9>"$lock" || exit 1
  flock -w 7200 9 || { echo "error: waited 2 h for $lock (another setup installing the venv?)" >&2; exit 1; }
  longlora_torch_ready && exit 0  # the setup we waited for built it
  rm -rf "$LONGLORA_CACHE"/.torch-venv-build.*  # leftovers of an interrupted build; we hold the lock
  command -v python3 >/dev/null 2>&1 || { echo "error: no python3 on PATH to make the venv with" >&2; exit 1; }
  tmp=$(mktemp -d "$LONGLORA_CACHE/.torch-venv-build.XXXXXX") || exit 1
  echo "Installing torch, transformers and PEFT into $longlora_torch_venv (once; about 3 GB; log: $log)..." >&2
  local start=$SECONDS
  if python3 -m venv "$tmp" >"$log" 2>&1 &&
     "$tmp/bin/python" -m pip download --disable-pip-version-check --no-input --no-deps \
       -d "$LONGLORA_CACHE/pip/wheels" -r "$longlora_torch_reqs" >>"$log" 2>&1 &&
     "$tmp/bin/python" -m pip install --disable-pip-version-check --no-input --no-warn-script-location \
       --no-index --find-links "$LONGLORA_CACHE/pip/wheels" --no-deps -r "$longlora_torch_reqs" >>"$log" 2>&1 &&
     "$tmp/bin/python" -c 'import torch, transformers, peft' >>"$log" 2>&1 &&
     cp "$longlora_torch_reqs" "$tmp/.complete" &&
     rm -rf "$longlora_torch_venv" && mv -T "$tmp" "$longlora_torch_venv"; then
    echo "Installed the PyTorch reference venv in $((SECONDS - start)) s" >&2
  else
    echo "error: installing the PyTorch reference venv failed; the last lines of $log:" >&2
    tail -n 20 "$log" >&2 || true
    rm -rf "$tmp"
    exit 1
  fi
)

if ! longlora_torch_ready; then
  if [ -z "$longlora_torch_venv" ]; then
    echo "warning: $longlora_torch_reqs is missing;" \
      "the PyTorch/transformers/PEFT reference tests fail under CI=true and skip elsewhere" >&2
  elif ! longlora_torch_build || ! longlora_torch_ready; then
    echo "warning: no PyTorch reference venv;" \
      "the PyTorch/transformers/PEFT reference tests fail under CI=true and skip elsewhere" >&2
  fi
fi
if longlora_torch_ready; then
  export LONGLORA_TORCH_PYTHON="$longlora_torch_venv/bin/python"
  export LONGLORA_PEFT_PYTHON="$longlora_torch_venv/bin/python"
fi
unset -f longlora_torch_ready longlora_torch_build
unset longlora_torch_reqs longlora_torch_venv

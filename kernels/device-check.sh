#!/usr/bin/env bash
# One prepared run for the lent GPU machine (H100/H200, CUDA 13, PyTorch, CuPy; no Java needed):
# builds the kernels with the machine's nvcc (falling back to carried cubins in kernels/prebuilt/ or
# kernels/target/classes/dev/longlora/kernels/), checks every kernel against PyTorch math, and times attention
# forward+backward against PyTorch SDPA (flash backend). Results: a table on stdout and files under $OUT.
#
# Usage (from the repository root): bash kernels/device-check.sh      Runs in about 2-4 minutes.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$root/kernels/target/device-check}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
log="$OUT/device-check.log"
: >"$log"
say() { echo "$@" | tee -a "$log"; }

say "== $(date -u +%Y-%m-%dT%H:%MZ) $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1)"
nvcc=${NVCC:-$(command -v nvcc || ls /usr/local/cuda/bin/nvcc 2>/dev/null || true)}
kdir=/tmp/longlora-kernels
built=0
if [ -n "$nvcc" ]; then
  say "== build with $nvcc"
  if NVCC=$nvcc bash "$root/kernels/build-kernels.sh" "$kdir" 2>&1 | tee -a "$log" && grep -q built=true "$kdir/kernels.properties"; then
    built=1
  fi
fi
if [ "$built" = 0 ]; then
  for pre in "$root/kernels/prebuilt" "$root/kernels/target/classes/dev/longlora/kernels"; do
    if [ -f "$pre/attention.sm_90a.cubin" ]; then
      say "== nvcc build unavailable or failed: using carried kernels from $pre"
      kdir=$pre; built=1; break
    fi
  done
fi
[ "$built" = 1 ] || { say "error: no kernels could be built or found"; exit 1; }

status=0
python3 "$root/kernels/check/attention_check.py" --kernels "$kdir" --out "$OUT" 2>&1 | tee -a "$log" || status=1
if [ -f "$root/kernels/check/layers_check.py" ]; then
  python3 "$root/kernels/check/layers_check.py" --kernels "$kdir" --out "$OUT" 2>&1 | tee -a "$log" || status=1
fi
say "== device-check finished with status $status; files in $OUT"
exit $status

#!/usr/bin/env bash
# One prepared run for the lent GPU machine (H100/H200, CUDA 13, PyTorch, CuPy; no Java needed):
# builds the kernels with the machine's nvcc (falling back to carried cubins in kernels/prebuilt/ or
# kernels/target/classes/dev/longlora/kernels/), checks every kernel against PyTorch math, and times attention
# forward+backward against PyTorch SDPA (flash backend). Results: a table on stdout and files under $OUT.
#
# Usage (from the repository root): bash kernels/device-check.sh      About 3 minutes; 6-7 with .device-java.
# Device tool call: carry [".device-java"] (optional), timeout_s 540. DEVICE_CHECK_SKIP_STEP=1 skips the step bench.
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
# The Java side, when carried (bash kernels/pack-java-for-device.sh here, then carry [".device-java"]): the CUDA
# backend's JUnit tests against the CPU reference (and KV-cached decoding on the GPU against its full recomputation),
# and the whole-step benchmark beside its PyTorch + PEFT peer.
jdir="$root/.device-java"
if [ -x "$jdir/jre/bin/java" ]; then
  cp_java="$jdir/test-classes:$jdir/longlora-trainer.jar:$jdir/longlora-trainer-bench.jar"
  cp_java="$cp_java:$(ls "$jdir"/lib/*.jar | tr '\n' ':')"
  jopts=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED)
  say "== Java: CUDA backend tests against the CPU reference"
  timeout 300 "$jdir/jre/bin/java" "${jopts[@]}" -jar "$jdir/junit-console.jar" execute --disable-ansi-colors \
    --select-class dev.longlora.trainer.generate.KvCachedDecodingTest \
    --disable-banner -cp "$cp_java" --select-package dev.longlora.trainer.backend.cuda --details=tree \
    >"$OUT/java-tests.log" 2>&1 || status=1
  grep -E '✘|FAIL|tests (successful|failed|aborted|skipped)' "$OUT/java-tests.log" | head -40 | tee -a "$log"
  if [ "${DEVICE_CHECK_SKIP_STEP:-0}" != 1 ]; then
    say "== whole LongLoRA step, ${STEP_SEQ:-8192} tokens, 1.1B LLaMA (22 layers, hidden 2048, 32/4 heads), S2"
    timeout 300 "$jdir/jre/bin/java" "${jopts[@]}" -cp "$cp_java" dev.longlora.trainer.bench.CudaStepBenchmark \
      --seq "${STEP_SEQ:-8192}" --steps 2 --warmup 1 --matmul bf16 2>&1 | grep -v '^WARNING' \
      | tee -a "$OUT/step-bench.json" "$log" || status=1
    timeout 300 python3 "$root/kernels/check/torch_step_gpu.py" --seq "${STEP_SEQ:-8192}" --steps 2 --warmup 1 2>&1 \
      | tee -a "$OUT/step-bench.json" "$log" || status=1
    python3 - "$OUT/step-bench.json" <<'PY' | tee -a "$log"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
by = {r["impl"]: r for r in rows}
j, t = by.get("longlora-java-cuda"), by.get("pytorch-peft-sdpa")
if j and t:
    print(f"step tokens/s: java-cuda {j['tokens_per_s']:.0f} ({j['matmul']} GEMMs, peak tensors "
          f"{j['peak_tensor_bytes'] / 2**30:.1f} GiB) vs pytorch+peft {t['tokens_per_s']:.0f} (peak "
          f"{t['peak_bytes'] / 2**30:.1f} GiB): ratio {j['tokens_per_s'] / t['tokens_per_s']:.2f}x")
PY
  fi
else
  say "== Java not carried: run 'bash kernels/pack-java-for-device.sh' here and carry .device-java to add the"
  say "   CUDA backend tests and the whole-step benchmark"
fi

[ -f "$OUT/attention-bench.md" ] && { echo; cat "$OUT/attention-bench.md"; } | tee -a "$log"
say "== device-check finished with status $status; files in $OUT"
exit $status

#!/usr/bin/env bash
# Compiles src/attention.cu as host C++ over the emulated primitives (device_primitives.cuh here) and checks it
# against a float64 reference: a GPU-free check of the kernels' tiling, masking and fragment arithmetic.
# Usage: kernels/emulator/run.sh [--quick]      needs g++ 11+ (C++20: <barrier>, atomic_ref)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v g++ >/dev/null 2>&1; then
  echo "[kernels] emulated attention check skipped: g++ not found (apt-get install g++)"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/../src/attention.cu" "$here/../src/common.cuh" "$here/device_primitives.cuh" "$here/prelude.h" "$work/"
g++ -std=c++20 -O2 -pthread -fno-strict-aliasing -w -I "$work" -o "$work/attention_emulated" \
  "$here/attention_emulated.cpp"
"$work/attention_emulated" "$@"

#!/usr/bin/env bash
# Compiles src/attention.cu and src/layers.cu as host C++ over the emulated primitives (device_primitives.cuh
# here) and checks them against float64 references: a GPU-free check of the kernels' tiling, masking, fragment
# and index arithmetic. --quick (used by the Maven build) runs two of the attention cases.
# Usage: kernels/emulator/run.sh [--quick]      needs g++ 11+ (C++20: <barrier>, atomic_ref)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v g++ >/dev/null 2>&1; then
  echo "[kernels] emulated kernel checks skipped: g++ not found (apt-get install g++)"
  exit 0
fi
# A pass is remembered per source hash (in kernels/target), so unchanged kernels are not re-checked on every build.
stamp_file="$here/../target/emulator.stamp"
stamp=$(cat "$here"/../src/* "$here"/*.cpp "$here"/*.h "$here"/*.cuh "$0" | sha256sum | cut -c1-16)-"$*"
if [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$stamp" ]; then
  echo "[kernels] emulated kernel checks up to date: they passed for these sources"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here"/../src/*.cu "$here/../src/common.cuh" "$here/device_primitives.cuh" "$here/prelude.h" "$here/runtime.h" "$work/"
status=0
for check in attention layers; do
  g++ -std=c++20 -O2 -pthread -fno-strict-aliasing -w -I "$work" -o "$work/${check}_emulated" "$here/${check}_emulated.cpp"
  "$work/${check}_emulated" "$@" || status=1
done
if [ "$status" = 0 ]; then
  mkdir -p "$(dirname "$stamp_file")"
  echo "$stamp" >"$stamp_file"
fi
exit $status

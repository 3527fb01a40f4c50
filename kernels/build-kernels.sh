#!/usr/bin/env bash
# Compiles kernels/src/*.cu with nvcc into cubins for sm_80 and sm_90a plus compute_80 PTX (for newer cards),
# checks every entry point in entry-points.txt is present, and writes kernels.properties describing the result.
# Without nvcc it writes kernels.properties with built=false and succeeds: the CPU build never needs nvcc.
#
# Usage: build-kernels.sh OUTDIR      (NVCC and CUDA_INCLUDE_DIRS come from tools/setup.d/30-nvcc.sh)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build-kernels.sh OUTDIR}
mkdir -p "$out"  # nvcc exits 0 without writing anything when -o's folder is missing

# The sources' hash: a build for these sources (by any nvcc) stays valid.
source_hash=$(cat "$here"/src/* "$here/entry-points.txt" "$0" | sha256sum | cut -c1-16)

nvcc=${NVCC:-$(command -v nvcc || true)}
if { [ -z "$nvcc" ] || [ ! -x "$nvcc" ]; } && [ -f "$out/kernels.properties" ] \
    && grep -q "^stamp=$source_hash-" "$out/kernels.properties"; then
  echo "[kernels] nvcc not found, but the kernels in $out were built from these sources: kept"
  exit 0
fi
if [ -z "$nvcc" ] || [ ! -x "$nvcc" ]; then
  echo "[kernels] nvcc not found (set NVCC or run tools/setup.d/30-nvcc.sh): packaging the kernels jar without cubins"
  rm -f "$out"/*.cubin "$out"/*.ptx "$out/entry-points.txt"
  printf 'built=false\nreason=nvcc not found at build time\n' >"$out/kernels.properties"
  exit 0
fi

includes=()
if [ -n "${CUDA_INCLUDE_DIRS:-}" ]; then
  IFS=: read -r -a dirs <<<"$CUDA_INCLUDE_DIRS"
  for d in "${dirs[@]}"; do includes+=(-I "$d"); done
elif [ -d "$(dirname "$nvcc")/../include/cccl" ]; then
  includes+=(-I "$(dirname "$nvcc")/../include/cccl")
fi

version=$("$nvcc" --version | sed -n 's/.*release \([0-9.]*\), V\([0-9.]*\).*/\2/p')
modules=()
for src in "$here"/src/*.cu; do modules+=("$(basename "$src" .cu)"); done

# Up to date when neither the sources, the entry list, this script nor the compiler changed.
stamp=$source_hash-$version
if [ -f "$out/kernels.properties" ] && grep -qx "stamp=$stamp" "$out/kernels.properties"; then
  echo "[kernels] up to date (nvcc $version)"
  exit 0
fi
rm -f "$out"/*.cubin "$out"/*.ptx "$out/kernels.properties" "$out/entry-points.txt"

flags=(-std=c++17 -O3 -lineinfo "${includes[@]}")
targets=(sm_80 sm_90a compute_80)
compile() {  # module target
  local m=$1 t=$2 src="$here/src/$1.cu"
  case $t in
    sm_80) "$nvcc" "${flags[@]}" -cubin -gencode=arch=compute_80,code=sm_80 -o "$out/$m.sm_80.cubin" "$src" ;;
    sm_90a) "$nvcc" "${flags[@]}" -cubin -gencode=arch=compute_90a,code=sm_90a -o "$out/$m.sm_90a.cubin" "$src" ;;
    compute_80) "$nvcc" "${flags[@]}" -ptx -arch=compute_80 -o "$out/$m.compute_80.ptx" "$src" ;;
  esac
}
echo "[kernels] nvcc $version: ${modules[*]} for ${targets[*]}"
pids=()
for m in "${modules[@]}"; do
  for t in "${targets[@]}"; do compile "$m" "$t" & pids+=($!); done
done
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=1; done
[ "$failed" = 0 ] || { echo "[kernels] error: nvcc failed (see above)" >&2; exit 1; }

for m in "${modules[@]}"; do
  expected=$(awk -v m="$m" '$1 == m { print $2 }' "$here/entry-points.txt")
  [ -n "$expected" ] || { echo "[kernels] error: $m.cu has no entry points listed in entry-points.txt" >&2; exit 1; }
  for t in "${targets[@]}"; do
    f="$out/$m.$t.cubin"; [ "$t" = compute_80 ] && f="$out/$m.$t.ptx"
    [ -s "$f" ] || { echo "[kernels] error: nvcc wrote no $f" >&2; exit 1; }
    # shellcheck disable=SC2086
    python3 "$here/tools/elf_symbols.py" "$f" $expected
  done
done
for m in $(awk '!/^#/ && NF { print $1 }' "$here/entry-points.txt" | sort -u); do
  [ -f "$here/src/$m.cu" ] || { echo "[kernels] error: entry-points.txt names module $m but src/$m.cu is missing" >&2; exit 1; }
done

cp "$here/entry-points.txt" "$out/entry-points.txt"
{
  echo "built=true"
  echo "nvcc=$version"
  echo "modules=$(IFS=,; echo "${modules[*]}")"
  echo "targets=$(IFS=,; echo "${targets[*]}")"
  echo "stamp=$stamp"
} >"$out/kernels.properties"
echo "[kernels] built and checked $(ls "$out" | grep -c -E '\.(cubin|ptx)$') files in $out"

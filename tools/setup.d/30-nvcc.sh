# Sourced by bin/test (with set -euo pipefail): installs CUDA 13.0's nvcc from the Python package index into
# $LONGLORA_CACHE/nvcc/cuda-<version>, so the kernels module compiles the CUDA kernels. No GPU is needed to compile.
#
# Pinned to 13.0.x: newer compilers emit PTX that the R580 driver on the GPU machines rejects.
# Exports NVCC (the compiler) and CUDA_INCLUDE_DIRS (colon-separated: the toolkit headers and CCCL's nv/, cuda/).
# In CI (CI=true) a failed install is an error, so the kernels are always compiled there; elsewhere it only warns,
# because the CPU build and the demo never need nvcc. LONGLORA_SKIP_NVCC=1 skips the step outside CI.

: "${LONGLORA_CACHE:=$HOME/.cache/longlora}"  # tools/env.sh sets it; a bare `source` of this file must not install into /
longlora_nvcc_series=13.0
longlora_nvcc_home="$LONGLORA_CACHE/nvcc/cuda-$longlora_nvcc_series"
longlora_nvcc_specs="nvidia-cuda-nvcc==$longlora_nvcc_series.* nvidia-cuda-runtime==$longlora_nvcc_series.* nvidia-cuda-crt==$longlora_nvcc_series.* nvidia-nvvm==$longlora_nvcc_series.* nvidia-cuda-cccl==$longlora_nvcc_series.*"

longlora_install_nvcc() {
  local stamp="$longlora_nvcc_home/.complete"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$longlora_nvcc_specs" ] && [ -x "$longlora_nvcc_home/nvidia/cu13/bin/nvcc" ]; then
    return 0
  fi
  if ! command -v python3 >/dev/null 2>&1 || ! python3 -m pip --version >/dev/null 2>&1; then
    echo "error: installing nvcc needs python3 with pip (apt-get install python3-pip)" >&2
    return 1
  fi
  echo "Installing CUDA $longlora_nvcc_series nvcc into $longlora_nvcc_home ..." >&2
  local tmp
  mkdir -p "$LONGLORA_CACHE"
  tmp=$(mktemp -d "$LONGLORA_CACHE/nvcc-install.XXXXXX") || return 1
  # One pip call for all wheels: they share the nvidia/cu13 folder, and pip --target does not merge later installs.
  # shellcheck disable=SC2086
  if ! python3 -m pip install -q --disable-pip-version-check --no-warn-script-location --target "$tmp" \
      $longlora_nvcc_specs >"$tmp.log" 2>&1; then
    cat "$tmp.log" >&2
    rm -rf "$tmp" "$tmp.log"
    return 1
  fi
  rm -f "$tmp.log"
  echo "$longlora_nvcc_specs" >"$tmp/.complete"
  rm -rf "$longlora_nvcc_home"
  mkdir -p "$(dirname "$longlora_nvcc_home")"
  mv "$tmp" "$longlora_nvcc_home"
  # Prove the compiler works (nvcc exits 0 without output when -o's folder is missing: check the file).
  local probe
  probe=$(mktemp -d)
  printf '#include <cuda_bf16.h>\nextern "C" __global__ void probe(float* x){ x[0] = __bfloat162float(__float2bfloat16(1.f)); }\n' >"$probe/probe.cu"
  if ! "$longlora_nvcc_home/nvidia/cu13/bin/nvcc" -I "$longlora_nvcc_home/nvidia/cu13/include/cccl" -cubin \
      -gencode=arch=compute_80,code=sm_80 -o "$probe/probe.cubin" "$probe/probe.cu" >&2 || [ ! -s "$probe/probe.cubin" ]; then
    echo "error: the installed nvcc could not compile a probe kernel" >&2
    rm -rf "$probe" "$longlora_nvcc_home"
    return 1
  fi
  rm -rf "$probe"
}

if [ "${LONGLORA_SKIP_NVCC:-0}" = "1" ] && [ "${CI:-}" != "true" ]; then
  echo "nvcc: skipped (LONGLORA_SKIP_NVCC=1); the kernels jar is built without cubins" >&2
elif longlora_install_nvcc; then
  export NVCC="$longlora_nvcc_home/nvidia/cu13/bin/nvcc"
  export CUDA_INCLUDE_DIRS="$longlora_nvcc_home/nvidia/cu13/include:$longlora_nvcc_home/nvidia/cu13/include/cccl"
elif [ "${CI:-}" = "true" ]; then
  echo "error: CI must compile the CUDA kernels, but nvcc $longlora_nvcc_series could not be installed (see above)" >&2
  return 1
else
  echo "warning: nvcc $longlora_nvcc_series could not be installed; the kernels jar is built without cubins" >&2
fi
unset -f longlora_install_nvcc

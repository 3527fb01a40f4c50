# Installs the PyTorch reference the trainer's numerics tests compare against (Debian's python3-torch) and an
# optimised BLAS beside it (on the reference BLAS torch's CPU matmuls are several times slower, which would make
# the benchmark's ratio meaningless). Sourced by bin/test with `set -euo pipefail`: no exit, every failure guarded.
# Idempotent: when both packages are present it only exports the variable, silently.

longlora_torch_ready() {
  dpkg-query -W -f='${Status}' python3-torch 2>/dev/null | grep -q 'install ok installed' &&
    dpkg-query -W -f='${Status}' libopenblas0-pthread 2>/dev/null | grep -q 'install ok installed'
}

if ! longlora_torch_ready; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing python3-torch and libopenblas0-pthread (PyTorch reference for the trainer tests)..." >&2
    # Refresh the package lists only when the install fails without it (fresh machines have none).
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch libopenblas0-pthread >/dev/null 2>&1; then
      apt-get update -qq >/dev/null 2>&1 || true
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch libopenblas0-pthread >/dev/null 2>&1 ||
        echo "warning: could not install python3-torch; the PyTorch reference tests will fail under CI=true" >&2
    fi
  else
    echo "warning: python3-torch is missing and this shell cannot apt-get install it (needs root);" \
      "the PyTorch reference tests will fail under CI=true" >&2
  fi
fi

if longlora_torch_ready; then
  export LONGLORA_TORCH_PYTHON=/usr/bin/python3
fi
unset -f longlora_torch_ready

# Sourced by bin/test (with `set -euo pipefail`): provides kube-apiserver, kubectl, etcd and helm for the
# operator's real-API-server tests, built from the Go module proxy once and cached by version under
# $LONGLORA_CACHE/control-plane/. Exports:
#   LONGLORA_KUBE_BIN_DIR  directory with kube-apiserver, kubectl, etcd
#   LONGLORA_KUBE_VERSION  the Kubernetes version they were built from
#   HELM                   the helm binary
# A warm run only checks that the binaries exist and run. A cold build takes tens of minutes
# (see docs/operations.md); its log goes to $LONGLORA_CACHE/control-plane/build.log.

_cp_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../control-plane" && pwd)
# shellcheck source=../control-plane/versions.env
source "$_cp_root/versions.env"
_cp_cache=${LONGLORA_CACHE:-$HOME/.cache/longlora}/control-plane
_cp_bin="$_cp_cache/k8s-$KUBE_VERSION-etcd-$ETCD_VERSION-helm-$HELM_VERSION/bin"

_cp_ready() {
  [ -x "$_cp_bin/kube-apiserver" ] && [ -x "$_cp_bin/kubectl" ] && [ -x "$_cp_bin/etcd" ] && [ -x "$_cp_bin/helm" ] \
    && "$_cp_bin/kube-apiserver" --version >/dev/null 2>&1 \
    && "$_cp_bin/kubectl" version --client >/dev/null 2>&1 \
    && "$_cp_bin/etcd" --version >/dev/null 2>&1 \
    && "$_cp_bin/helm" version >/dev/null 2>&1
}

if ! _cp_ready; then
  mkdir -p "$_cp_cache"
  echo "Building kube-apiserver, kubectl, etcd and helm from source (once; log: $_cp_cache/build.log)..." >&2
  _cp_start=$SECONDS
  if "$_cp_root/build.sh" "$_cp_bin" >"$_cp_cache/build.log" 2>&1 && _cp_ready; then
    echo "Control-plane binaries built in $((SECONDS - _cp_start)) s into $_cp_bin" >&2
  else
    echo "error: building the control-plane binaries failed; the last lines of $_cp_cache/build.log:" >&2
    tail -n 20 "$_cp_cache/build.log" >&2 || true
    echo "The real-API-server tests will fail under CI=true and skip elsewhere." >&2
  fi
  unset _cp_start
fi

if _cp_ready; then
  export LONGLORA_KUBE_BIN_DIR="$_cp_bin"
  export LONGLORA_KUBE_VERSION="$KUBE_VERSION"
  export HELM="$_cp_bin/helm"
fi
unset -f _cp_ready
unset _cp_root _cp_cache _cp_bin KUBE_VERSION ETCD_VERSION HELM_VERSION

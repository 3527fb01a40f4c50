#!/usr/bin/env bash
# Builds kube-apiserver, kubectl, etcd and helm from the Go module proxy into one directory.
#
#   tools/control-plane/build.sh OUT_DIR
#
# Each binary comes from a wrapper module in this folder (see the go.mod comments for why);
# the versions come from versions.env. Module and build caches live next to OUT_DIR's parent
# (GOMODCACHE/GOCACHE under $LONGLORA_CACHE/control-plane/go), so a rebuild after a version bump
# reuses whatever did not change. A binary that already exists and runs is not rebuilt.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:?usage: build.sh OUT_DIR}
# shellcheck source=versions.env
source "$here/versions.env"

command -v go >/dev/null 2>&1 || [ -x /usr/local/go/bin/go ] || {
  echo "error: no Go toolchain found; install Go >= 1.24 (the control-plane binaries are built from source)" >&2
  exit 2
}
command -v go >/dev/null 2>&1 || export PATH="/usr/local/go/bin:$PATH"

cache=${LONGLORA_CACHE:-$HOME/.cache/longlora}/control-plane
export GOMODCACHE="$cache/go/mod" GOCACHE="$cache/go/build"
# -mod=mod: the wrapper modules ship no go.sum; Go records checksums on first resolution
# (verified against the checksum database as usual). No VCS stamping: sources come from zips.
export GOFLAGS="-mod=mod -buildvcs=false"
export CGO_ENABLED=0
# Stay on the local toolchain: a wrapper's `go` line must never trigger a toolchain download.
export GOTOOLCHAIN=local
mkdir -p "$out" "$GOMODCACHE" "$GOCACHE"

work=$(mktemp -d "$cache/work.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Copies a wrapper module into the scratch dir and builds the given packages into $out.
build_wrapper() {
  local name=$1; shift
  local dir="$work/$name"
  cp -r "$here/$name" "$dir"
  case $name in
    kubernetes)
      local staging="v0.${KUBE_VERSION#1.}"
      (cd "$dir" && go mod edit -require="k8s.io/kubernetes@v$KUBE_VERSION")
      for mod in $(sed -nE 's#^\s*(k8s\.io/[a-z0-9-]+) => .*#\1#p' "$dir/go.mod"); do
        (cd "$dir" && go mod edit -replace="$mod=$mod@$staging")
      done ;;
    etcd) (cd "$dir" && go mod edit -require="go.etcd.io/etcd/server/v3@v$ETCD_VERSION") ;;
    helm)
      (cd "$dir" && go mod edit -require="helm.sh/helm/v3@v$HELM_VERSION")
      # As helm's Makefile does: the default Kubernetes version for `helm template`/`lint` comes from the
      # client-go it is built with (v0.N -> 1.N); without it helm assumes 1.20 and refuses kubeVersion ranges.
      local client_go minor
      client_go=$(cd "$dir" && go list -m -f '{{.Version}}' k8s.io/client-go)
      minor=$(echo "$client_go" | cut -d. -f2)
      for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
        LDFLAGS_EXTRA="$LDFLAGS_EXTRA -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$minor"
      done ;;
  esac
  local start=$SECONDS
  echo "control-plane: building $* ..." >&2
  (cd "$dir" && go build -trimpath -ldflags="-s -w $LDFLAGS_EXTRA" -o "$out/" "$@")
  echo "control-plane: built $name in $((SECONDS - start)) s" >&2
}

# kube-apiserver/kubectl print their version from ldflags; without them they report v0.0.0,
# which breaks tools that parse it (kube-api-test compares versions).
kube_pkg=k8s.io/component-base/version
LDFLAGS_EXTRA="-X $kube_pkg.gitVersion=v$KUBE_VERSION -X $kube_pkg.gitMajor=${KUBE_VERSION%%.*} -X $kube_pkg.gitMinor=$(echo "$KUBE_VERSION" | cut -d. -f2) -X $kube_pkg.gitTreeState=clean"
runs() { [ -x "$out/$1" ] && "$out/$1" "${@:2}" >/dev/null 2>&1; }
runs kube-apiserver --version && runs kubectl version --client \
  || build_wrapper kubernetes k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl
LDFLAGS_EXTRA=""
if ! runs etcd --version; then
  build_wrapper etcd go.etcd.io/etcd/server/v3
  # Go names the binary after the module path's last non-version element ("server"); kube-api-test wants "etcd".
  mv "$out/server" "$out/etcd"
fi
LDFLAGS_EXTRA="-X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION"
runs helm version || build_wrapper helm helm.sh/helm/v3/cmd/helm
echo "control-plane: binaries ready in $out" >&2

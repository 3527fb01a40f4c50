#!/usr/bin/env bash
# Copies the generated CRDs (crds/) into the Helm chart (charts/longlora-operator/crds/), which must stay
# identical to them (ChartCrdsInSyncTest checks). Run after regenerating the CRDs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/charts/longlora-operator/crds"
mkdir -p "$dest"
find "$dest" -maxdepth 1 \( -name '*.yaml' -o -name '*.yml' \) -delete
cp "$root"/crds/*.y*ml "$dest/"
echo "synced $(ls "$dest" | wc -l) CRD file(s) into $dest"

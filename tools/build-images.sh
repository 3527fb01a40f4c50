#!/usr/bin/env bash
# Builds the project's three OCI images offline into tars (no Docker daemon, no registry, no base image pulled):
#
#   operator/target/jib-image.tar               longlora/operator:<version>       (tools/build-operator-image.sh)
#   trainer-image/target/jib-trainer-cpu.tar    longlora/trainer-cpu:<version>
#   trainer-image/target/jib-trainer-cuda.tar   longlora/trainer-cuda:<version>
#
#   tools/build-images.sh [--skip-build] [--only operator|cpu|cuda ...] [--no-run-check]
#
# The trainer images start from Jib's empty `scratch` base plus one directory this script assembles
# (trainer-image/target/image-root-{cpu,cuda}; the Jib configuration is the `image` profile in trainer-image/pom.xml):
#   /opt/java                 Java 25 cut down with jlink to the modules the trainer uses (see TRAINER_MODULES)
#   /lib, /lib64              glibc, libstdc++ and libgcc_s from this machine's Debian packages (DJL's tokenizers
#                             and JCuda's natives are C++)
#   /bin/sh                   this machine's dash, so the launcher can expand $LONGLORA_JAVA_OPTS
#   /opt/longlora             bin/longlora (the entrypoint: bin/longlora without its build step),
#                             longlora-trainer.jar and lib/
#   /etc                      passwd/group with user 1000, nsswitch.conf
#   /tmp                      scratch (the operator mounts an emptyDir there; the root filesystem is read-only)
# and, in the CUDA image only,
#   /opt/nvidia/lib           libcublas.so.13, libcublasLt.so.13 (cuBLAS $CUBLAS_VERSION) and libnccl.so.2
#                             (NCCL $NCCL_VERSION), unpacked from NVIDIA's PyPI wheels, which are downloaded once with
#                             `pip download --no-deps` and cached under $LONGLORA_CACHE/image-wheels; their licenses
#                             go to /opt/nvidia/licenses. libcuda.so.1 is not shipped: the node's driver provides it.
# After each tar is written the script unpacks its layers into a directory and, in a chroot as uid 1000 on a
# read-only root with the operator's mounts, runs `longlora --help`, the pod args with --dry-run, two real training
# steps, and a run stopped by SIGTERM that must save and exit 11 (needs root; skipped otherwise, or --no-run-check).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source tools/env.sh

CUBLAS_VERSION=13.0.2.14 # CUDA 13.0 update 2: the toolkit the kernels are built with, runs on the R580 driver
NCCL_VERSION=2.32.3      # nvidia-nccl-cu13
# jdeps --print-module-deps over the trainer jar and lib/: java.desktop (java.beans) and java.sql come from Jackson
# and DJL, java.compiler from DJL, java.management from DJL and the trainer, jdk.unsupported for sun.misc.Signal
# (SIGTERM: finish the step and save), jdk.incubator.vector for the CPU kernels, java.naming for the Fabric8 client's
# Vert.x/Netty HTTP stack (rank 0's progress annotation).
TRAINER_MODULES=java.base,java.compiler,java.desktop,java.logging,java.management,java.naming,java.sql,jdk.incubator.vector,jdk.unsupported

skip_build=false
run_check=true
only=()
while [ $# -gt 0 ]; do
  case "$1" in
    --skip-build) skip_build=true ;;
    --no-run-check) run_check=false ;;
    --only) only+=("$2"); shift ;;
    *) echo "usage: tools/build-images.sh [--skip-build] [--only operator|cpu|cuda ...] [--no-run-check]" >&2; exit 2 ;;
  esac
  shift
done
[ ${#only[@]} -gt 0 ] || only=(operator cpu cuda)
wants() { local v; for v in "${only[@]}"; do [ "$v" = "$1" ] && return 0; done; return 1; }

target="$root/trainer-image/target"
libdir=/lib/x86_64-linux-gnu
sizes=()

report_size() { # name tar
  local bytes
  bytes=$(stat -c %s "$2")
  sizes+=("$(printf '%-32s %8s MB  %s' "$1" "$((bytes / 1000000))" "${2#"$root/"}")")
}

if wants operator; then
  if [ "$skip_build" = true ]; then bash tools/build-operator-image.sh --skip-build; else bash tools/build-operator-image.sh; fi
  report_size "longlora/operator" "$root/operator/target/jib-image.tar"
fi
wants cpu || wants cuda || { printf '%s\n' "${sizes[@]}"; exit 0; }

# The CUDA image's jar should carry the compiled kernels: nvcc when it can be installed (cached). The image build
# below repackages the kernels module too, so nvcc must be on hand either way.
source tools/setup.d/30-nvcc.sh || true
if [ "$skip_build" = false ]; then
  mvn -B -q -ntp -pl trainer-image -am package -DskipTests
fi
[ -f "$target/longlora-trainer.jar" ] && [ -d "$target/lib" ] || {
  echo "error: $target/longlora-trainer.jar or lib/ is missing: build the trainer first (drop --skip-build)" >&2
  exit 2
}

# --- the root shared by both trainer images
base="$target/image-root-cpu"
rm -rf "$base" "$target/image-root-cuda"
# /etc/longlora and /checkpoints: mount points of the operator's config map and checkpoint claim; /usr/lib*: where the
# NVIDIA container toolkit mounts the driver's libraries.
mkdir -p "$base"/{opt/longlora/bin,lib/x86_64-linux-gnu,lib64,bin,etc/longlora,checkpoints,tmp,usr/lib/x86_64-linux-gnu,usr/lib64}
"$JAVA_HOME/bin/jlink" --add-modules "$TRAINER_MODULES" --strip-debug --no-header-files --no-man-pages \
  --compress zip-6 --output "$base/opt/java"
for lib in ld-linux-x86-64.so.2 libc.so.6 libdl.so.2 libm.so.6 libpthread.so.0 librt.so.1 \
           libnss_files.so.2 libnss_dns.so.2 libresolv.so.2 libstdc++.so.6 libgcc_s.so.1; do
  src=$libdir/$lib
  [ -e "$src" ] || src=/usr/lib/x86_64-linux-gnu/$lib
  [ -e "$src" ] || { echo "error: $lib not found: this script needs a Debian/Ubuntu x86-64 host (libc6, libstdc++6)" >&2; exit 2; }
  cp -L "$src" "$base/lib/x86_64-linux-gnu/$lib"
done
cp -L "$libdir/ld-linux-x86-64.so.2" "$base/lib64/ld-linux-x86-64.so.2"
[ -x /bin/dash ] || { echo "error: /bin/dash not found (apt-get install dash)" >&2; exit 2; }
cp -L /bin/dash "$base/bin/sh"
cp "$target/longlora-trainer.jar" "$base/opt/longlora/"
cp -r "$target/lib" "$base/opt/longlora/lib"
cat > "$base/opt/longlora/bin/longlora" <<'LAUNCHER'
#!/bin/sh
# The trainer images' entrypoint: bin/longlora of the repository, without its build step. Extra JVM flags go in
# $LONGLORA_JAVA_OPTS (split on spaces), e.g. -Xmx or -XX:ActiveProcessorCount.
# shellcheck disable=SC2086
exec /opt/java/bin/java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
  -XX:+UseParallelGC ${LONGLORA_JAVA_OPTS:-} -jar /opt/longlora/longlora-trainer.jar "$@"
LAUNCHER
chmod 755 "$base/opt/longlora/bin/longlora"
cat > "$base/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/sbin/nologin
longlora:x:1000:1000:LongLoRA trainer:/tmp:/sbin/nologin
PASSWD
cat > "$base/etc/group" <<'GROUP'
root:x:0:
longlora:x:1000:
GROUP
echo 'hosts: files dns' > "$base/etc/nsswitch.conf"

# --- the CUDA image: the same plus cuBLAS and NCCL
wheel() { # package version -> path of the cached wheel
  local dir="$LONGLORA_CACHE/image-wheels" name f
  name=$(echo "$1" | tr - _)
  f=$(ls "$dir/$name-$2-"*.whl 2>/dev/null | head -1 || true)
  if [ -z "$f" ]; then
    mkdir -p "$dir"
    echo "Downloading $1==$2 into $dir ..." >&2
    python3 -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
      --platform manylinux_2_27_x86_64 --python-version 3.12 --implementation py "$1==$2" -d "$dir" >&2
    f=$(ls "$dir/$name-$2-"*.whl | head -1)
  fi
  echo "$f"
}
if wants cuda; then
  cuda="$target/image-root-cuda"
  cp -a "$base" "$cuda"
  mkdir -p "$cuda/opt/nvidia/lib" "$cuda/opt/nvidia/licenses"
  tmp=$(mktemp -d)
  cublas=$(wheel nvidia-cublas "$CUBLAS_VERSION")
  nccl=$(wheel nvidia-nccl-cu13 "$NCCL_VERSION")
  unzip -q -o "$cublas" 'nvidia/cu13/lib/libcublas.so.13' 'nvidia/cu13/lib/libcublasLt.so.13' '*/License.txt' -d "$tmp"
  unzip -q -o "$nccl" 'nvidia/nccl/lib/libnccl.so.2' '*/License.txt' -d "$tmp"
  cp "$tmp"/nvidia/cu13/lib/libcublas.so.13 "$tmp"/nvidia/cu13/lib/libcublasLt.so.13 "$tmp"/nvidia/nccl/lib/libnccl.so.2 \
    "$cuda/opt/nvidia/lib/"
  cp "$tmp"/nvidia_cublas-*.dist-info/licenses/License.txt "$cuda/opt/nvidia/licenses/cublas-$CUBLAS_VERSION.txt"
  cp "$tmp"/nvidia_nccl_cu13-*.dist-info/licenses/License.txt "$cuda/opt/nvidia/licenses/nccl-$NCCL_VERSION.txt"
  printf 'cublas=%s\nnccl=%s\n' "$CUBLAS_VERSION" "$NCCL_VERSION" > "$cuda/opt/nvidia/versions.properties"
  rm -rf "$tmp"
fi

# The `image` profile binds both tars to the package phase; -am resolves the sibling modules from the reactor
# (an up-to-date build only repackages).
skip_cpu=true; skip_cuda=true
wants cpu && skip_cpu=false
wants cuda && skip_cuda=false
mvn -B -q -ntp -pl trainer-image -am -Pimage package -DskipTests \
  -Dlonglora.image.skip-cpu=$skip_cpu -Dlonglora.image.skip-cuda=$skip_cuda

# --- does the image run? Unpack the layers (what a runtime would do) and start the trainer as uid 1000.
run_check() { # variant
  local tar="$target/jib-trainer-$1.tar" dir="$target/image-check-$1"
  rm -rf "$dir" && mkdir -p "$dir/rootfs"
  tar -xf "$tar" -C "$dir"
  python3 - "$dir" <<'PY'
import json, sys, tarfile, os
d = sys.argv[1]
manifest = json.load(open(os.path.join(d, "manifest.json")))[0]
for layer in manifest["Layers"]:
    with tarfile.open(os.path.join(d, layer)) as t:
        t.extractall(os.path.join(d, "rootfs"), filter="tar")
config = json.load(open(os.path.join(d, manifest["Config"])))["config"]
with open(os.path.join(d, "env"), "w") as f:
    f.write("\n".join(config.get("Env", [])) + "\n")
with open(os.path.join(d, "entrypoint"), "w") as f:
    f.write("\n".join(config["Entrypoint"]) + "\n")
PY
  local rootfs="$dir/rootfs" ok=true out chroot
  chroot=$(command -v chroot)
  mkdir -p "$rootfs/proc"
  mount -t proc proc "$rootfs/proc" 2>/dev/null || { echo "note: cannot mount /proc; skipping the run check" >&2; return 0; }
  # Read-only root, as the operator runs it: bind the tree onto itself read-only, /tmp a fresh writable tmpfs.
  mount --bind "$rootfs" "$rootfs" && mount -o remount,bind,ro "$rootfs" "$rootfs" 2>/dev/null || true
  mount -t tmpfs -o size=512m,mode=1777 tmpfs "$rootfs/tmp" 2>/dev/null || true
  mount -t proc proc "$rootfs/proc" 2>/dev/null || true
  # The operator's mounts: job.json read-only at /etc/longlora, a writable checkpoint volume at /checkpoints.
  local work="$dir/work"
  mkdir -p "$work/config" "$work/checkpoints"
  cat > "$work/config/job.json" <<'JOB'
{"apiVersion": "longlora.dev/v1alpha1", "job": {"name": "image-check", "namespace": "default"},
 "model": {"path": "builtin:tiny"}, "data": {"path": "builtin:synthetic"},
 "context": {"originalLength": 128, "targetLength": 256}, "attention": {"pattern": "s2", "groups": 4},
 "training": {"maxSteps": 2, "warmupSteps": 0, "gradientAccumulationSteps": 1, "precision": "fp32"},
 "distributed": {"nodes": 1, "gpusPerNode": 0}, "checkpoint": {"everySteps": 1, "keep": 1}}
JOB
  chown -R 1000:1000 "$work/checkpoints"
  mount --bind "$work/config" "$rootfs/etc/longlora" && mount -o remount,bind,ro "$rootfs/etc/longlora" 2>/dev/null || true
  mount --bind "$work/checkpoints" "$rootfs/checkpoints" 2>/dev/null || true
  local envargs=(CHECKPOINT_DIR=/checkpoints RESUME_FROM=latest)
  while IFS= read -r line; do [ -n "$line" ] && envargs+=("$line"); done < "$dir/env"
  local entry
  entry=$(head -1 "$dir/entrypoint")
  local run=(env -i "${envargs[@]}" "$chroot" --userspec=1000:1000 "$rootfs" "$entry")
  if ! out=$(cd / && "${run[@]}" --help 2>&1); then ok=false; fi
  echo "$out" | grep -v '^WARNING: Using incubator' | head -2 | sed "s/^/  [$1 --help] /"
  if [ "$ok" = true ]; then
    if ! out=$(cd / && "${run[@]}" train --config /etc/longlora/job.json --dry-run 2>&1); then ok=false; fi
    echo "$out" | grep -v '^WARNING: Using incubator' | grep -m1 '"worldSize"' | sed "s/^/  [$1 train --dry-run] /"
  fi
  if [ "$ok" = true ]; then
    # The operator's pod args (PodPaths.trainerArgs): two real steps on the CPU backend, a checkpoint after each.
    if ! out=$(cd / && "${run[@]}" train --config /etc/longlora/job.json --progress lines 2>&1); then ok=false; fi
    echo "$out" | grep -v '^WARNING: Using incubator' | tail -3 | sed "s/^/  [$1 train] /"
    if [ "$ok" = true ] && ! ls -d "$work"/checkpoints/step-2 >/dev/null 2>&1; then
      echo "  no checkpoint step-2 written: $(ls "$work/checkpoints")" >&2; ok=false
    fi
  fi
  if [ "$ok" = true ]; then
    # Graceful stop, as on pod deletion: SIGTERM reaches java (the launcher execs it), which finishes the step,
    # saves a checkpoint and exits 11 (Stopped).
    "${run[@]}" train --config /etc/longlora/job.json --set training.maxSteps=1000000 --resume-from none \
      --checkpoint-dir /checkpoints/stop --progress lines > "$work/stop.log" 2>&1 &
    local pid=$! waited=0 rc=0
    until grep -q '^step' "$work/stop.log" 2>/dev/null || [ $waited -ge 120 ] || ! kill -0 $pid 2>/dev/null; do
      sleep 1; waited=$((waited + 1))
    done
    kill -TERM $pid 2>/dev/null || true
    wait $pid || rc=$?
    if [ "$rc" = 11 ] && ls -d "$work"/checkpoints/stop/step-* >/dev/null 2>&1; then
      echo "  [$1 SIGTERM] exit 11 after saving $(cd "$work/checkpoints/stop" && ls -d step-* | grep -v tmp | tail -1)"
    else
      echo "  SIGTERM: exit $rc (want 11 and a checkpoint): $(tail -3 "$work/stop.log")" >&2; ok=false
    fi
  fi
  if [ "$ok" = true ] && [ -d "$rootfs/opt/nvidia/lib" ]; then
    # No GPU here: check that the image's own loader resolves every dependency of cuBLAS and NCCL inside the image
    # (libcuda.so.1, which cuBLAS opens at run time, comes from the node's driver).
    local lib
    for lib in "$rootfs"/opt/nvidia/lib/*.so*; do
      if ! out=$(env -i "${envargs[@]}" "$chroot" --userspec=1000:1000 "$rootfs" /lib64/ld-linux-x86-64.so.2 \
          --list "/opt/nvidia/lib/${lib##*/}" 2>&1) || echo "$out" | grep -q 'not found'; then
        echo "  ${lib##*/}: $out" >&2; ok=false
      fi
    done
    [ "$ok" = true ] && echo "  [$1 ld.so --list] $(cd "$rootfs/opt/nvidia/lib" && echo *): all dependencies resolve"
  fi
  umount "$rootfs/etc/longlora" 2>/dev/null || true
  umount "$rootfs/checkpoints" 2>/dev/null || true
  if touch "$rootfs/opt/probe" 2>/dev/null; then rm -f "$rootfs/opt/probe"; ro=no; else ro=yes; fi
  umount "$rootfs/proc" 2>/dev/null || true
  umount "$rootfs/tmp" 2>/dev/null || true
  umount "$rootfs" 2>/dev/null || true
  umount "$rootfs/proc" 2>/dev/null || true
  [ "$ok" = true ] || { echo "error: the $1 image does not start the trainer (unpacked in $dir)" >&2; exit 2; }
  echo "run check ($1): the trainer starts in the unpacked image as uid 1000, read-only root: $ro;" \
    "unpacked size $(du -sm --exclude=proc "$rootfs" | cut -f1) MB"
  rm -rf "$dir"
}

for v in cpu cuda; do
  wants "$v" || continue
  report_size "longlora/trainer-$v" "$target/jib-trainer-$v.tar"
  if [ "$run_check" = true ] && [ "$(id -u)" = 0 ] && command -v chroot >/dev/null; then run_check "$v"; fi
done
# TrainerImageTest's checks of the tars' contents (tag "image": left out of the default build, which builds no image).
tests=()
wants cpu && tests+=("TrainerImageTest#cpu*")
wants cuda && tests+=("TrainerImageTest#cuda*")
if [ ${#tests[@]} -gt 0 ]; then
  (IFS=,; mvn -B -q -ntp -pl trainer-image -am test -Dlonglora.test.excludedGroups= -Dgroups=image \
    -Dtest="${tests[*]}" -Dsurefire.failIfNoSpecifiedTests=false) || { echo "error: an image check failed" >&2; exit 2; }
  echo "image checks passed: ${tests[*]}"
fi
echo "images (size of the tar, whose layers are gzip-compressed: about what a registry stores and a node pulls):"
printf '  %s\n' "${sizes[@]}"

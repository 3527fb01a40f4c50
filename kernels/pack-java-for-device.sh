#!/usr/bin/env bash
# Packs what the Java side needs on the lent GPU machine (which has no Java) into .device-java/ at the repository
# root, for the device tool's `carry`: a jlink'ed Java 25 runtime (java.base, java.logging, jdk.incubator.vector,
# native symbols stripped), the trainer jar and its libraries with JCuda's natives cut down to the driver-API
# library and DJL's tokenizer natives left out, the benchmarks jar (trainer-bench), the trainer's test classes and
# the JUnit console launcher. About 52 MB without cubins, under the 64 MiB carry limit (69 MB with DJL's natives).
# kernels/device-check.sh then also runs the CUDA backend tests and the whole-step benchmark.
#
# Usage (here, before the device run): bash kernels/pack-java-for-device.sh      then carry [".device-java"]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source tools/env.sh
for step in tools/setup.d/30-nvcc.sh; do source "$step"; done
mvn -B -q -ntp -pl kernels,contract,trainer-image,trainer-bench -DskipTests package

out=$root/.device-java
rm -rf "$out"
mkdir -p "$out/lib"
jlink --add-modules java.base,java.logging,jdk.incubator.vector --strip-java-debug-attributes \
  --strip-native-debug-symbols=objcopy="$(command -v objcopy)" --no-man-pages --no-header-files --compress=zip-9 \
  --output "$out/jre" 2>&1 | grep -v 'incubator' || true
strip --strip-unneeded "$out/jre/lib/server/libjvm.so" 2>/dev/null || true

cp trainer-image/target/longlora-trainer.jar trainer-bench/target/longlora-trainer-bench.jar "$out/"
for jar in trainer-image/target/lib/*.jar; do
  case $(basename "$jar") in
    jcuda-natives-*) ;;  # replaced below by the driver-API library alone
    tokenizers-*) ;;     # DJL's tokenizer natives for every platform (18 MB): the device check tokenizes no text
    # the Fabric8 client of the progress annotation and what it pulls in (about 20 MB): the device check runs in
    # no pod (no POD_NAME), so the trainer never loads it there
    kubernetes-* | vertx-* | netty-* | zjsonpatch-* | snakeyaml-* | jackson-dataformat-yaml-* | jackson-datatype-jsr310-*) ;;
    *) cp "$jar" "$out/lib/" ;;
  esac
done
natives=$(ls "$root"/trainer-image/target/lib/jcuda-natives-*-linux-x86_64.jar)
tmp=$(mktemp -d)
(cd "$tmp" && unzip -q "$natives" 'lib/libJCudaDriver-*' && zip -q -r "$out/lib/$(basename "$natives")" lib)
rm -rf "$tmp"
cp -r trainer-image/target/test-classes "$out/test-classes"
console=$HOME/.m2/repository/org/junit/platform/junit-platform-console-standalone/6.0.3/junit-platform-console-standalone-6.0.3.jar
[ -f "$console" ] || mvn -q -B org.apache.maven.plugins:maven-dependency-plugin:3.8.1:get \
  -Dartifact=org.junit.platform:junit-platform-console-standalone:6.0.3
cp "$console" "$out/junit-console.jar"
size=$(du -sb "$out" | cut -f1)
if (( size >= 64 * 1024 * 1024 )); then
  echo "packed $size bytes into $out: over the device tool's 64 MiB carry limit; leave more out above" >&2
  exit 1
fi
echo "packed $(du -sh "$out" | cut -f1) into $out: carry [\".device-java\"] and run bash kernels/device-check.sh"

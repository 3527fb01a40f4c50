#!/usr/bin/env bash
# Builds the operator's OCI image into operator/target/jib-image.tar, offline: no Docker daemon, no registry.
#
#   tools/build-operator-image.sh [--skip-build] [extra maven args]
#
# No base image is pulled. The image is Jib's empty `scratch` base plus one extra directory
# (operator/target/image-root) that this script assembles:
#   /opt/java       a Java 25 runtime cut down with jlink to the modules the operator uses
#   /lib, /lib64    the glibc shared objects that runtime links against, copied from this machine's
#                   Debian libc6 package (so the image's glibc is the build machine's)
#   /etc            passwd/group with the non-root user 1000, nsswitch.conf for DNS lookups
#   /tmp            writable scratch (the chart also mounts an emptyDir there)
# and the Quarkus application (operator/target/quarkus-app) at /deployments, started with
# `java -jar /deployments/quarkus-run.jar`. The Jib configuration is the `image` profile in operator/pom.xml.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source tools/env.sh

skip_build=false
if [ "${1:-}" = "--skip-build" ]; then skip_build=true; shift; fi

target="$root/operator/target"
image_root="$target/image-root"
# Modules found by `jdeps --print-module-deps` over the application's jars (jdk.compiler left out: only
# annotation processors use it), plus java.net.http, jdk.management (metrics) and jdk.zipfs (Quarkus reads
# configuration from jars through the zip file system).
modules=java.base,java.desktop,java.logging,java.management,java.naming,java.net.http,java.rmi,java.sql,java.xml,jdk.management,jdk.unsupported,jdk.zipfs

if [ "$skip_build" = false ]; then
  mvn -B -q -ntp -pl operator -am package -DskipTests "$@"
fi
[ -f "$target/quarkus-app/quarkus-run.jar" ] || {
  echo "error: $target/quarkus-app/quarkus-run.jar is missing: build the operator first (drop --skip-build)" >&2
  exit 2
}

rm -rf "$image_root"
mkdir -p "$image_root"/{opt,lib/x86_64-linux-gnu,lib64,etc,tmp}
"$JAVA_HOME/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages \
  --compress zip-6 --output "$image_root/opt/java"

# glibc: the loader at the path the java launcher names as its interpreter, and the libraries it needs.
libdir=/lib/x86_64-linux-gnu
for lib in ld-linux-x86-64.so.2 libc.so.6 libdl.so.2 libm.so.6 libpthread.so.0 librt.so.1 \
           libnss_files.so.2 libnss_dns.so.2 libresolv.so.2; do
  [ -e "$libdir/$lib" ] || { echo "error: $libdir/$lib not found: this script needs a Debian/Ubuntu x86-64 host with libc6" >&2; exit 2; }
  cp -L "$libdir/$lib" "$image_root/lib/x86_64-linux-gnu/$lib"
done
cp -L "$libdir/ld-linux-x86-64.so.2" "$image_root/lib64/ld-linux-x86-64.so.2"

cat > "$image_root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
operator:x:1000:1000:LongLoRA operator:/tmp:/sbin/nologin
EOF
cat > "$image_root/etc/group" <<'EOF'
root:x:0:
operator:x:1000:
EOF
echo 'hosts: files dns' > "$image_root/etc/nsswitch.conf"

# The runtime must start inside the assembled root (with /proc, as in a container: the launcher finds its
# libraries through /proc/self/exe) before it goes into an image. Needs root for chroot and mount.
if [ "$(id -u)" = 0 ] && command -v chroot >/dev/null; then
  mkdir -p "$image_root/proc"
  if mount -t proc proc "$image_root/proc" 2>/dev/null; then
    ok=true
    chroot "$image_root" /opt/java/bin/java -version >/dev/null 2>&1 || ok=false
    umount "$image_root/proc"
    [ "$ok" = true ] || { echo "error: the jlinked runtime does not start inside $image_root (chroot)" >&2; exit 2; }
  else
    echo "note: cannot mount /proc here; skipping the chroot start check" >&2
  fi
  rmdir "$image_root/proc"
fi

# The `image` profile binds jib:buildTar to the package phase; -am resolves the contract module from the reactor
# (already built: only repackaged).
mvn -B -q -ntp -pl operator -am -Pimage package -DskipTests "$@"
echo "image: $target/jib-image.tar ($(du -h "$target/jib-image.tar" | cut -f1))"

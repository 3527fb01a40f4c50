# Sourced by bin/test, bin/longlora and .ci/run: puts Java 25 and Maven 3.9 on PATH.
# Everything fetched is cached under $LONGLORA_CACHE (default ~/.cache/longlora), keyed by version,
# so a warm run never downloads or rebuilds anything.

LONGLORA_CACHE=${LONGLORA_CACHE:-$HOME/.cache/longlora}
MAVEN_VERSION=3.9.16
export LONGLORA_CACHE

# Java 25: the project's release level. The machine's default java may be older.
if [ -z "${JAVA_HOME:-}" ] || ! "$JAVA_HOME/bin/java" -version 2>&1 | grep -q 'version "25'; then
  for candidate in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-25* /usr/lib/jvm/*-25*; do
    if [ -x "$candidate/bin/javac" ]; then JAVA_HOME=$candidate; break; fi
  done
fi
if [ -z "${JAVA_HOME:-}" ] || ! "$JAVA_HOME/bin/java" -version 2>&1 | grep -q 'version "25'; then
  echo "error: no Java 25 JDK found under /usr/lib/jvm; install Temurin 25 or set JAVA_HOME to a Java 25 JDK" >&2
  return 2 2>/dev/null || exit 2
fi
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"

# Maven 3.9 (Quarkus needs it; Debian ships 3.8). Bootstrapped through whatever Maven is present,
# which fetches the distribution from the configured Maven repository.
maven_home="$LONGLORA_CACHE/maven/apache-maven-$MAVEN_VERSION"
if [ ! -x "$maven_home/bin/mvn" ]; then
  if ! command -v mvn >/dev/null 2>&1; then
    echo "Installing a bootstrap Maven from Debian's packages..." >&2
    apt-get install -y -qq maven >/dev/null || { echo "error: no mvn to bootstrap Maven $MAVEN_VERSION" >&2; return 2 2>/dev/null || exit 2; }
  fi
  echo "Fetching Maven $MAVEN_VERSION into $LONGLORA_CACHE/maven ..." >&2
  mkdir -p "$LONGLORA_CACHE/maven"
  tmp=$(mktemp -d)
  (cd "$tmp" && mvn -q -B org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
      -Dartifact=org.apache.maven:apache-maven:$MAVEN_VERSION:tar.gz:bin -DoutputDirectory="$tmp" >&2) \
    && tar -xzf "$tmp/apache-maven-$MAVEN_VERSION-bin.tar.gz" -C "$LONGLORA_CACHE/maven"
  rm -rf "$tmp"
  [ -x "$maven_home/bin/mvn" ] || { echo "error: could not install Maven $MAVEN_VERSION" >&2; return 2 2>/dev/null || exit 2; }
fi
export MAVEN_HOME="$maven_home"
export PATH="$maven_home/bin:$PATH"
export MAVEN_OPTS="${MAVEN_OPTS:-} --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow"

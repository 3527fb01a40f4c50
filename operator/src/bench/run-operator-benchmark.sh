#!/usr/bin/env bash
# Runs the operator benchmark (dev.longlora.operator.bench.OperatorBenchmark): a real kube-apiserver + etcd,
# the packaged operator as its own process, N LongLoRAJobs; prints latency percentiles, reconciles/s,
# operator CPU and peak RSS, and the API-server-alone floor. Not part of the test suite.
#
#   operator/src/bench/run-operator-benchmark.sh [--jobs 200] [--nodes 2] [--template FILE]
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$root"
source tools/env.sh
set +u
source tools/setup.d/10-control-plane.sh
set -u
[ -n "${LONGLORA_KUBE_BIN_DIR:-}" ] || { echo "error: no control-plane binaries (see tools/setup.d/10-control-plane.sh)" >&2; exit 2; }

mvn -B -q -ntp -pl operator package -DskipTests
cp_file=operator/target/bench-classpath.txt
mvn -B -q -ntp -pl operator dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$root/$cp_file"
exec java -Djava.util.logging.manager=org.jboss.logmanager.LogManager -cp "operator/target/test-classes:operator/target/classes:$(cat "$cp_file")" \
  dev.longlora.operator.bench.OperatorBenchmark "$@"

#!/usr/bin/env bash
# Measures the test cluster with its real node: time from `cluster.sh up` to
# a usable cluster (fresh start, 3 times) and `down`; a 2-replica Deployment
# of the app image becoming Available and a Service selector change reaching
# the first answer through the ClusterIP (Go benchmarks); the alert loop's
# first bad answer to traffic answered by blue (3 runs of the end-to-end
# test, which logs it); and the resident memory of every component.
# Usage: REMLA_TEST_MODEL=... test/cluster/bench.sh [DIR]   (default .run/cluster-bench; stopped at the end)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dir=$(realpath -m -- "${1:-$root/.run/cluster-bench}")
: "${REMLA_TEST_MODEL:?set REMLA_TEST_MODEL to a trained model (make bench-cluster does)}"
trap '"$here/cluster.sh" down "$dir" >/dev/null 2>&1 || true' EXIT
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p')"
for i in 1 2 3; do
  start=$(date +%s.%N)
  "$here/cluster.sh" down "$dir" >/dev/null 2>&1
  echo "  cluster.sh down, wall: $(echo "$(date +%s.%N) - $start" | bc | cut -c1-4)s"
  start=$(date +%s.%N)
  "$here/cluster.sh" up "$dir" 2>&1 | grep 'usable in' | sed 's/^\[cluster\] //; s/: https.*//'
  echo "  cluster.sh up, wall: $(echo "$(date +%s.%N) - $start" | bc | cut -c1-4)s"
done
cd "$root"
export REMLA_TEST_KUBECONFIG=$dir/kubeconfig CI=true
REMLA_TEST_PROMETHEUS=$("$here/build.sh" --bin-dir)/prometheus
export REMLA_TEST_PROMETHEUS
go test -count=1 -run '^$' -bench . -benchtime 20x ./test/clustertest | grep '^Benchmark'
go test -count=3 -run 'TestAlertLoopRollsBack$' -v ./test/e2e | grep -o 'ALERT LOOP: .*' || true
pids=$(sed -n 's/.*"pid": \([0-9]*\).*/\1/p' "$dir/state.json" | paste -sd,)
ps -o rss=,comm= -p "$pids" | awk '{s += $1; printf "  %-24s %4d MiB RSS\n", $2, $1 / 1024} END {printf "  %-24s %4d MiB RSS\n", "all", s / 1024}'

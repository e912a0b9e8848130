#!/usr/bin/env bash
# Measures the test cluster: time from `cluster.sh up` to a usable cluster
# (fresh start, 3 times), a 2-replica Deployment becoming Available and a
# Service selector change reaching its EndpointSlices (Go benchmarks), and the
# resident memory of every component afterwards.
# Usage: test/cluster/bench.sh [DIR]   (default .run/cluster-bench; stopped at the end)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dir=$(realpath -m -- "${1:-$root/.run/cluster-bench}")
trap '"$here/cluster.sh" down "$dir" >/dev/null 2>&1 || true' EXIT
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p')"
for i in 1 2 3; do
  "$here/cluster.sh" down "$dir" >/dev/null 2>&1
  start=$(date +%s.%N)
  "$here/cluster.sh" up "$dir" 2>&1 | grep 'usable in' | sed 's/^\[cluster\] //; s/: https.*//'
  echo "  cluster.sh up, wall: $(echo "$(date +%s.%N) - $start" | bc | cut -c1-4)s"
done
cd "$root"
REMLA_TEST_KUBECONFIG=$dir/kubeconfig go test -count=1 -run '^$' -bench . -benchtime 20x ./test/clustertest | grep '^Benchmark'
pids=$(sed -n 's/.*"pid": \([0-9]*\).*/\1/p' "$dir/state.json" | paste -sd,)
ps -o rss=,comm= -p "$pids" | awk '{s += $1; printf "  %-24s %4d MiB RSS\n", $2, $1 / 1024} END {printf "  %-24s %4d MiB RSS\n", "all", s / 1024}'

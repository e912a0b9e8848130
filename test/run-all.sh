#!/usr/bin/env bash
# The whole test suite, as `make test` and CI run it:
#   1. install missing Debian packages (prometheus, alertmanager, chromium,
#      openssl, umoci, and the real node's containerd, runc, CNI plugins, iptables)
#   2. build the three binaries and train a model for the tests that need a real one
#   3. build (once, cached) the test cluster; run the harness's own tests, which
#      start and stop clusters of their own, the machine's real node among them
#   4. start the test cluster with its real node
#   5. go test ./... (unit, browser, promtool, deployer and alert loop on real pods)
#   6. stop the cluster (also on failure) and check that its node left nothing
# `test/run-all.sh e2e` runs only the end-to-end packages.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
mode=${1:-all}
run_dir=$root/.run
mkdir -p "$run_dir"
stamp() { printf '[test %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

stamp "dependencies"
test/deps.sh

stamp "build binaries"
make --no-print-directory build >/dev/null
export REMLA_TEST_BIN_DIR=$root/bin

stamp "the model the tests use (test/test-model.sh: cached by its inputs' hash)"
model_dir=$(test/test-model.sh | tail -n 1)
export REMLA_TEST_MODEL=$model_dir/latest.model

stamp "test cluster"
cluster_bin=$(test/cluster/build.sh | tail -n 1)
# Debian's Prometheus has no Kubernetes service discovery; build.sh builds one.
export REMLA_TEST_PROMETHEUS=$cluster_bin/prometheus
cluster_dir=$run_dir/cluster
test/cluster/cluster.sh down "$cluster_dir" >/dev/null 2>&1 || true

# Before the suite's cluster starts: the harness's tests start a real node of
# their own, and a machine has room for one.
stamp "cluster harness tests"
(cd test/cluster && go test -count=1 -timeout 10m ./...)

stop_cluster() {
  stamp "stop test cluster"
  test/cluster/cluster.sh down "$cluster_dir" || return 1
  test/cluster/cluster.sh check "$cluster_dir"
}
trap 'stop_cluster || true' EXIT
test/cluster/cluster.sh up "$cluster_dir"
export REMLA_TEST_KUBECONFIG=$cluster_dir/kubeconfig

# The cluster tests mostly wait (on pods, probes, bake windows), each in its own
# namespace, so they run side by side: -parallel lets a package run that many of
# its tests at once (the default is GOMAXPROCS), -p that many packages.
# The slowest packages come first, so they start first.
par=(-p 4 -parallel 8)
slow=(./deployer ./test/e2e ./cmd/remlactl ./deployer/alert)
if [ "$mode" = e2e ]; then
  stamp "go test (end to end)"
  go test -count=1 -timeout 30m "${par[@]}" "${slow[@]}" ./test/... ./deployer/... ./cmd/remlactl/...
else
  stamp "go test ./..."
  go test -count=1 -timeout 45m "${par[@]}" "${slow[@]}" ./...
fi
trap - EXIT
stop_cluster
stamp "done"

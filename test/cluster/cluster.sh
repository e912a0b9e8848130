#!/usr/bin/env bash
# Starts and stops the loopback Kubernetes cluster of the end-to-end tests
# (see docs/testing.md).
#   test/cluster/cluster.sh up DIR      build the binaries once (cached), start the
#                                       cluster, or reuse the healthy one in DIR;
#                                       kubeconfig in DIR/kubeconfig
#   test/cluster/cluster.sh down DIR    stop exactly the processes `up` started
#   test/cluster/cluster.sh status DIR  exit 0 when the cluster in DIR is healthy
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
dir=$(realpath -m -- "$2")
case $cmd in
  up)
    mkdir -p "$dir"
    bin=$("$here/build.sh" | tail -n 1)
    set -- up -bin "$bin" "$dir" ;;
  down | status) set -- "$cmd" "$dir" ;;
  *) usage ;;
esac
cd "$here"
# go run caches the linked command, so this costs a compile only the first time.
exec go run ./cmd/remla-cluster "$@"

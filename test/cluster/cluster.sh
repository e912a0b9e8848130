#!/usr/bin/env bash
# Starts and stops the Kubernetes cluster of the end-to-end tests
# (see docs/testing.md).
#   test/cluster/cluster.sh up [--kwok] DIR  build the binaries once (cached), start the
#                                       cluster with the machine's real node (kwok's
#                                       fake node with --kwok), or reuse the healthy
#                                       one in DIR; kubeconfig in DIR/kubeconfig
#   test/cluster/cluster.sh down DIR    stop exactly the processes `up` started and
#                                       remove what the real node left
#   test/cluster/cluster.sh status DIR  exit 0 when the cluster in DIR is healthy
#   test/cluster/cluster.sh check DIR   exit 0 when the real node of DIR left nothing
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
cmd=${1:-}
kwok=
if [ "$cmd" = up ] && [ "${2:-}" = --kwok ]; then kwok=-kwok; shift; fi
[ $# -eq 2 ] || usage
dir=$(realpath -m -- "$2")
case $cmd in
  up)
    mkdir -p "$dir"
    bin=$("$here/build.sh" ${kwok:+--kwok} | tail -n 1)
    set -- up -bin "$bin" $kwok "$dir" ;;
  down | status | check) set -- "$cmd" "$dir" ;;
  *) usage ;;
esac
cd "$here"
# go run caches the linked command, so this costs a compile only the first time.
exec go run ./cmd/remla-cluster "$@"

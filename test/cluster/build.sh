#!/usr/bin/env bash
# Builds the test control plane (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kwok) once into a cache outside the repository and reuses it.
# Usage: test/cluster/build.sh   -> prints the bin directory on the last line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
K8S_VERSION=v1.37.2
ETCD_VERSION=v3.7.0
KWOK_VERSION=v0.8.0
cache=${REMLA_CLUSTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/remla/cluster/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION}
bin=$cache/bin
mkdir -p "$bin"
log() { printf '[cluster-build] %s\n' "$*" >&2; }

minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
ver_flags=""
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ver_flags+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
done

build_one() { # name, dir, package, extra ldflags
  local name=$1 dir=$2 pkg=$3 extra=${4:-}
  if [ -x "$bin/$name" ]; then log "$name: cached at $bin/$name"; return; fi
  log "$name: building (this is slow the first time)"
  local start=$SECONDS
  (cd "$dir" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $extra" -o "$bin/$name.tmp" "$pkg")
  mv "$bin/$name.tmp" "$bin/$name"
  log "$name: built in $((SECONDS - start))s"
}

build_one etcd "$here/tools/etcd" go.etcd.io/etcd/server/v3
build_one kube-apiserver "$here/tools/kube" k8s.io/kubernetes/cmd/kube-apiserver "$ver_flags"
build_one kube-controller-manager "$here/tools/kube" k8s.io/kubernetes/cmd/kube-controller-manager "$ver_flags"
build_one kube-scheduler "$here/tools/kube" k8s.io/kubernetes/cmd/kube-scheduler "$ver_flags"
if [ ! -x "$bin/kwok" ]; then
  log "kwok: building"
  start=$SECONDS
  tmp=$(mktemp -d)
  GOBIN=$tmp CGO_ENABLED=0 GOFLAGS= go install -trimpath -ldflags "-s -w" sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION
  mv "$tmp/kwok" "$bin/kwok"; rmdir "$tmp"
  log "kwok: built in $((SECONDS - start))s"
fi
echo "$bin"

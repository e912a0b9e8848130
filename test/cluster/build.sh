#!/usr/bin/env bash
# Builds the test cluster (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kubelet, kube-proxy, and the real node's sandbox image
# pause.tar) and the alert loop's Prometheus (with the Kubernetes service
# discovery, which Debian's package lacks) once into a cache outside the
# repository and reuses it. kwok, the fake node of `cluster.sh up --kwok`, is
# built only when asked for: no test of the project needs it.
# Usage: test/cluster/build.sh [--kwok]            build what is missing; prints the bin directory on the last line
#        test/cluster/build.sh --bin-dir [--kwok]  print the bin directory; exit 1 (building nothing) if a binary is missing
# A binary appears under its final name only once completely written, and a lock
# in the cache makes a second build wait for the first instead of building twice.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
K8S_VERSION=v1.37.2
ETCD_VERSION=v3.7.0
KWOK_VERSION=v0.8.0
cache=${REMLA_CLUSTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/remla/cluster/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION}
bin=$cache/bin
bin_dir_only= with_kwok=
for a in "$@"; do
  case $a in
    --bin-dir) bin_dir_only=1 ;;
    --kwok) with_kwok=1 ;;
    *) sed -n '8,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
done
names="etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy pause prometheus${with_kwok:+ kwok}"
log() { printf '[cluster-build] %s\n' "$*" >&2; }
complete() { for n in $names; do [ -x "$bin/$n" ] || return 1; done; [ -f "$bin/pause.tar" ]; }

if [ -n "$bin_dir_only" ]; then
  echo "$bin"
  complete
  exit
fi
mkdir -p "$bin"
exec 9>"$cache/build.lock"
if ! flock -n 9; then
  log "another build is running (lock $cache/build.lock): waiting for it"
  flock 9
fi

minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
ver_flags=""
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ver_flags+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
done

build_one() { # name, dir, package, extra ldflags, build tags
  local name=$1 dir=$2 pkg=$3 extra=${4:-} tags=${5:-}
  if [ -x "$bin/$name" ]; then log "$name: cached at $bin/$name"; return; fi
  log "$name: building (this is slow the first time)"
  local start=$SECONDS
  (cd "$dir" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -tags "$tags" -ldflags "-s -w $extra" -o "$bin/$name.tmp" "$pkg")
  mv "$bin/$name.tmp" "$bin/$name"
  log "$name: built in $((SECONDS - start))s"
}

build_one etcd "$here/tools/etcd" go.etcd.io/etcd/server/v3
build_one kube-apiserver "$here/tools/kube" k8s.io/kubernetes/cmd/kube-apiserver "$ver_flags"
build_one kube-controller-manager "$here/tools/kube" k8s.io/kubernetes/cmd/kube-controller-manager "$ver_flags"
build_one kube-scheduler "$here/tools/kube" k8s.io/kubernetes/cmd/kube-scheduler "$ver_flags"
build_one kubelet "$here/tools/kube" k8s.io/kubernetes/cmd/kubelet "$ver_flags"
build_one kube-proxy "$here/tools/kube" k8s.io/kubernetes/cmd/kube-proxy "$ver_flags"
if [ -n "$with_kwok" ] && [ ! -x "$bin/kwok" ]; then
  log "kwok: building"
  start=$SECONDS
  tmp=$(mktemp -d "$cache/kwok-build.XXXXXX") # same file system, so the mv below is atomic
  GOBIN=$tmp CGO_ENABLED=0 GOFLAGS= go install -trimpath -ldflags "-s -w" sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION
  mv "$tmp/kwok" "$bin/kwok"; rmdir "$tmp"
  log "kwok: built in $((SECONDS - start))s"
fi
build_one pause "$here" ./pause
build_one prometheus "$here/tools/prometheus" github.com/prometheus/prometheus/cmd/prometheus "" remove_all_sd,enable_kubernetes_sd
if [ ! -f "$bin/pause.tar" ]; then
  # The sandbox image of the real node: the static pause binary alone, as an
  # OCI archive that `ctr images import` reads (no registry needed).
  command -v umoci >/dev/null || { log "umoci is missing: run test/deps.sh (apt-get install umoci)"; exit 1; }
  tmp=$(mktemp -d "$cache/pause-image.XXXXXX")
  umoci init --layout "$tmp/oci"
  umoci new --image "$tmp/oci:1"
  umoci unpack --image "$tmp/oci:1" "$tmp/bundle" >/dev/null
  cp "$bin/pause" "$tmp/bundle/rootfs/pause"
  umoci repack --image "$tmp/oci:1" "$tmp/bundle"
  umoci config --image "$tmp/oci:1" --os linux --architecture amd64 --config.user 65535:65535 --config.entrypoint /pause
  umoci gc --layout "$tmp/oci"
  tar -C "$tmp/oci" -cf "$bin/pause.tar.tmp" .
  mv "$bin/pause.tar.tmp" "$bin/pause.tar"
  rm -rf "$tmp"
  log "pause.tar: built"
fi
echo "$bin"

#!/usr/bin/env bash
# Installs the Debian packages the tests need, only when they are missing.
# Safe to run again: it does nothing once everything is there.
set -euo pipefail
need=()
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v prometheus-alertmanager >/dev/null 2>&1 || need+=(prometheus-alertmanager)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v umoci >/dev/null 2>&1 || need+=(umoci)
# The test cluster's real node: Debian's containerd 1.6 and runc, the CNI
# plugins, iptables (nf_tables) and conntrack for kube-proxy, and nft to remove
# the empty nftables tables iptables-nft leaves.
[ -x /usr/bin/containerd ] || need+=(containerd)
command -v runc >/dev/null 2>&1 || [ -x /usr/sbin/runc ] || need+=(runc)
[ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
[ -x /usr/sbin/iptables ] || need+=(iptables)
[ -x /usr/sbin/conntrack ] || need+=(conntrack)
[ -x /usr/sbin/nft ] || need+=(nftables)
# PostgreSQL server programs for the feedback store's tests and bench-store.sh,
# which initdb their own throwaway servers (the package's own cluster is not used).
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql-15)
if [ "${REMLA_DEPS_BENCH:-}" = 1 ]; then
  command -v wrk >/dev/null 2>&1 || need+=(wrk)
fi
if [ "${REMLA_DEPS_PARITY:-}" = 1 ]; then
  /usr/bin/python3 -c 'import sklearn' >/dev/null 2>&1 || need+=(python3-sklearn)
fi
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "missing Debian packages: ${need[*]}; run: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "[deps] installing ${need[*]}" >&2
if [[ " ${need[*]} " == *" postgresql-15 "* ]]; then
  # The tests start their own servers; do not let the package create and
  # start a system cluster on port 5432.
  mkdir -p /etc/postgresql-common/createcluster.d
  echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/remla-no-main-cluster.conf
fi
apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null

package controlplane

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// RealNodeName is the name the kubelet registers the real node under.
const RealNodeName = "remla-node"

// clusterDNS is the pods' nameserver address: in the Service range, with no
// Service behind it.
const clusterDNS = "198.19.0.10"

// kubeletConfig is the KubeletConfiguration of the real node. What this host
// needs: the cgroup v1 hybrid layout (failCgroupV1: false, cgroupfs), a
// cgroup root of its own, every directory in the node directory, no port of
// the defaults (10250, 10248, 10255), image garbage collection and disk
// eviction off so imported images stay, and no host DNS in the pods.
func kubeletConfig(n *NodeState, caFile string) string {
	return fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: %s
containerRuntimeEndpoint: unix://%s
address: %s
port: %d
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: %d
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: false
  x509:
    clientCAFile: %s
authorization:
  mode: AlwaysAllow
podLogsDir: %s
volumePluginDir: %s
staticPodPath: ""
failSwapOn: false
resolvConf: ""
# No DNS server runs; an address in the Service range, where nothing
# answers, spares every pod a MissingClusterDNS event.
clusterDNS: [%s]
clusterDomain: cluster.local
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%%
  nodefs.inodesFree: 1%%
  imagefs.available: 1%%
serializeImagePulls: false
maxPods: 250
shutdownGracePeriod: 0s
`, CgroupRoot, n.ContainerdSocket, NodeIP, n.KubeletPort, n.KubeletHealthzPort, caFile,
		n.dir("pod-logs"), n.dir("kubelet/volume-plugins"), clusterDNS)
}

func kubeletArgs(n *NodeState) []string {
	return []string{
		"--config=" + n.dir("kubelet.yaml"),
		"--kubeconfig=" + n.dir("kubelet.kubeconfig"),
		"--root-dir=" + n.dir("kubelet"),
		"--cert-dir=" + n.dir("kubelet/pki"), // defaults to /var/lib/kubelet/pki, whatever --root-dir says
		"--hostname-override=" + RealNodeName,
		"--node-ip=" + NodeIP,
		"--node-labels=remla.test/node=real",
		"--v=1",
	}
}

// kubeProxyConfig is kube-proxy in iptables mode. It writes no sysctl of its
// own (conntrack sizes and timeouts 0, localhost NodePorts off), and syncs
// within 50 ms of a change (minSyncPeriod; 0 would be defaulted to 1 s), so a
// selector switch reaches the rules in milliseconds.
func kubeProxyConfig(n *NodeState) string {
	return fmt.Sprintf(`apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection:
  kubeconfig: %s
  qps: 50
  burst: 100
hostnameOverride: %s
bindAddress: %s
healthzBindAddress: 127.0.0.1:%d
metricsBindAddress: 127.0.0.1:%d
clusterCIDR: %s
detectLocalMode: ClusterCIDR
nodePortAddresses: ["%s/32"]
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
iptables:
  minSyncPeriod: 50ms
  syncPeriod: 30s
  localhostNodePorts: false
`, n.dir("kube-proxy.kubeconfig"), RealNodeName, NodeIP, n.ProxyHealthzPort, n.ProxyMetricsPort, PodCIDR, NodeIP)
}

func kubeProxyArgs(n *NodeState) []string {
	return []string{"--config=" + n.dir("kube-proxy.yaml"), "--v=1"}
}

// httpGet returns the start of the body of a 200 answer to GET url.
func httpGet(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return body, fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	return body, nil
}

func localURL(port int, path string) string {
	return "http://127.0.0.1:" + strconv.Itoa(port) + path
}

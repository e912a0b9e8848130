package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The real node is machine-global: one bridge, one set of iptables chains,
// one cgroup root. So only one cluster on the machine may run it. Its claim
// is a file in /run naming the cluster's directory, written under a lock
// before anything is changed and removed by down once everything is back.
const (
	machineLock  = "/run/remla-node.lock"
	machineClaim = "/run/remla-node.json"
)

// Component names of the real node, in start order after the control plane.
const (
	Containerd = "containerd"
	Kubelet    = "kubelet"
	KubeProxy  = "kube-proxy"
)

// RealNodeComponents replace Kwok when Options.RealNode is set.
var RealNodeComponents = []string{Containerd, Kubelet, KubeProxy}

// nodeDirName is the real node's directory inside the cluster's run
// directory: containerd's root and state, the kubelet's root, pod logs, the
// CNI and registry configuration, and node.json.
const nodeDirName = "node"

// NodeState is what a run directory records about its real node: enough to
// take everything down again, and to check afterwards that nothing is left.
type NodeState struct {
	// Owner is the cluster's run directory.
	Owner string `json:"owner"`
	// Dir is the node directory.
	Dir              string `json:"dir"`
	ContainerdSocket string `json:"containerdSocket"`
	KubeletPort      int    `json:"kubeletPort"`
	// KubeletHealthzPort, ProxyHealthzPort and ProxyMetricsPort are on 127.0.0.1.
	KubeletHealthzPort int `json:"kubeletHealthzPort"`
	ProxyHealthzPort   int `json:"proxyHealthzPort"`
	ProxyMetricsPort   int `json:"proxyMetricsPort"`
	// Before the node started: sysctls, network namespaces, links and which
	// of globalPaths did not exist.
	Sysctls      map[string]string `json:"sysctls"`
	NetnsBefore  []string          `json:"netnsBefore"`
	LinksBefore  []string          `json:"linksBefore"`
	AbsentBefore []string          `json:"absentBefore"`
	TablesBefore []string          `json:"tablesBefore"`
	Started      time.Time         `json:"started"`
}

func (n *NodeState) dir(rel string) string { return filepath.Join(n.Dir, rel) }

// nodeFile is the copy of the NodeState in the node directory; it stays
// after down, so CheckClean can compare the machine with what it was.
func nodeFile(dir string) string { return filepath.Join(dir, nodeDirName, "node.json") }

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(tmp, path)
}

func readNodeState(path string) (*NodeState, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var n NodeState
	if err := json.Unmarshal(b, &n); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return &n, nil
}

// lockMachine takes the machine-wide lock that serialises starting and
// stopping the real node.
func lockMachine() (func(), error) {
	f, err := os.OpenFile(machineLock, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open the real node's machine lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", machineLock, err)
	}
	return func() { f.Close() }, nil
}

// ErrNodeInUse is returned by Up when another cluster on this machine runs
// the real node.
var ErrNodeInUse = errors.New("the machine's real node is in use")

// claimMachine makes this cluster the owner of the real node. A claim by a
// cluster whose node still runs is refused; a stale one (its processes are
// gone) is torn down first. The caller holds the machine lock.
func claimMachine(ctx context.Context, dir string, say func(string, ...any)) error {
	if old, err := readNodeState(machineClaim); err == nil {
		if old.Owner != dir && nodeRunning(old) {
			return fmt.Errorf("%w: the cluster in %s started it at %s; stop it with `test/cluster/cluster.sh down %s`, or start a cluster without a real node with `test/cluster/cluster.sh up --kwok DIR`",
				ErrNodeInUse, old.Owner, old.Started.Format(time.RFC3339), old.Owner)
		}
		say("the real node recorded in %s (cluster %s) is not running: removing what is left of it", machineClaim, old.Owner)
		if err := teardownNode(ctx, old, say); err != nil {
			return err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if used := networkInUse(ctx); len(used) > 0 {
		return fmt.Errorf("%w: this machine already has %s, which no recorded node made; remove them by hand (for example `ip link del %s`) or find the program that made them",
			ErrNodeInUse, strings.Join(used, ", "), Bridge)
	}
	return nil
}

// nodeRunning says whether any of the node's recorded processes is alive.
func nodeRunning(n *NodeState) bool {
	st, err := readState(n.Owner)
	if err != nil {
		return len(shimsOf(n.ContainerdSocket)) > 0
	}
	for _, p := range st.Processes {
		if slices.Contains(RealNodeComponents, p.Name) && alive(p) {
			return true
		}
	}
	return false
}

func interfaceNames() []string {
	ifs, _ := net.Interfaces()
	var names []string
	for _, i := range ifs {
		names = append(names, i.Name)
	}
	return names
}

// prepareNode records the machine as it is, writes the claim and every
// configuration file, and sets up the cgroup root and the network.
func (u *upper) prepareNode(ctx context.Context, p pki, server string, ports []int) (*NodeState, error) {
	n := &NodeState{
		Owner:              u.o.Dir,
		Dir:                filepath.Join(u.o.Dir, nodeDirName),
		KubeletPort:        ports[0],
		KubeletHealthzPort: ports[1],
		ProxyHealthzPort:   ports[2],
		ProxyMetricsPort:   ports[3],
		Sysctls:            readSysctls(),
		NetnsBefore:        podNetns(),
		LinksBefore:        interfaceNames(),
		AbsentBefore:       absentPaths(),
		Started:            u.begin,
	}
	n.ContainerdSocket = n.dir("containerd.sock")
	if err := writeJSON(machineClaim, n); err != nil {
		return nil, fmt.Errorf("claim the real node: %w", err)
	}
	if err := writeJSON(nodeFile(u.o.Dir), n); err != nil {
		return nil, err
	}
	if err := writeContainerdFiles(n); err != nil {
		return nil, err
	}
	kubeconfigs := map[string][2]string{
		"kubelet.kubeconfig":    {p.NodeCert, p.NodeKey},
		"kube-proxy.kubeconfig": {p.ProxyCert, p.ProxyKey},
	}
	for name, cert := range kubeconfigs {
		kc, err := kubeconfigFor(server, p.CACert, cert[0], cert[1])
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(n.dir(name), kc, 0o600); err != nil {
			return nil, fmt.Errorf("write %s: %w", name, err)
		}
	}
	if err := os.WriteFile(n.dir("kubelet.yaml"), []byte(kubeletConfig(n, p.CACert)), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(n.dir("kube-proxy.yaml"), []byte(kubeProxyConfig(n)), 0o644); err != nil {
		return nil, err
	}
	for _, d := range []string{"pod-logs", "kubelet/volume-plugins"} {
		if err := os.MkdirAll(n.dir(d), 0o755); err != nil {
			return nil, err
		}
	}
	if err := makeCgroupRoot(); err != nil {
		return nil, err
	}
	if err := setUpNetwork(ctx); err != nil {
		return nil, err
	}
	return n, nil
}

// startNode starts containerd (and imports the sandbox image into it), the
// kubelet and kube-proxy, and waits until the Node is Ready and kube-proxy
// has synced its rules.
func (u *upper) startNode(ctx context.Context, n *NodeState, c *client, launch func(string) error) error {
	if err := launch(Containerd); err != nil {
		return err
	}
	var rt *cri
	err := u.wait(ctx, "containerd's CRI on "+n.ContainerdSocket, 30*time.Second, func(ctx context.Context) error {
		if rt == nil {
			var err error
			if rt, err = dialCRI(n.ContainerdSocket); err != nil {
				return err
			}
		}
		return rt.ready(ctx)
	})
	if rt != nil {
		defer rt.Close()
	}
	if err != nil {
		return err
	}
	pause := u.o.PauseImage
	if pause == "" {
		pause = filepath.Join(u.o.BinDir, "pause.tar")
	}
	if err := importImage(ctx, n.ContainerdSocket, pause, strings.TrimSuffix(PauseImage, ":1")); err != nil {
		return fmt.Errorf("import the sandbox image: %w; build it with test/cluster/build.sh", err)
	}
	if err := launch(Kubelet); err != nil {
		return err
	}
	if err := u.wait(ctx, "the real Node "+RealNodeName+" to become Ready (kubelet)", 90*time.Second, c.realNodeReady); err != nil {
		return err
	}
	if err := launch(KubeProxy); err != nil {
		return err
	}
	return u.wait(ctx, "kube-proxy to sync its iptables rules", 60*time.Second, func(ctx context.Context) error {
		_, err := httpGet(ctx, localURL(n.ProxyHealthzPort, "/healthz"))
		return err
	})
}

func (c *client) realNodeReady(ctx context.Context) error {
	n, err := c.cs.CoreV1().Nodes().Get(ctx, RealNodeName, metav1.GetOptions{})
	if err != nil {
		return err
	}
	for _, cond := range n.Status.Conditions {
		if cond.Type == corev1.NodeReady {
			if cond.Status == corev1.ConditionTrue {
				return nil
			}
			return fmt.Errorf("node %s: Ready %s: %s %s", RealNodeName, cond.Status, cond.Reason, cond.Message)
		}
	}
	return fmt.Errorf("node %s has no Ready condition yet", RealNodeName)
}

// realProbePod is a pod of the sandbox image alone: Ready proves the
// scheduler, kubelet, containerd, runc and CNI all work.
func realProbePod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: probePodName},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name: "probe", Image: PauseImage, ImagePullPolicy: corev1.PullNever,
			}},
			TerminationGracePeriodSeconds: new(int64),
			AutomountServiceAccountToken:  new(bool),
		},
	}
}

// stopPods removes every pod sandbox through containerd's CRI before
// containerd stops, so no container, shim, veth or network namespace is left.
func stopPods(ctx context.Context, n *NodeState, say func(string, ...any)) error {
	rt, err := dialCRI(n.ContainerdSocket)
	if err != nil {
		return err
	}
	defer rt.Close()
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	count, err := rt.removeSandboxes(ctx)
	if err != nil {
		return err
	}
	say("stopped and removed %d pod sandboxes through the CRI", count)
	return nil
}

// teardownNode removes what the real node left on the machine once its
// processes are stopped: stray shims and container processes, mounts,
// network namespaces, iptables chains, veths, the route and the bridge,
// sysctls, cgroups and directories at fixed paths. Then the claim goes.
func teardownNode(ctx context.Context, n *NodeState, say func(string, ...any)) error {
	var errs []error
	var pids []int
	for _, p := range shimsOf(n.ContainerdSocket) {
		pids = append(pids, p.PID)
	}
	pids = append(pids, cgroupProcs()...)
	if len(pids) > 0 {
		say("killing %d processes containerd left (shims, containers): %v", len(pids), pids)
		killPIDs(pids)
	}
	errs = append(errs, unmountUnder(n.Dir)...)
	errs = append(errs, removeNetns(n.NetnsBefore)...)
	errs = append(errs, removeChains(ctx)...)
	errs = append(errs, removeTables(ctx, n.TablesBefore)...)
	errs = append(errs, removeNetwork(ctx)...)
	for _, name := range interfaceNames() {
		if !slices.Contains(n.LinksBefore, name) && strings.HasPrefix(name, "veth") {
			if _, err := sh(ctx, "ip", "link", "del", name); err != nil {
				errs = append(errs, err)
			}
		}
	}
	errs = append(errs, restoreSysctls(n.Sysctls)...)
	errs = append(errs, removeCgroups()...)
	errs = append(errs, removeCreatedPaths(n.AbsentBefore, n.dir("pod-logs"))...)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("remove what the real node left: %w", err)
	}
	if err := os.Remove(machineClaim); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	say("removed the real node's network, chains, mounts and cgroups")
	return nil
}

// Leftovers lists what the real node of the cluster in dir left on the
// machine: it is empty after a clean down. A directory whose cluster never
// ran a real node has nothing to check.
func Leftovers(ctx context.Context, dir string) ([]string, error) {
	n, err := readNodeState(nodeFile(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var left []string
	for _, p := range shimsOf(n.ContainerdSocket) {
		left = append(left, fmt.Sprintf("process containerd-shim pid %d", p.PID))
	}
	for _, pid := range cgroupProcs() {
		left = append(left, fmt.Sprintf("process %d in the node's cgroups", pid))
	}
	for _, p := range processesMentioning(n.Dir) {
		left = append(left, "process "+p)
	}
	for _, m := range mountsUnder(n.Dir) {
		left = append(left, "mount "+m)
	}
	for _, ns := range podNetns() {
		if !slices.Contains(n.NetnsBefore, ns) {
			left = append(left, "network namespace "+ns)
		}
	}
	for _, name := range interfaceNames() {
		if !slices.Contains(n.LinksBefore, name) {
			left = append(left, "network interface "+name)
		}
	}
	left = append(left, networkInUse(ctx)...)
	for _, t := range nftTables(ctx) {
		if !slices.Contains(n.TablesBefore, t) {
			left = append(left, "nftables table "+t)
		}
	}
	left = append(left, changedSysctls(n.Sysctls)...)
	for _, cg := range cgroupsLeft() {
		left = append(left, "cgroup "+cg)
	}
	for _, p := range createdPathsLeft(n.AbsentBefore) {
		left = append(left, "path "+p)
	}
	if _, err := os.Stat(machineClaim); err == nil {
		left = append(left, "claim "+machineClaim)
	}
	return left, nil
}

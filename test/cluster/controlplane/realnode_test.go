package controlplane

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestSplitRule(t *testing.T) {
	tests := []struct {
		line string
		want []string
	}{
		{`-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`,
			[]string{"-A", "OUTPUT", "-m", "comment", "--comment", "kubernetes service portals", "-j", "KUBE-SERVICES"}},
		{`-N KUBE-FIREWALL`, []string{"-N", "KUBE-FIREWALL"}},
		{`-A X -m comment --comment "a \"quoted\" word" -j ACCEPT`, []string{"-A", "X", "-m", "comment", "--comment", `a "quoted" word`, "-j", "ACCEPT"}},
		{`-A X --comment "" -j DROP`, []string{"-A", "X", "--comment", "", "-j", "DROP"}},
	}
	for _, tt := range tests {
		if got := splitRule(tt.line); !slices.Equal(got, tt.want) {
			t.Errorf("splitRule(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
	if !jumpsToNodeChain(splitRule(tests[0].line)) || jumpsToNodeChain([]string{"-A", "INPUT", "-j", "ACCEPT"}) {
		t.Error("jumpsToNodeChain does not tell a jump to a KUBE- chain from one to ACCEPT")
	}
}

func TestUnescapeMount(t *testing.T) {
	if got := unescapeMount(`/tmp/a\040b`); got != "/tmp/a b" {
		t.Errorf("unescapeMount = %q", got)
	}
}

// realNodeFree skips the test (fails it under CI) when the machine's real
// node runs for another cluster, or the test cannot run one.
func realNodeFree(t *testing.T) {
	t.Helper()
	need := func(msg string) {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true: " + msg)
		}
		t.Skip(msg)
	}
	if os.Getuid() != 0 {
		need("the real node needs root (bridges, iptables, cgroups, mounts)")
	}
	if n, err := readNodeState(machineClaim); err == nil && nodeRunning(n) {
		need("the machine's real node runs for the cluster in " + n.Owner + "; run this test when it is down")
	}
}

// TestRealNodeUpDownLeavesNothing starts a cluster with the real node, runs
// pods on it (veths, network namespaces, mounts, iptables rules, cgroups),
// checks a second real node is refused, and after down finds nothing left.
func TestRealNodeUpDownLeavesNothing(t *testing.T) {
	bin := binDir(t)
	realNodeFree(t)
	dir := t.TempDir()
	var log bytes.Buffer
	t.Cleanup(func() {
		if err := Down(context.Background(), dir, nil); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	st, err := Up(ctx, Options{Dir: dir, BinDir: bin, RealNode: true, Log: &log})
	if err != nil {
		t.Fatalf("up: %v\n%s", err, log.String())
	}
	if st.Node == nil || len(st.Processes) != len(components(true)) {
		t.Fatalf("state: node %v, %d processes; want a real node and %d processes", st.Node, len(st.Processes), len(components(true)))
	}
	c, err := newClient(KubeconfigPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.usable(ctx, true); err != nil {
		t.Fatalf("not usable after up: %v", err)
	}

	// A second cluster may not take the machine's node.
	other := t.TempDir()
	if _, err := Up(ctx, Options{Dir: other, BinDir: bin, RealNode: true}); !errors.Is(err, ErrNodeInUse) || !strings.Contains(err.Error(), dir) {
		t.Errorf("a second real node: %v; want ErrNodeInUse naming %s", err, dir)
	}
	_ = Down(context.Background(), other, nil)

	// Two pods of the sandbox image: containers, veths, namespaces, rules.
	replicas := int32(2)
	labels := map[string]string{"app": "pause"}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "pause", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       realProbePod().Spec,
			},
		},
	}
	if _, err := c.cs.AppsV1().Deployments("default").Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, pods, _ := net.ParseCIDR(PodCIDR)
	var ips []string
	deadline := time.Now().Add(60 * time.Second)
	for {
		list, err := c.cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=pause"})
		if err != nil {
			t.Fatal(err)
		}
		ips = ips[:0]
		for _, p := range list.Items {
			for _, cond := range p.Status.Conditions {
				if cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue && pods.Contains(net.ParseIP(p.Status.PodIP)) {
					ips = append(ips, p.Status.PodIP)
				}
			}
		}
		if len(ips) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 60s %d of 2 pause pods Ready with an IP in %s\n%s", len(ips), PodCIDR, log.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n := len(podNetns()); n < 2 {
		t.Errorf("%d cni- network namespaces with 2 pods running", n)
	}
	if chains := nodeChains(ctx, "iptables"); !slices.Contains(chains, "nat/KUBE-SERVICES") || !slices.Contains(chains, "filter/"+forwardChain) {
		t.Errorf("iptables chains %v; want kube-proxy's KUBE-SERVICES and the harness's %s", chains, forwardChain)
	}

	if err := Down(ctx, dir, &log); err != nil {
		t.Fatalf("down: %v\n%s", err, log.String())
	}
	left, err := Leftovers(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("left on the machine after down:\n  %s\nlog:\n%s", strings.Join(left, "\n  "), log.String())
	}
}

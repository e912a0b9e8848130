package deployer

// Integration tests on the test cluster of test/cluster: a real control plane
// and a real node, so the chart's pods run as containers and pass their
// probes. They skip without REMLA_TEST_KUBECONFIG unless CI=true. Each test
// has its own namespace.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"

	"github.com/remla/tagger/deployer/notify"
	"github.com/remla/tagger/test/clustertest"
)

const neverReady = "remla.test/never-ready"

// appImages imports the app image into the test node under every version
// the package's tests deploy and expect to run. The versions meant to fail
// stay out: 8.8.8, 3 and 9 are never imported, so their pulls fail (the
// node's registries refuse), and 9.9.9 carries a model that cannot load.
func appImages(t testing.TB) {
	t.Helper()
	versions := []string{"0", "1", "2", "4", "5", "6", "7", "8", "1.0.0", "2.0.0", "3.0.0", "2.0", "2.1", "reg.local/shop:a1", "reg.local/shop:a2"}
	for i := range 40 { // BenchmarkDeployToSwitch
		versions = append(versions, fmt.Sprint("v", i+1))
	}
	clustertest.AppImage(t, clustertest.Good, versions...)
	clustertest.AppImage(t, clustertest.BrokenModel, "9.9.9")
}

func newTestDeployer(t testing.TB, ns, who string) *Deployer {
	t.Helper()
	appImages(t)
	d, err := New(Options{Kubeconfig: clustertest.Kubeconfig(t), Namespace: ns, Identity: who, Config: testConfig(),
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// initialized gives a test its namespace, a Deployer acting as who in it,
// the test's context, and blue initialized at version.
func initialized(t *testing.T, who, version string) (string, *Deployer, context.Context) {
	t.Helper()
	ns := clustertest.Namespace(t)
	d := newTestDeployer(t, ns, who)
	ctx := testCtx(t)
	if err := d.Init(ctx, version, quick); err != nil {
		t.Fatalf("init %s: %v", version, err)
	}
	return ns, d, ctx
}

// testConfig is the default configuration with the test cluster's chart values.
func testConfig() *Config {
	cfg := DefaultConfig()
	cfg.Values = clustertest.TestValues()
	return cfg
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// The tests run side by side on a node of two CPUs, where a pod may take
// tens of seconds to start: the deadlines are generous, since a healthy
// rollout returns as soon as it completes. failTimeout is the wait for a
// version that fails for real (a crashing container, a refused pull), long
// enough for the kubelet to have seen the failure.
const (
	rolloutTimeout = 3 * time.Minute
	failTimeout    = 30 * time.Second
)

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

var quick = DeployOptions{Timeout: rolloutTimeout}

// activeSelector reads the live Service, not the deployer's view of it.
func activeSelector(t *testing.T, d *Deployer) string {
	t.Helper()
	svc, err := d.client.CoreV1().Services(d.ns).Get(context.Background(), "remla", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return svc.Spec.Selector["color"]
}

// endpointColors waits until the EndpointSlices of Service remla list ready
// endpoints, and returns the colors of the pods behind them.
func endpointColors(t *testing.T, d *Deployer, want string) map[string]int {
	t.Helper()
	ctx := testCtx(t)
	var got map[string]int
	for {
		got = map[string]int{}
		slices, err := d.client.DiscoveryV1().EndpointSlices(d.ns).List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=remla"})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range slices.Items {
			for _, e := range s.Endpoints {
				if e.TargetRef == nil || (e.Conditions.Ready != nil && !*e.Conditions.Ready) {
					continue
				}
				pod, err := d.client.CoreV1().Pods(d.ns).Get(ctx, e.TargetRef.Name, metav1.GetOptions{})
				if err == nil {
					got[pod.Labels["color"]]++
				}
			}
		}
		if len(got) == 1 && got[want] > 0 {
			return got
		}
		select {
		case <-ctx.Done():
			t.Fatalf("EndpointSlices of Service remla: pods by color %v, want only %s", got, want)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func mustStatus(t *testing.T, d *Deployer) *State {
	t.Helper()
	st, err := d.Status(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestBlueGreenLifecycle walks the operator's path of the issue: init, deploy
// green, switch back, refuse to undeploy the active color, undeploy green, a
// deploy that never becomes ready, and what status and history then say.
func TestBlueGreenLifecycle(t *testing.T) {
	t.Parallel()
	ns := clustertest.Namespace(t)
	d := newTestDeployer(t, ns, "operator:alice")
	ctx := testCtx(t)

	// init -> blue active
	if err := d.Init(ctx, "1.0.0", quick); err != nil {
		t.Fatalf("init: %v", err)
	}
	st := mustStatus(t, d)
	if st.Active != Blue || st.Colors[Blue].Version != "1.0.0" || st.Colors[Blue].Ready != 2 || st.Colors[Green].Deployed {
		t.Fatalf("after init: %+v", st)
	}
	if sel := activeSelector(t, d); sel != "blue" {
		t.Fatalf("active Service selects %q after init", sel)
	}
	endpointColors(t, d, "blue")
	if err := d.Init(ctx, "1.0.0", quick); err == nil || !strings.Contains(err.Error(), "already initialized") {
		t.Errorf("second init: %v, want already initialized", err)
	}
	ing, err := d.client.NetworkingV1().Ingresses(ns).Get(ctx, "remla", metav1.GetOptions{})
	if err != nil || ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name != "remla" {
		t.Errorf("Ingress: %v %v", ing, err)
	}

	// deploy green 2.0.0 -> waits, switches, blue still running
	var seen []Progress
	o := quick
	o.Progress = func(p Progress) { seen = append(seen, p) }
	if err := d.Deploy(ctx, Green, "2.0.0", o); err != nil {
		t.Fatalf("deploy green: %v", err)
	}
	if len(seen) == 0 || !seen[len(seen)-1].Done || seen[len(seen)-1].Ready != 2 {
		t.Errorf("progress: %+v", seen)
	}
	st = mustStatus(t, d)
	if st.Active != Green || st.Colors[Blue].Standing.Phase != Stable || st.Colors[Green].Standing.Phase != Baking || st.Colors[Green].Version != "2.0.0" || st.Colors[Green].Ready != 2 {
		t.Fatalf("after deploy green: %+v", st)
	}
	if b := st.Colors[Blue]; !b.Deployed || b.Ready != 2 || b.Version != "1.0.0" {
		t.Errorf("blue must keep running after the switch: %+v", b)
	}
	endpointColors(t, d, "green")
	if err := d.Deploy(ctx, Green, "2.0.1", quick); !errors.Is(err, ErrActiveColor) {
		t.Errorf("deploy onto the active color: %v, want ErrActiveColor", err)
	}

	// switch back
	rec, err := d.Switch(ctx, Blue, SwitchOptions{Reason: "back"})
	if err != nil || rec == nil || rec.From != Green || rec.To != Blue || rec.By != "operator:alice" {
		t.Fatalf("switch blue: %+v %v", rec, err)
	}
	endpointColors(t, d, "blue")
	if rec, err := d.Switch(ctx, Blue, SwitchOptions{}); rec != nil || err != nil {
		t.Errorf("switch to the active color: %+v %v, want a no-op", rec, err)
	}

	// undeploy of the active color refused; undeploy green
	if err := d.Undeploy(ctx, Blue); !errors.Is(err, ErrActiveColor) {
		t.Errorf("undeploy blue (active): %v, want ErrActiveColor", err)
	}
	if err := d.Undeploy(ctx, Green); err != nil {
		t.Fatalf("undeploy green: %v", err)
	}
	if _, err := d.client.AppsV1().Deployments(ns).Get(ctx, "remla-green", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("Deployment remla-green after undeploy: %v", err)
	}
	if err := d.Undeploy(ctx, Green); err == nil || !strings.Contains(err.Error(), "not deployed") {
		t.Errorf("undeploy green twice: %v", err)
	}
	if _, err := d.Switch(ctx, Green, SwitchOptions{}); !errors.Is(err, ErrNotReady) {
		t.Errorf("switch to an absent color: %v, want ErrNotReady", err)
	}

	// an image that cannot be pulled: the deploy gives up before its
	// timeout, says so, and traffic stays
	err = d.Deploy(ctx, Green, "8.8.8", DeployOptions{Timeout: 2 * time.Minute, PodLabels: map[string]string{neverReady: "true"}})
	if !errors.Is(err, ErrImagePull) || !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "image ghcr.io/remla/tagger:8.8.8 cannot be pulled: is version 8.8.8 published") ||
		!strings.Contains(err.Error(), "traffic stays on blue") {
		t.Errorf("deploy of an image that cannot be pulled: %v", err)
	}
	if err := d.Undeploy(ctx, Green); err != nil {
		t.Fatal(err)
	}

	// a version that never becomes ready: timeout, pods named, traffic stays
	o = DeployOptions{Timeout: failTimeout, PodLabels: map[string]string{neverReady: "true"}}
	err = d.Deploy(ctx, Green, "9.9.9", o)
	var re *RolloutError
	if !errors.As(err, &re) || !errors.Is(err, ErrTimeout) {
		t.Fatalf("deploy never-ready green: %v, want a RolloutError", err)
	}
	msg := err.Error()
	for _, want := range []string{"pod remla-green-", "CrashLoopBackOff", "traffic stays on blue"} {
		if !strings.Contains(msg, want) {
			t.Errorf("timeout message %q lacks %q", msg, want)
		}
	}
	if sel := activeSelector(t, d); sel != "blue" {
		t.Errorf("traffic moved to %q after a failed deploy", sel)
	}
	if _, err := d.Switch(ctx, Green, SwitchOptions{}); !errors.Is(err, ErrNotReady) {
		t.Errorf("switch to a color with no ready replica: %v, want ErrNotReady", err)
	}
	if _, err := d.Switch(ctx, Green, SwitchOptions{Force: true, Reason: "forced"}); err != nil {
		t.Errorf("forced switch: %v", err)
	}
	if _, err := d.Switch(ctx, Blue, SwitchOptions{Reason: "unforce"}); err != nil {
		t.Errorf("switch back: %v", err)
	}

	// status and history show what happened, newest first
	st = mustStatus(t, d)
	var got []string
	for _, r := range moves(st.History) {
		got = append(got, fmt.Sprintf("%s>%s:%s", r.From, r.To, r.Reason))
	}
	want := []string{"green>blue:unforce", "blue>green:forced", "green>blue:back", "blue>green:deploy 2.0.0", ">blue:init 1.0.0"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("history\n got %v\nwant %v", got, want)
	}
	if st.Colors[Blue].ActiveReason != "unforce" || st.Colors[Green].ActiveReason != "forced" || st.Colors[Green].Ready != 0 || st.Colors[Green].Version != "9.9.9" {
		t.Errorf("status: %+v", st.Colors)
	}
	// A second Deployer (another machine) reads the same truth.
	if st2 := mustStatus(t, newTestDeployer(t, ns, "operator:bob")); st2.Active != Blue || len(st2.History) != len(st.History) {
		t.Errorf("another client sees %+v", st2)
	}
}

// TestConcurrentSwitches races two operators switching to green from blue,
// several rounds: each round exactly one switch is recorded, the other fails
// with ErrConflict or finds green already active.
func TestConcurrentSwitches(t *testing.T) {
	t.Parallel()
	ns := clustertest.Namespace(t)
	ctx := testCtx(t)
	a, b := newTestDeployer(t, ns, "operator:a"), newTestDeployer(t, ns, "operator:b")
	if err := a.Init(ctx, "1", quick); err != nil {
		t.Fatal(err)
	}
	if err := a.Deploy(ctx, Green, "2", DeployOptions{Timeout: rolloutTimeout, NoSwitch: true}); err != nil {
		t.Fatal(err)
	}
	conflicts := 0
	to := Green
	const rounds = 6
	for round := range rounds {
		var wg sync.WaitGroup
		start := make(chan struct{})
		recs := make([]*Record, 2)
		errs := make([]error, 2)
		for i, d := range []*Deployer{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				recs[i], errs[i] = d.Switch(ctx, to, SwitchOptions{Reason: fmt.Sprint("round ", round)})
			}()
		}
		close(start)
		wg.Wait()
		won := 0
		for i := range 2 {
			switch {
			case errs[i] == nil && recs[i] != nil:
				won++
			case errors.Is(errs[i], ErrConflict):
				conflicts++
			case errs[i] == nil && recs[i] == nil: // saw the winner's result
			default:
				t.Fatalf("round %d: switch %d: %v", round, i, errs[i])
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d switches won, want exactly 1 (%v %v)", round, won, errs, recs)
		}
		if sel := activeSelector(t, a); sel != string(to) {
			t.Fatalf("round %d: selector %s, want %s", round, sel, to)
		}
		to = other(to)
	}
	st := mustStatus(t, a)
	if n := len(moves(st.History)); n != rounds+1 {
		t.Errorf("history has %d switches, want %d (init + one per round)", n, rounds+1)
	}
	t.Logf("%d of %d rounds ended in a conflict", conflicts, rounds)
}

// TestIncidentOnce: one alert incident moves traffic at most once, also
// after an operator moved it back.
func TestIncidentOnce(t *testing.T) {
	t.Parallel()
	_, d, ctx := initialized(t, "operator:x", "1")
	if err := d.Deploy(ctx, Green, "2", quick); err != nil {
		t.Fatal(err)
	}
	req := RollbackRequest{Incident: "fp1@2026-01-01T00:00:00Z", By: "alert:UsersUnsatisfied", Reason: "UsersUnsatisfied", Color: Green}
	res, err := d.Rollback(ctx, req)
	if err != nil || res.Outcome != OutcomeRolledBack || res.From != Green || res.To != Blue {
		t.Fatalf("rollback: %+v %v", res, err)
	}
	if st := mustStatus(t, d); st.Active != Blue || st.Colors[Blue].Standing.Phase != Stable || st.Colors[Green].Standing.Phase != Failed {
		t.Errorf("after rollback to blue: %+v", st.Colors)
	}
	if _, err := d.Switch(ctx, Green, SwitchOptions{Reason: "operator override"}); err != nil {
		t.Fatal(err)
	}
	before := mustStatus(t, d)
	res, err = d.Rollback(ctx, req)
	if !errors.Is(err, ErrIncidentSeen) || res.Outcome != OutcomeDuplicate {
		t.Fatalf("same incident again: %+v %v, want ErrIncidentSeen", res, err)
	}
	if after := mustStatus(t, d); after.Active != Green || len(after.History) != len(before.History) {
		t.Errorf("a seen incident changed the state: %+v", after)
	}
}

// TestLease: a long operation holds the Lease; another operator is told who
// holds it and since when; after release it can go on.
func TestLease(t *testing.T) {
	t.Parallel()
	ns := clustertest.Namespace(t)
	ctx := testCtx(t)
	a, b := newTestDeployer(t, ns, "operator:alice"), newTestDeployer(t, ns, "operator:bob")
	_, unlock, err := a.lock(ctx, "deploy green 7")
	if err != nil {
		t.Fatal(err)
	}
	for name, op := range map[string]func() error{
		"deploy":   func() error { return b.Deploy(ctx, Green, "8", DeployOptions{NoSwitch: true}) },
		"init":     func() error { return b.Init(ctx, "8", quick) },
		"undeploy": func() error { return b.Undeploy(ctx, Green) },
	} {
		err := op()
		if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "held by operator:alice") || !strings.Contains(err.Error(), "deploy green 7") || !strings.Contains(err.Error(), " since ") {
			t.Errorf("%s while locked: %v", name, err)
		}
	}
	unlock()
	if err := b.Init(ctx, "8", quick); err != nil {
		t.Fatalf("init after unlock: %v", err)
	}

	// A holder that died: its Lease is no longer renewed, and is taken over
	// once this process has watched it unchanged for its duration (2 s
	// here), however recent its RenewTime looks by the local clock (the
	// holder's clock may be ahead).
	leases := b.client.CoordinationV1().Leases(ns)
	l, err := leases.Get(ctx, "remla-deployer", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dead, ahead, two := "operator:crashed pid 1", metav1.NewMicroTime(time.Now().Add(time.Hour)), int32(2)
	l.Spec.HolderIdentity, l.Spec.RenewTime, l.Spec.AcquireTime, l.Spec.LeaseDurationSeconds = &dead, &ahead, &ahead, &two
	if _, err := leases.Update(ctx, l, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := b.Undeploy(ctx, Green); err == nil || errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "not deployed") {
		t.Errorf("undeploy after the holder died: %v, want it to take the Lease (and find green not deployed)", err)
	}
	if waited := time.Since(start); waited < 2*time.Second {
		t.Errorf("took a Lease unchanged for only %s, want at least its 2 s duration", waited)
	}

	// A live holder whose clock is an hour behind: its RenewTime looks long
	// expired, but it keeps renewing, so it keeps the Lease.
	_, unlockA, err := a.lock(ctx, "deploy green 10")
	if err != nil {
		t.Fatal(err)
	}
	l, err = leases.Get(ctx, "remla-deployer", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	behind := metav1.NewMicroTime(time.Now().Add(-time.Hour))
	l.Spec.RenewTime, l.Spec.AcquireTime = &behind, &behind
	if _, err := leases.Update(ctx, l, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := b.Undeploy(ctx, Green); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "renewed while this process watched") {
		t.Errorf("undeploy while a skewed holder renews: %v, want ErrLocked", err)
	}
	unlockA()

	// An interrupted deploy (Ctrl-C) leaves traffic alone and frees the Lease.
	ictx, cancel := context.WithCancel(ctx)
	time.AfterFunc(2*time.Second, cancel)
	err = b.Deploy(ictx, Green, "9", DeployOptions{Timeout: rolloutTimeout, PodLabels: map[string]string{neverReady: "true"}})
	if err == nil || !strings.Contains(err.Error(), "interrupted, traffic unchanged") {
		t.Errorf("interrupted deploy: %v", err)
	}
	if sel := activeSelector(t, b); sel != "blue" {
		t.Errorf("selector %s after an interrupted deploy", sel)
	}
	l, err = b.client.CoordinationV1().Leases(ns).Get(ctx, "remla-deployer", metav1.GetOptions{})
	if err != nil || (l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity != "") {
		t.Errorf("Lease after the interrupted deploy: %+v %v", l, err)
	}
}

// TestClearErrors: a missing namespace and a missing RBAC permission each
// give an error that says so.
func TestClearErrors(t *testing.T) {
	t.Parallel()
	ns := clustertest.Namespace(t)
	ctx := testCtx(t)
	missing := newTestDeployer(t, ns+"-missing", "")
	if _, err := missing.Status(ctx); !errors.Is(err, ErrNamespace) || !strings.Contains(err.Error(), "kubectl create namespace") {
		t.Errorf("missing namespace: %v", err)
	}

	// A ServiceAccount with no Role: every call is Forbidden.
	path := serviceAccountKubeconfig(t, ns, "nobody")
	d, err := New(Options{Kubeconfig: path})
	if err != nil {
		t.Fatal(err)
	}
	if d.Namespace() != ns {
		t.Errorf("namespace from the context: %s, want %s", d.Namespace(), ns)
	}
	if _, err := d.Status(ctx); !apierrors.IsForbidden(err) {
		t.Errorf("status without RBAC: %v, want Forbidden", err)
	}
	if err := d.Deploy(ctx, Green, "1", DeployOptions{NoSwitch: true}); !apierrors.IsForbidden(err) {
		t.Errorf("deploy without RBAC: %v, want Forbidden", err)
	}
}

// TestAnotherApp: the deployer serves another application through remla.yaml
// alone: its names, label keys and image.
func TestAnotherApp(t *testing.T) {
	t.Parallel()
	ns := clustertest.Namespace(t)
	ctx := testCtx(t)
	cfg, err := ParseConfig([]byte("app: shop\nlabels: {color: track, version: rev}\nimage: reg.local/shop\nreplicas: 1\nservicePort: 8080\n"))
	if err != nil {
		t.Fatal(err)
	}
	appImages(t)
	d, err := New(Options{Kubeconfig: clustertest.Kubeconfig(t), Namespace: ns, Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Init(ctx, "a1", quick); err != nil {
		t.Fatal(err)
	}
	if err := d.Deploy(ctx, Green, "a2", quick); err != nil {
		t.Fatal(err)
	}
	svc, err := d.client.CoreV1().Services(ns).Get(ctx, "shop", metav1.GetOptions{})
	if err != nil || svc.Spec.Selector["track"] != "green" || svc.Spec.Selector["app"] != "shop" || svc.Spec.Ports[0].Port != 8080 {
		t.Fatalf("active Service shop: %+v %v", svc, err)
	}
	dep, err := d.client.AppsV1().Deployments(ns).Get(ctx, "shop-green", metav1.GetOptions{})
	if err != nil || dep.Spec.Template.Labels["rev"] != "a2" || dep.Spec.Template.Spec.Containers[0].Image != "reg.local/shop:a2" || *dep.Spec.Replicas != 1 {
		t.Fatalf("Deployment shop-green: %+v %v", dep, err)
	}
	if _, err := d.client.CoordinationV1().Leases(ns).Get(ctx, "shop-deployer", metav1.GetOptions{}); err != nil {
		t.Errorf("Lease shop-deployer: %v", err)
	}
	st := mustStatus(t, d)
	if st.Active != Green || st.Colors[Blue].Version != "a1" || st.Colors[Green].Version != "a2" {
		t.Errorf("status: %+v", st)
	}
}

// TestDocumentedRole runs the operator's path as a ServiceAccount bound to
// exactly the Role in docs/operations.md, so the documented permissions are
// enough.
func TestDocumentedRole(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	role := *documentedRole(t, s, "# remlactl-role.yaml")
	ns := clustertest.Namespace(t)
	ctx := testCtx(t)
	cs := clustertest.Client(t)
	if _, err := cs.RbacV1().Roles(ns).Create(ctx, &role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	path := serviceAccountKubeconfig(t, ns, "operator")
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "remlactl"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "operator", Namespace: ns}}}
	if _, err := cs.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	appImages(t)
	d, err := New(Options{Kubeconfig: path, Namespace: ns, Config: testConfig()})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Init(ctx, "1", quick); err != nil {
		t.Fatalf("init with the documented Role: %v", err)
	}
	if err := d.Deploy(ctx, Green, "2", quick); err != nil {
		t.Fatalf("deploy with the documented Role: %v", err)
	}
	err = d.Deploy(ctx, Blue, "3", DeployOptions{Timeout: failTimeout, Replicas: 1, PodLabels: map[string]string{neverReady: "true"}})
	// A real pull from the node's refused registry: ErrImagePull until the
	// kubelet backs off, ImagePullBackOff after.
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "ImagePull") {
		t.Errorf("the diagnosis of a failed rollout with the documented Role: %v", err)
	}
	if _, err := d.Switch(ctx, Blue, SwitchOptions{Force: true}); err != nil {
		t.Fatalf("switch with the documented Role: %v", err)
	}
	if _, err := d.Status(ctx); err != nil {
		t.Fatalf("status with the documented Role: %v", err)
	}
	if err := d.Undeploy(ctx, Green); err != nil {
		t.Fatalf("undeploy with the documented Role: %v", err)
	}

	// The alert actor's smaller Role, as documented.
	actor := documentedRole(t, s, "# remla-alert-actor-role.yaml")
	if _, err := cs.RbacV1().Roles(ns).Create(ctx, actor, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	apath := serviceAccountKubeconfig(t, ns, "actor")
	rb = &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "actor"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: actor.Name},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "actor", Namespace: ns}}}
	if _, err := cs.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	a, err := New(Options{Kubeconfig: apath, Config: testConfig()})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Deploy(ctx, Green, "4", DeployOptions{Timeout: rolloutTimeout, NoSwitch: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Status(ctx); err != nil {
		t.Errorf("status with the alert actor's Role: %v", err)
	}
	// Blue, active since the forced switch, gets a version that proves
	// itself in a short bake window; then green 5 takes the traffic.
	if err := d.Deploy(ctx, Blue, "6", DeployOptions{Timeout: rolloutTimeout, InPlace: true, Bake: time.Second}); err != nil {
		t.Fatal(err)
	}
	if s, err := d.Bake(ctx, Blue, nil); err != nil || s.Phase != Stable {
		t.Fatalf("bake blue 6 with the documented Role: %+v %v", s, err)
	}
	if err := d.Deploy(ctx, Green, "5", quick); err != nil {
		t.Fatal(err)
	}
	if res, err := a.Rollback(ctx, RollbackRequest{Incident: "x", By: "alert:test", Reason: "test", Color: Green}); err != nil || res.Outcome != OutcomeRolledBack {
		t.Errorf("rollback with the alert actor's Role: %+v %v", res, err)
	}
	if _, err := a.Reconcile(ctx); err != nil {
		t.Errorf("reconcile with the alert actor's Role: %v", err)
	}
	// The standby policy and notifications from a Secret, as the actor:
	// green (failed, standby) is scaled down at once, the ScaledDown record
	// is posted to the URL in Secret remla-notify, and an override rollback
	// to the cold green scales it up.
	posted := make(chan string, 8)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p notify.Payload
		json.NewDecoder(r.Body).Decode(&p)
		posted <- p.Event.Kind
	}))
	defer hook.Close()
	if _, err := cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "remla-notify"},
		StringData: map[string]string{"url": hook.URL}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	zero := int32(0)
	scfg := testConfig()
	scfg.Standby = Standby{Replicas: &zero}
	scfg.Notify = notify.Config{Receivers: []notify.ReceiverConfig{{Name: "ops", Type: notify.TypeWebhook, URLSecret: &notify.SecretKey{Name: "remla-notify", Key: "url"}}}}
	a2, err := New(Options{Kubeconfig: apath, Config: scfg})
	if err != nil {
		t.Fatal(err)
	}
	if recs, err := a2.Reconcile(ctx); err != nil || len(recs) != 1 || recs[0].Event != EventScaledDown {
		t.Errorf("the standby policy with the alert actor's Role: %+v %v", recs, err)
	}
	if res, err := a2.Rollback(ctx, RollbackRequest{To: Green, Reason: "test", NoWait: true}); !errors.Is(err, ErrNotReady) || res == nil || res.Outcome != OutcomeScalingUp {
		t.Errorf("scaling a cold standby up with the alert actor's Role: %+v %v", res, err)
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := a2.Close(cctx); err != nil || a2.NotificationCounts()["ops"].Sent != 2 {
		t.Errorf("notifications with the URL from a Secret, with the alert actor's Role: %v %+v", err, a2.NotificationCounts())
	}
	close(posted)
	var kinds []string
	for k := range posted {
		kinds = append(kinds, k)
	}
	if strings.Join(kinds, ",") != "ScaledDown,ScaledUp" {
		t.Errorf("posted %v, want ScaledDown,ScaledUp", kinds)
	}
	// Both identities' Events are on the active Service: the Roles allow
	// events: create.
	evs := serviceEvents(t, d)
	for _, want := range []string{"Deployed", "Switched", "Promoted", "RolledBack", "MarkedFailed", "DeployFailed"} {
		if evs[want] == 0 {
			t.Errorf("no %s Event on Service remla (got %v)", want, evs)
		}
	}
	for _, r := range []rbacv1.Role{role, *actor} {
		for _, rule := range r.Rules {
			if slices.Contains(rule.Resources, "events") && (slices.Contains(rule.Verbs, "*") || slices.ContainsFunc(rule.Verbs, func(v string) bool {
				return v != "create" && v != "get" && v != "list"
			})) {
				t.Errorf("Role %s grants %v on events: the deployer needs create (and get, list to diagnose pods), nothing broader", r.Name, rule.Verbs)
			}
			if slices.Contains(rule.Resources, "*") || slices.Contains(rule.APIGroups, "*") {
				t.Errorf("Role %s has a wildcard rule %+v", r.Name, rule)
			}
		}
	}
	if r := actor.Rules; slices.ContainsFunc(r, func(p rbacv1.PolicyRule) bool {
		return slices.Contains(p.Resources, "events") && !slices.Equal(p.Verbs, []string{"create"})
	}) {
		t.Errorf("the actor's Role may only create events: %+v", r)
	}
}

// documentedRole parses the ```yaml block of docs/operations.md that starts
// with marker.
func documentedRole(t *testing.T, doc, marker string) *rbacv1.Role {
	t.Helper()
	i := strings.Index(doc, "```yaml\n"+marker)
	if i < 0 {
		t.Fatalf("docs/operations.md has no ```yaml block starting with %s", marker)
	}
	block := doc[i+len("```yaml\n"):]
	block = block[:strings.Index(block, "```")]
	var role rbacv1.Role
	if err := yaml.UnmarshalStrict([]byte(block), &role); err != nil {
		t.Fatalf("the documented Role %s: %v", marker, err)
	}
	return &role
}

// serviceEvents counts the Events on the active Service by reason.
func serviceEvents(t *testing.T, d *Deployer) map[string]int {
	t.Helper()
	evs, err := clustertest.Client(t).CoreV1().Events(d.ns).List(testCtx(t), metav1.ListOptions{FieldSelector: "involvedObject.kind=Service,involvedObject.name=remla"})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range evs.Items {
		out[e.Reason]++
	}
	return out
}

// moves are the records of a history that moved traffic.
func moves(h []Record) []Record {
	var out []Record
	for _, r := range h {
		if r.Kind() == EventSwitched || r.Kind() == EventRolledBack {
			out = append(out, r)
		}
	}
	return out
}

// serviceAccountKubeconfig creates a ServiceAccount and writes a kubeconfig
// that authenticates as it, with ns as the context's namespace.
func serviceAccountKubeconfig(t *testing.T, ns, name string) string {
	t.Helper()
	ctx := testCtx(t)
	cs := clustertest.Client(t)
	if _, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tok, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, name, &authv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("token for ServiceAccount %s: %v", name, err)
	}
	rc := clustertest.RESTConfig(t)
	kc := clientcmdapi.NewConfig()
	kc.Clusters["c"] = &clientcmdapi.Cluster{Server: rc.Host, CertificateAuthorityData: rc.CAData, CertificateAuthority: rc.CAFile}
	kc.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: tok.Status.Token}
	kc.Contexts[name] = &clientcmdapi.Context{Cluster: "c", AuthInfo: name, Namespace: ns}
	kc.CurrentContext = name
	path := t.TempDir() + "/kubeconfig"
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestInPlace: --in-place upgrades the active color under traffic, with no
// switch recorded; the selector never leaves it.
func TestInPlace(t *testing.T) {
	t.Parallel()
	ns, d, ctx := initialized(t, "operator:p", "1")
	// A steady load through the active Service across the rolling update:
	// the chart's preStop sleep keeps each old pod serving until kube-proxy
	// has dropped it, so no request may fail.
	base := clustertest.ServiceURL(t, ns, d.cfg.ActiveService)
	answeredBy(t, ctx, base, Blue)
	load := clustertest.StartLoad(ctx, base, 4)
	defer load.Stop()
	if err := d.Deploy(ctx, Blue, "2", DeployOptions{Timeout: rolloutTimeout, InPlace: true}); err != nil {
		t.Fatalf("in-place deploy: %v", err)
	}
	time.Sleep(time.Second) // load on the new pods while the old ones drain
	res := load.Stop()
	if res.Failed != 0 || res.Requests == 0 {
		t.Errorf("%d of %d requests failed across the in-place upgrade: %v", res.Failed, res.Requests, res.Errors)
	}
	t.Logf("in-place upgrade under load: %d requests, %d failed", res.Requests, res.Failed)
	st := mustStatus(t, d)
	if st.Active != Blue || st.Colors[Blue].Version != "2" || st.Colors[Blue].Rollout != "complete" || len(moves(st.History)) != 1 ||
		st.Colors[Blue].Standing.Phase != Baking || st.History[0].Event != EventDeployed {
		t.Errorf("after an in-place upgrade: %+v", st)
	}
	endpointColors(t, d, "blue")
}

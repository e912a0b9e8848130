package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/remla/tagger/deployer"
)

// fakeCluster is the cluster boundary faked with client-go's fake
// clientset; the deployer above it is the real one, so these tests run the
// real rollback decision. cluster_test.go runs the actor on the real API
// server.
type fakeCluster struct {
	t  testing.TB
	ns string
	cs *fake.Clientset
	d  *deployer.Deployer

	mu  sync.Mutex
	now time.Time
}

func (f *fakeCluster) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeCluster) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

func fakeDeployment(ns string, c deployer.Color, version string) *appsv1.Deployment {
	two := int32(2)
	labels := map[string]string{"app": "remla", "color": string(c), "version": version}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "remla-" + string(c), Namespace: ns},
		Spec: appsv1.DeploymentSpec{Replicas: &two, Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: labels},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "ghcr.io/remla/tagger:" + version}}},
		}},
		Status: appsv1.DeploymentStatus{ReadyReplicas: 2, Replicas: 2, UpdatedReplicas: 2, AvailableReplicas: 2},
	}
}

// greenBad is namespace ns where blue 1.0.0 proved itself (stable) and
// green 1.1.0 then took the traffic and is baking: the state an incident on
// green meets. It is reached through the deployer's own operations.
func greenBad(t testing.TB, ns string) *fakeCluster {
	t.Helper()
	return greenBadOn(t, fake.NewSimpleClientset(), ns)
}

func greenBadOn(t testing.TB, cs *fake.Clientset, ns string) *fakeCluster {
	t.Helper()
	f := &fakeCluster{t: t, ns: ns, cs: cs, now: time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)}
	for _, o := range []runtime.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "remla", Namespace: ns},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "remla", "color": "green"}}},
		fakeDeployment(ns, deployer.Blue, "1.0.0"),
		fakeDeployment(ns, deployer.Green, "1.1.0"),
	} {
		if err := cs.Tracker().Add(o); err != nil {
			t.Fatal(err)
		}
	}
	d, err := deployer.New(deployer.Options{Client: cs, Namespace: ns, Identity: "operator:test", Clock: f.clock, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	f.d = d
	ctx := context.Background()
	if _, err := d.Switch(ctx, deployer.Blue, deployer.SwitchOptions{Reason: "blue first"}); err != nil {
		t.Fatal(err)
	}
	f.advance(11 * time.Minute)
	if recs, err := d.Reconcile(ctx); err != nil || len(recs) != 1 {
		t.Fatalf("blue's promotion: %+v %v", recs, err)
	}
	if _, err := d.Switch(ctx, deployer.Green, deployer.SwitchOptions{Reason: "deploy 1.1.0"}); err != nil {
		t.Fatal(err)
	}
	st := f.status()
	if st.Active != deployer.Green || st.Colors[deployer.Blue].Standing.Phase != deployer.Stable || st.Colors[deployer.Green].Standing.Phase != deployer.Baking {
		t.Fatalf("fixture: %+v", st.Colors)
	}
	cs.ClearActions()
	return f
}

func (f *fakeCluster) status() *deployer.State {
	f.t.Helper()
	st, err := f.d.Status(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	return st
}

// selector is the color the active Service selects, read from the fake cluster.
func (f *fakeCluster) selector() string {
	f.t.Helper()
	svc, err := f.cs.CoreV1().Services(f.ns).Get(context.Background(), "remla", metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	return svc.Spec.Selector["color"]
}

// rollbacks counts the RolledBack records of the history.
func (f *fakeCluster) rollbacks() int {
	n := 0
	for _, r := range f.status().History {
		if r.Event == deployer.EventRolledBack {
			n++
		}
	}
	return n
}

func (f *fakeCluster) setReady(c deployer.Color, n int32) {
	f.t.Helper()
	deps := f.cs.AppsV1().Deployments(f.ns)
	dep, err := deps.Get(context.Background(), "remla-"+string(c), metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	dep.Status.ReadyReplicas = n
	if _, err := deps.Update(context.Background(), dep, metav1.UpdateOptions{}); err != nil {
		f.t.Fatal(err)
	}
}

// touched is the number of requests that reached the cluster since the fixture.
func (f *fakeCluster) touched() int { return len(f.cs.Actions()) }

const testToken = "s3cret-token"

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newTestServer(t testing.TB, o Options, clusters ...*fakeCluster) *Server {
	t.Helper()
	if o.Logger == nil {
		o.Logger = quietLogger()
	}
	var ds []*deployer.Deployer
	for _, c := range clusters {
		ds = append(ds, c.d)
	}
	s, err := NewServer(ds, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func readFixture(name string) ([]byte, error) { return os.ReadFile(filepath.Join("testdata", name)) }

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := readFixture(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type response struct {
	code int
	ans  Answer
	hdr  http.Header
}

func post(t *testing.T, s *Server, body []byte, token string) response {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rr := httptest.NewRecorder()
	s.ServeHTTP(rr, req)
	var a Answer
	if err := json.Unmarshal(rr.Body.Bytes(), &a); err != nil {
		t.Fatalf("answer is not JSON: %v: %q", err, rr.Body.String())
	}
	return response{code: rr.Code, ans: a, hdr: rr.Header()}
}

// withAlerts rewrites the firing fixture's alerts.
func withAlerts(t *testing.T, mutate func(m *Message)) []byte {
	t.Helper()
	var m Message
	if err := json.Unmarshal(fixture(t, "firing.json"), &m); err != nil {
		t.Fatal(err)
	}
	mutate(&m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFiringRollsBackToStable(t *testing.T) {
	f := greenBad(t, "remla")
	s := newTestServer(t, Options{Token: testToken}, f)
	r := post(t, s, fixture(t, "firing.json"), testToken)
	if r.code != http.StatusOK || r.ans.Result != ResultSwitched || r.ans.From != deployer.Green || r.ans.To != deployer.Blue || r.ans.Namespace != "remla" {
		t.Fatalf("got %d %+v, want 200 switched green->blue in remla", r.code, r.ans)
	}
	if f.selector() != "blue" {
		t.Fatalf("selector %s, want blue", f.selector())
	}
	st := f.status()
	var rec deployer.Record
	for _, h := range st.History {
		if h.Event == deployer.EventRolledBack {
			rec = h
			break
		}
	}
	if rec.Reason != "UsersUnsatisfied" || rec.By != "alert:UsersUnsatisfied" || rec.Incident != "6b0a9f2c1e7d4a35@2026-11-26T02:10:03.512Z" ||
		st.Colors[deployer.Green].Standing.Phase != deployer.Failed {
		t.Fatalf("history %+v, green %+v", rec, st.Colors[deployer.Green].Standing)
	}
	evs, err := f.cs.CoreV1().Events("remla").List(context.Background(), metav1.ListOptions{})
	if err != nil || len(evs.Items) == 0 {
		t.Fatalf("no Events recorded: %v", err)
	}
}

func TestRepeatedAndResolvedChangeNothing(t *testing.T) {
	f := greenBad(t, "remla")
	s := newTestServer(t, Options{}, f)
	steps := []struct {
		name      string
		body      string
		code      int
		result    Result
		rollbacks int
	}{
		{"first delivery", "firing.json", 200, ResultSwitched, 1},
		{"repeat_interval re-send", "firing.json", 200, ResultDuplicate, 1},
		{"another repeat", "firing.json", 200, ResultDuplicate, 1},
		{"resolved", "resolved.json", 200, ResultNoop, 1},
	}
	for _, st := range steps {
		r := post(t, s, fixture(t, st.body), "")
		if r.code != st.code || r.ans.Result != st.result || f.rollbacks() != st.rollbacks {
			t.Fatalf("%s: got %d %+v with %d rollbacks, want %d %s with %d", st.name, r.code, r.ans, f.rollbacks(), st.code, st.result, st.rollbacks)
		}
	}
	if f.selector() != "blue" {
		t.Fatalf("selector %s, want blue", f.selector())
	}
}

// TestRepeatAfterRestart: a new actor (empty memory) gets a repeat of an
// incident that already caused a rollback; the cluster history refuses it.
// The operator had meanwhile moved traffic back to green by hand, so only
// the history stands between the repeat and a second rollback.
func TestRepeatAfterRestart(t *testing.T) {
	f := greenBad(t, "remla")
	if r := post(t, newTestServer(t, Options{}, f), fixture(t, "firing.json"), ""); r.ans.Result != ResultSwitched {
		t.Fatalf("first: %+v", r.ans)
	}
	if _, err := f.d.Switch(context.Background(), deployer.Green, deployer.SwitchOptions{Reason: "operator override"}); err != nil {
		t.Fatal(err)
	}
	r := post(t, newTestServer(t, Options{}, f), fixture(t, "firing.json"), "")
	if r.code != http.StatusOK || r.ans.Result != ResultDuplicate || f.rollbacks() != 1 || f.selector() != "green" {
		t.Fatalf("got %d %+v, %d rollbacks, selector %s; want 200 duplicate, 1, green", r.code, r.ans, f.rollbacks(), f.selector())
	}
}

func TestDuplicateDeliveriesSwitchOnce(t *testing.T) {
	f := greenBad(t, "remla")
	s := newTestServer(t, Options{}, f)
	body := fixture(t, "firing.json")
	const n = 16
	var wg sync.WaitGroup
	results := make(chan Result, n)
	for range n {
		wg.Go(func() {
			req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
			rr := httptest.NewRecorder()
			s.ServeHTTP(rr, req)
			var a Answer
			json.Unmarshal(rr.Body.Bytes(), &a)
			results <- a.Result
		})
	}
	wg.Wait()
	close(results)
	count := map[Result]int{}
	for r := range results {
		count[r]++
	}
	if count[ResultSwitched] != 1 || count[ResultDuplicate] != n-1 || f.rollbacks() != 1 {
		t.Fatalf("results %v, %d rollbacks; want 1 switched, %d duplicate, 1 rollback", count, f.rollbacks(), n-1)
	}
}

func TestMixedGroupActsOnFiringRollbackAlertOnly(t *testing.T) {
	f := greenBad(t, "remla")
	r := post(t, newTestServer(t, Options{}, f), fixture(t, "mixed.json"), "")
	if r.code != http.StatusOK || r.ans.Result != ResultSwitched || f.rollbacks() != 1 {
		t.Fatalf("got %d %+v with %d rollbacks, want one", r.code, r.ans, f.rollbacks())
	}
	if len(r.ans.Alerts) != 1 || r.ans.Alerts[0].Alertname != "UsersUnsatisfied" {
		t.Fatalf("acted on %+v, want the firing UsersUnsatisfied only (not the resolved or unlabelled alert)", r.ans.Alerts)
	}
	// Only resolved and unlabelled alerts: nothing to do, the cluster untouched.
	f2 := greenBad(t, "remla")
	body := withAlerts(t, func(m *Message) {
		var mixed Message
		json.Unmarshal(fixture(t, "mixed.json"), &mixed)
		m.Alerts = mixed.Alerts[:2]
	})
	r = post(t, newTestServer(t, Options{}, f2), body, "")
	if r.code != http.StatusOK || r.ans.Result != ResultNoop || f2.touched() != 0 {
		t.Fatalf("got %d %+v, %d cluster requests; want noop without touching the cluster", r.code, r.ans, f2.touched())
	}
}

func TestNotActingCases(t *testing.T) {
	cases := []struct {
		name   string
		setup  func(f *fakeCluster)
		mutate func(m *Message)
		opts   Options
		result Result
		want   string // in the answer's message
	}{
		{"alert for the color without traffic", func(f *fakeCluster) {
			f.d.Switch(context.Background(), deployer.Blue, deployer.SwitchOptions{Reason: "back"})
		}, func(m *Message) {}, Options{}, ResultNoop, "green is not active (blue is)"},
		{"no stable color: blue was redeployed", func(f *fakeCluster) {
			deps := f.cs.AppsV1().Deployments(f.ns)
			deps.Update(context.Background(), fakeDeployment(f.ns, deployer.Blue, "3.0.0"), metav1.UpdateOptions{})
		}, func(m *Message) {}, Options{}, ResultRefused, "blue was stable at 1.0.0 but now runs 3.0.0"},
		{"rollback label not true", nil, func(m *Message) { m.Alerts[0].Labels["rollback"] = "false" }, Options{}, ResultNoop, "no firing alert"},
		{"group firing but the alert itself resolved", nil, func(m *Message) { m.Status = "firing"; m.Alerts[0].Status = "resolved" }, Options{}, ResultNoop, "no firing alert"},
		{"another namespace's release", nil, func(m *Message) { m.Alerts[0].Labels["namespace"] = "shop" }, Options{}, ResultNoop,
			"about namespace shop, which this actor does not guard (remla)"},
		{"another app in this namespace", nil, func(m *Message) { m.Alerts[0].Labels["app"] = "shop" }, Options{}, ResultNoop, "about app shop, not remla"},
		{"unscoped, without --accept-unscoped", nil, func(m *Message) {
			delete(m.Alerts[0].Labels, "namespace")
			delete(m.Alerts[0].Labels, "app")
		}, Options{}, ResultNoop, "--accept-unscoped"},
		{"unscoped from another namespace, with --accept-unscoped", nil, func(m *Message) {
			delete(m.Alerts[0].Labels, "app")
			m.Alerts[0].Labels["namespace"] = "shop"
		}, Options{AcceptUnscoped: true}, ResultNoop, "does not guard"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := greenBad(t, "remla")
			if c.setup != nil {
				c.setup(f)
			}
			before := f.selector()
			r := post(t, newTestServer(t, c.opts, f), withAlerts(t, c.mutate), "")
			if r.code != http.StatusOK || r.ans.Result != c.result || !strings.Contains(r.ans.Message, c.want) {
				t.Fatalf("got %d %+v, want 200 %s saying %q", r.code, r.ans, c.result, c.want)
			}
			if f.selector() != before || f.rollbacks() != 0 {
				t.Fatalf("traffic moved: selector %s (was %s)", f.selector(), before)
			}
		})
	}
}

// TestUnscopedAcceptedOnlyWithTheFlag: the seed's bare rules (no namespace
// or app label) act only when the actor is told to accept them.
func TestUnscopedAcceptedOnlyWithTheFlag(t *testing.T) {
	f := greenBad(t, "remla")
	body := withAlerts(t, func(m *Message) {
		delete(m.Alerts[0].Labels, "namespace")
		delete(m.Alerts[0].Labels, "app")
	})
	if r := post(t, newTestServer(t, Options{}, f), body, ""); r.ans.Result != ResultNoop || f.rollbacks() != 0 {
		t.Fatalf("unscoped without the flag: %+v", r.ans)
	}
	if r := post(t, newTestServer(t, Options{AcceptUnscoped: true}, f), body, ""); r.ans.Result != ResultSwitched || f.selector() != "blue" {
		t.Fatalf("unscoped with the flag: %+v", r.ans)
	}
}

// TestSeveralNamespaces: one actor guards two namespaces; an alert moves
// only its own namespace's traffic.
func TestSeveralNamespaces(t *testing.T) {
	cs := fake.NewSimpleClientset()
	a, b := greenBadOn(t, cs, "team-a"), greenBadOn(t, cs, "team-b")
	s := newTestServer(t, Options{}, a, b)
	body := withAlerts(t, func(m *Message) { m.Alerts[0].Labels["namespace"] = "team-b" })
	r := post(t, s, body, "")
	if r.ans.Result != ResultSwitched || r.ans.Namespace != "team-b" || b.selector() != "blue" || a.selector() != "green" {
		t.Fatalf("alert for team-b: %+v; selectors a=%s b=%s", r.ans, a.selector(), b.selector())
	}
	body = withAlerts(t, func(m *Message) { delete(m.Alerts[0].Labels, "namespace") })
	if r := post(t, newTestServer(t, Options{AcceptUnscoped: true}, a, b), body, ""); r.ans.Result != ResultNoop || !strings.Contains(r.ans.Message, "guards 2 namespaces") {
		t.Fatalf("an alert without namespace label, two namespaces guarded: %+v", r.ans)
	}
	if _, err := NewServer([]*deployer.Deployer{a.d, a.d}, Options{}); err == nil {
		t.Error("the same namespace twice: want an error")
	}
}

// TestMalformedAlertIsSkipped: one bad alert beside a good one is reported
// and skipped; the good one is acted on. Only bad alerts: 400.
func TestMalformedAlertIsSkipped(t *testing.T) {
	f := greenBad(t, "remla")
	var m map[string]any
	json.Unmarshal(fixture(t, "firing.json"), &m)
	good := m["alerts"].([]any)[0]
	m["alerts"] = []any{
		map[string]any{"status": "firing", "labels": "not a map"},
		map[string]any{"status": "burning", "labels": map[string]any{"alertname": "X"}},
		map[string]any{"status": "firing", "labels": map[string]any{"alertname": "NoFingerprint", "rollback": "true"}, "startsAt": "2026-11-26T02:10:03Z"},
		good,
	}
	body, _ := json.Marshal(m)
	s := newTestServer(t, Options{}, f)
	r := post(t, s, body, "")
	if r.code != http.StatusOK || r.ans.Result != ResultSwitched || len(r.ans.Skipped) != 3 || f.selector() != "blue" {
		t.Fatalf("got %d %+v, want 200 switched with 3 skipped", r.code, r.ans)
	}
	for i, want := range []string{"alerts[0] is not an alert", `alerts[1] has status "burning"`, "alerts[2] (firing, rollback=\"true\") has no fingerprint"} {
		if !strings.HasPrefix(r.ans.Skipped[i].Reason, want) {
			t.Errorf("skipped[%d] = %+v, want %q", i, r.ans.Skipped[i], want)
		}
	}
	m["alerts"] = m["alerts"].([]any)[:3]
	body, _ = json.Marshal(m)
	if r := post(t, s, body, ""); r.code != http.StatusBadRequest || r.ans.Result != ResultMalformed {
		t.Fatalf("only malformed alerts: %d %+v, want 400 malformed", r.code, r.ans)
	}
}

// TestHugeAlertFieldsAreCapped: a payload cannot bloat the history: what
// the actor records is capped.
func TestHugeAlertFieldsAreCapped(t *testing.T) {
	f := greenBad(t, "remla")
	body := withAlerts(t, func(m *Message) { m.Alerts[0].Labels["alertname"] = strings.Repeat("A", 200_000) })
	r := post(t, newTestServer(t, Options{MaxBodyBytes: 1 << 20}, f), body, "")
	if r.ans.Result != ResultSwitched || len(r.ans.Alerts[0].Alertname) > maxAlertname {
		t.Fatalf("got %+v", r.ans.Result)
	}
	svc, err := f.cs.CoreV1().Services("remla").Get(context.Background(), "remla", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(svc.Annotations["remla.io/history"]) + len(svc.Annotations["remla.io/standing"]); n > 8<<10 {
		t.Errorf("the state annotations hold %d bytes after one alert", n)
	}
}

func TestTargetNotReadyAnswers503ThenRetrySwitches(t *testing.T) {
	f := greenBad(t, "remla")
	f.setReady(deployer.Blue, 0)
	s := newTestServer(t, Options{}, f)
	r := post(t, s, fixture(t, "firing.json"), "")
	if r.code != http.StatusServiceUnavailable || r.ans.Result != ResultNotReady || !strings.Contains(r.ans.Message, "blue") {
		t.Fatalf("got %d %+v, want 503 not_ready naming blue", r.code, r.ans)
	}
	if f.selector() != "green" {
		t.Fatalf("traffic moved to a color that is not ready")
	}
	if g := f.status().Colors[deployer.Green].Standing; g.Phase != deployer.Failed {
		t.Errorf("green hit by a rollback alert while baking is %+v, want failed even though traffic could not move", g)
	}
	// Alertmanager retries; blue is ready now.
	f.setReady(deployer.Blue, 2)
	r = post(t, s, fixture(t, "firing.json"), "")
	if r.code != http.StatusOK || r.ans.Result != ResultSwitched || f.selector() != "blue" {
		t.Fatalf("retry: got %d %+v, selector %s; want switched to blue", r.code, r.ans, f.selector())
	}
}

func TestClusterErrorsAnswer5xx(t *testing.T) {
	t.Run("state unreadable", func(t *testing.T) {
		f := greenBad(t, "remla")
		f.cs.PrependReactor("get", "services", func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, errors.New("connection refused")
		})
		r := post(t, newTestServer(t, Options{}, f), fixture(t, "firing.json"), "")
		if r.code != http.StatusServiceUnavailable || r.ans.Result != ResultError {
			t.Fatalf("got %d %+v, want 503 error", r.code, r.ans)
		}
	})
	t.Run("update fails, then the retry switches", func(t *testing.T) {
		f := greenBad(t, "remla")
		failed := false
		f.cs.PrependReactor("update", "services", func(k8stesting.Action) (bool, runtime.Object, error) {
			if failed {
				return false, nil, nil
			}
			failed = true
			return true, nil, errors.New("etcdserver: request timed out")
		})
		s := newTestServer(t, Options{}, f)
		r := post(t, s, fixture(t, "firing.json"), "")
		if r.code != http.StatusServiceUnavailable || r.ans.Result != ResultError || f.selector() != "green" {
			t.Fatalf("got %d %+v, want 503 error", r.code, r.ans)
		}
		// Not remembered as handled: the retry switches.
		if r = post(t, s, fixture(t, "firing.json"), ""); r.ans.Result != ResultSwitched || f.selector() != "blue" {
			t.Fatalf("retry: %+v, want switched", r.ans)
		}
	})
}

func TestDryRunDoesNotSwitch(t *testing.T) {
	f := greenBad(t, "remla")
	before := len(f.status().History)
	r := post(t, newTestServer(t, Options{DryRun: true}, f), fixture(t, "firing.json"), "")
	if r.code != http.StatusOK || r.ans.Result != ResultDryRun || r.ans.To != deployer.Blue || f.selector() != "green" || len(f.status().History) != before {
		t.Fatalf("got %d %+v; want dry_run to blue and nothing written", r.code, r.ans)
	}
}

func TestRequestChecks(t *testing.T) {
	big := withAlerts(t, func(m *Message) { m.Alerts[0].Annotations["description"] = strings.Repeat("x", 4096) })
	cases := []struct {
		name   string
		method string
		body   []byte
		auth   string // full Authorization header
		code   int
		result Result
	}{
		{"no token", "POST", fixture(t, "firing.json"), "", 401, ResultUnauthorized},
		{"wrong token", "POST", fixture(t, "firing.json"), "Bearer nope", 401, ResultUnauthorized},
		{"token as a prefix of the right one", "POST", fixture(t, "firing.json"), "Bearer s3cret", 401, ResultUnauthorized},
		{"basic auth", "POST", fixture(t, "firing.json"), "Basic " + testToken, 401, ResultUnauthorized},
		{"not JSON", "POST", []byte("{not json"), "Bearer " + testToken, 400, ResultMalformed},
		{"empty body", "POST", nil, "Bearer " + testToken, 400, ResultMalformed},
		{"wrong version", "POST", withAlerts(t, func(m *Message) { m.Version = "3" }), "Bearer " + testToken, 400, ResultMalformed},
		{"its only alert has an unknown status", "POST", withAlerts(t, func(m *Message) { m.Alerts[0].Status = "burning" }), "Bearer " + testToken, 400, ResultMalformed},
		{"its only alert has no fingerprint", "POST", withAlerts(t, func(m *Message) { m.Alerts[0].Fingerprint = "" }), "Bearer " + testToken, 400, ResultMalformed},
		{"its only alert has no startsAt", "POST", withAlerts(t, func(m *Message) { m.Alerts[0].StartsAt = time.Time{} }), "Bearer " + testToken, 400, ResultMalformed},
		{"oversized", "POST", big, "Bearer " + testToken, 413, ResultTooLarge},
		{"GET", "GET", nil, "Bearer " + testToken, 405, ResultBadMethod},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := greenBad(t, "remla")
			s := newTestServer(t, Options{Token: testToken, MaxBodyBytes: 4096}, f)
			req := httptest.NewRequest(c.method, "/webhook", bytes.NewReader(c.body))
			if c.auth != "" {
				req.Header.Set("Authorization", c.auth)
			}
			rr := httptest.NewRecorder()
			s.ServeHTTP(rr, req)
			var a Answer
			if err := json.Unmarshal(rr.Body.Bytes(), &a); err != nil {
				t.Fatalf("answer not JSON: %q", rr.Body.String())
			}
			if rr.Code != c.code || a.Result != c.result || a.Message == "" {
				t.Fatalf("got %d %+v, want %d %s with a message", rr.Code, a, c.code, c.result)
			}
			if f.touched() != 0 {
				t.Fatalf("a refused request reached the cluster (%d requests)", f.touched())
			}
			if c.code == 401 && rr.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	// The right token, any case of "Bearer", is accepted.
	f := greenBad(t, "remla")
	s := newTestServer(t, Options{Token: testToken}, f)
	req := httptest.NewRequest("POST", "/webhook", bytes.NewReader(fixture(t, "firing.json")))
	req.Header.Set("Authorization", "bearer "+testToken)
	rr := httptest.NewRecorder()
	s.ServeHTTP(rr, req)
	if rr.Code != 200 || f.selector() != "blue" {
		t.Fatalf("right token: %d %s", rr.Code, rr.Body)
	}
}

func TestHealthzAndMetrics(t *testing.T) {
	f := greenBad(t, "remla")
	s := newTestServer(t, Options{Path: "/hook"}, f)
	s.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/hook", bytes.NewReader(fixture(t, "firing.json"))))
	s.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/hook", bytes.NewReader(fixture(t, "firing.json"))))
	s.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/hook", strings.NewReader("garbage")))
	s.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/hook", bytes.NewReader(withAlerts(t, func(m *Message) { m.Alerts[0].Labels["namespace"] = "x" }))))

	rr := httptest.NewRecorder()
	s.ServeHTTP(rr, httptest.NewRequest("GET", "/healthz", nil))
	if rr.Code != 200 {
		t.Fatalf("/healthz: %d", rr.Code)
	}
	// Every webhook counted once, by what the actor did (one switched, one
	// duplicate, one malformed, one out of scope: testdata/
	// metrics-after-rollback.prom); the state read from the cluster at
	// scrape time.
	hs := httptest.NewServer(s)
	defer hs.Close()
	if err := testutil.ScrapeAndCompare(hs.URL+"/metrics", bytes.NewReader(fixture(t, "metrics-after-rollback.prom")),
		"remla_alert_actor_webhooks_total", "remla_alert_actor_rollbacks_total", "remla_alert_actor_alerts_ignored_total",
		"remla_active_color", "remla_color_standing", "remla_alert_actor_state_up"); err != nil {
		t.Error(err)
	}
	if n := histogramCount(t, s.metrics.duration); n != 4 {
		t.Errorf("remla_alert_actor_webhook_duration_seconds_count = %d, want 4 (the POSTs)", n)
	}
	if ts := testutil.ToFloat64(s.metrics.lastRollback); ts == 0 {
		t.Error("last rollback timestamp not set after a rollback")
	}
	f.cs.PrependReactor("get", "services", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("down")
	})
	if err := testutil.ScrapeAndCompare(hs.URL+"/metrics", bytes.NewReader(fixture(t, "metrics-unreadable.prom")),
		"remla_alert_actor_state_up", "remla_active_color", "remla_color_standing"); err != nil {
		t.Errorf("with the cluster unreadable, want state_up 0 and no active color or standing: %v", err)
	}
}

// histogramCount is how many observations h holds.
func histogramCount(t *testing.T, h prometheus.Histogram) uint64 {
	t.Helper()
	var m dto.Metric
	if err := h.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetHistogram().GetSampleCount()
}

// TestReconcilePromotes: the actor's periodic pass records a color whose
// bake window passed as stable.
func TestReconcilePromotes(t *testing.T) {
	f := greenBad(t, "remla")
	s := newTestServer(t, Options{}, f)
	s.ReconcileOnce(context.Background())
	if g := f.status().Colors[deployer.Green].Standing; g.Phase != deployer.Baking {
		t.Fatalf("green inside its window: %+v", g)
	}
	f.advance(11 * time.Minute)
	s.ReconcileOnce(context.Background())
	svc, _ := f.cs.CoreV1().Services("remla").Get(context.Background(), "remla", metav1.GetOptions{})
	if !strings.Contains(svc.Annotations["remla.io/standing"], `"green":{"phase":"stable"`) {
		t.Fatalf("stored standing after the pass: %s", svc.Annotations["remla.io/standing"])
	}
	if n := testutil.ToFloat64(s.metrics.promotions); n != 1 {
		t.Errorf("remla_alert_actor_promotions_total = %v, want 1: the promotion is not counted", n)
	}
}

// TestSeenSetIsBounded: the in-memory seen-set forgets the oldest incidents
// beyond its limit (the cluster's history still refuses them).
func TestSeenSetIsBounded(t *testing.T) {
	s := newTestServer(t, Options{}, greenBad(t, "remla"))
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range seenLimit + 10 {
		s.remember(fmt.Sprintf("inc-%d", i))
	}
	s.remember("inc-20") // already known: not added twice
	if len(s.seen) != seenLimit || len(s.seenFIFO) != seenLimit {
		t.Fatalf("seen %d, fifo %d; want %d each", len(s.seen), len(s.seenFIFO), seenLimit)
	}
	if _, ok := s.seen["inc-9"]; ok {
		t.Error("the oldest incidents were not forgotten")
	}
	if _, ok := s.seen[fmt.Sprintf("inc-%d", seenLimit+9)]; !ok {
		t.Error("the newest incident was forgotten")
	}
}

// TestColdStandbyAnswers503ThenRetrySwitches: the stable color was scaled
// down by the standby policy; the actor starts its scale-up and answers 503
// with Retry-After at once, and the retry switches once it is ready.
func TestColdStandbyAnswers503ThenRetrySwitches(t *testing.T) {
	f := greenBad(t, "remla")
	ctx := context.Background()
	svcs := f.cs.CoreV1().Services("remla")
	svc, err := svcs.Get(ctx, "remla", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svc.Annotations["remla.io/standby"] = `{"blue":{"replicas":0,"restore":2,"since":"2026-11-26T01:00:00Z"}}`
	if _, err := svcs.Update(ctx, svc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	deps := f.cs.AppsV1().Deployments("remla")
	blue, _ := deps.Get(ctx, "remla-blue", metav1.GetOptions{})
	zero := int32(0)
	blue.Spec.Replicas, blue.Status.ReadyReplicas = &zero, 0
	if _, err := deps.Update(ctx, blue, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	s := newTestServer(t, Options{}, f)
	r := post(t, s, fixture(t, "firing.json"), "")
	if r.code != http.StatusServiceUnavailable || r.ans.Result != ResultNotReady || r.hdr.Get("Retry-After") == "" ||
		!strings.Contains(r.ans.Message, "cold standby") {
		t.Fatalf("got %d %+v (Retry-After %q), want 503 not_ready with Retry-After naming the cold standby", r.code, r.ans, r.hdr.Get("Retry-After"))
	}
	if blue, _ = deps.Get(ctx, "remla-blue", metav1.GetOptions{}); *blue.Spec.Replicas != 2 || f.selector() != "green" {
		t.Fatalf("blue has %d replicas (want 2, scaled up), selector %s (want green until blue is ready)", *blue.Spec.Replicas, f.selector())
	}
	f.setReady(deployer.Blue, 2)
	r = post(t, s, fixture(t, "firing.json"), "")
	if r.code != http.StatusOK || r.ans.Result != ResultSwitched || f.selector() != "blue" {
		t.Fatalf("retry: got %d %+v, selector %s; want switched to blue", r.code, r.ans, f.selector())
	}
	st := f.status()
	if st.Colors[deployer.Green].Standby == nil || st.Colors[deployer.Green].Standby.Mode != "warm" {
		t.Errorf("green after the rollback: %+v", st.Colors[deployer.Green].Standby)
	}
}

package alert

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/remla/tagger/deployer"
	"github.com/remla/tagger/test/clustertest"
)

// testConfig is REMLA's default configuration with the test cluster's chart values.
func testConfig() *deployer.Config {
	cfg := deployer.DefaultConfig()
	cfg.Values = clustertest.TestValues()
	return cfg
}

// realGreenBad initializes namespace ns on the test cluster (blue 1.0.0,
// stable) and deploys green 1.1.0, which takes the traffic and bakes.
func realGreenBad(t testing.TB, ctx context.Context, ns, who string) *deployer.Deployer {
	t.Helper()
	clustertest.AppImage(t, clustertest.Good, "1.0.0", "1.1.0")
	d, err := deployer.New(deployer.Options{Kubeconfig: clustertest.Kubeconfig(t), Namespace: ns, Identity: who, Config: testConfig()})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Init(ctx, "1.0.0", deployer.DeployOptions{Timeout: 2 * time.Minute}); err != nil {
		t.Fatalf("init: %v", err)
	}
	if err := d.Deploy(ctx, deployer.Green, "1.1.0", deployer.DeployOptions{Timeout: 2 * time.Minute}); err != nil {
		t.Fatalf("deploy green: %v", err)
	}
	return d
}

// firingIn is the firing fixture scoped to namespace ns.
func firingIn(t testing.TB, ns string) []byte {
	t.Helper()
	raw, err := readFixture("firing.json")
	if err != nil {
		t.Fatal(err)
	}
	var m Message
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m.Alerts[0].Labels[LabelNamespace] = ns
	b, _ := json.Marshal(m)
	return b
}

func realSelector(t *testing.T, ns string) string {
	t.Helper()
	svc, err := clustertest.Client(t).CoreV1().Services(ns).Get(context.Background(), "remla", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return svc.Spec.Selector["color"]
}

// TestRealDeployerNotReadyThenRollback drives the actor against the real
// deployer on the test cluster: with blue scaled to zero the actor answers
// 503 and traffic stays on green; once blue is back, Alertmanager's retry
// switches, and a repeat does not.
func TestRealDeployerNotReadyThenRollback(t *testing.T) {
	t.Parallel()
	ns := clustertest.Namespace(t)
	client := clustertest.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	d := realGreenBad(t, ctx, ns, "operator:test")
	scaleBlue := func(n int32) {
		t.Helper()
		deps := client.AppsV1().Deployments(ns)
		s, err := deps.GetScale(ctx, "remla-blue", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s.Spec.Replicas = n
		if _, err := deps.UpdateScale(ctx, "remla-blue", s, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		for {
			st, err := d.Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if ready := st.Colors[deployer.Blue].Ready; (n == 0 && ready == 0) || (n > 0 && ready > 0) {
				return
			}
			select {
			case <-ctx.Done():
				t.Fatalf("blue never reached %d ready replicas", n)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	s, err := NewServer([]*deployer.Deployer{d}, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	body := firingIn(t, ns)

	scaleBlue(0)
	r := post(t, s, body, "")
	if r.code != http.StatusServiceUnavailable || r.ans.Result != ResultNotReady {
		t.Fatalf("blue at 0 replicas: got %d %+v, want 503 not_ready", r.code, r.ans)
	}
	if c := realSelector(t, ns); c != "green" {
		t.Fatalf("selector moved to %s while blue had no ready replica", c)
	}

	scaleBlue(2)
	r = post(t, s, body, "")
	if r.code != http.StatusOK || r.ans.Result != ResultSwitched {
		t.Fatalf("retry with blue ready: got %d %+v, want 200 switched", r.code, r.ans)
	}
	if c := realSelector(t, ns); c != "blue" {
		t.Fatalf("selector %s after the rollback, want blue", c)
	}
	st, err := d.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rolledBack := 0
	for _, rec := range st.History {
		if rec.Event == deployer.EventRolledBack {
			rolledBack++
			if rec.Reason != "UsersUnsatisfied" || rec.By != "alert:UsersUnsatisfied" || rec.Incident != "6b0a9f2c1e7d4a35@2026-11-26T02:10:03.512Z" {
				t.Errorf("RolledBack record %+v", rec)
			}
		}
	}
	if rolledBack != 1 || st.Colors[deployer.Blue].Standing.Phase != deployer.Stable || st.Colors[deployer.Green].Standing.Phase != deployer.Failed {
		t.Fatalf("%d rollbacks, standings %+v", rolledBack, st.Colors)
	}
	if r = post(t, s, body, ""); r.ans.Result != ResultDuplicate {
		t.Fatalf("repeat: %+v, want duplicate", r.ans)
	}
	after, _ := d.Status(ctx)
	if len(after.History) != len(st.History) || realSelector(t, ns) != "blue" {
		t.Fatal("the repeat changed the state")
	}
}

// TestActorScopesByNamespace: one actor guarding two namespaces of the test
// cluster moves only the traffic of the namespace an alert names; an alert
// from a namespace it does not guard moves nothing.
func TestActorScopesByNamespace(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	a, b, other := clustertest.Namespace(t), clustertest.Namespace(t), clustertest.Namespace(t)
	da, db := realGreenBad(t, ctx, a, "operator:a"), realGreenBad(t, ctx, b, "operator:b")
	realGreenBad(t, ctx, other, "operator:other")
	s, err := NewServer([]*deployer.Deployer{da, db}, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if r := post(t, s, firingIn(t, other), ""); r.ans.Result != ResultNoop || realSelector(t, other) != "green" {
		t.Fatalf("alert from an unguarded namespace: %+v, its selector %s", r.ans, realSelector(t, other))
	}
	if r := post(t, s, firingIn(t, b), ""); r.ans.Result != ResultSwitched || r.ans.Namespace != b {
		t.Fatalf("alert for %s: %+v", b, r.ans)
	}
	if sa, sb, so := realSelector(t, a), realSelector(t, b), realSelector(t, other); sa != "green" || sb != "blue" || so != "green" {
		t.Fatalf("selectors after an alert for %s: %s=%s %s=%s %s=%s", b, a, sa, b, sb, other, so)
	}
}

// TestTwoActorsRace: two actors (two processes' worth of state) get the
// same incident at once; exactly one switch is made.
func TestTwoActorsRace(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ns := clustertest.Namespace(t)
	d1 := realGreenBad(t, ctx, ns, "alert-actor:one")
	d2, err := deployer.New(deployer.Options{Kubeconfig: clustertest.Kubeconfig(t), Namespace: ns, Identity: "alert-actor:two", Config: testConfig()})
	if err != nil {
		t.Fatal(err)
	}
	s1, _ := NewServer([]*deployer.Deployer{d1}, Options{Logger: quietLogger()})
	s2, _ := NewServer([]*deployer.Deployer{d2}, Options{Logger: quietLogger()})
	body := firingIn(t, ns)
	var wg sync.WaitGroup
	results := make([]Result, 2)
	start := make(chan struct{})
	for i, s := range []*Server{s1, s2} {
		wg.Go(func() {
			<-start
			results[i] = post(t, s, body, "").ans.Result
		})
	}
	close(start)
	wg.Wait()
	st, err := d1.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range st.History {
		if r.Event == deployer.EventRolledBack {
			n++
		}
	}
	count := map[Result]int{}
	for _, r := range results {
		count[r]++
	}
	if n != 1 || realSelector(t, ns) != "blue" || count[ResultSwitched] != 1 || count[ResultDuplicate] != 1 {
		t.Fatalf("results %v, %d rollbacks recorded, selector %s; want one switched, one duplicate, one rollback", results, n, realSelector(t, ns))
	}
}

// BenchmarkRealRollback measures the actor's handling of a rollback
// notification with the real deployer and API server of the test cluster
// (read the state, decide, one guarded update with the history, the
// Events). Each iteration an operator switch (not timed) puts green back;
// the alert is a new incident, and green is failed, so the target blue
// stays stable. One rollback per incident is what a real actor makes, so
// keep -benchtime small (client-go's rate limiter caps longer runs).
func BenchmarkRealRollback(b *testing.B) {
	ctx := context.Background()
	ns := clustertest.Namespace(b)
	d := realGreenBad(b, ctx, ns, "operator:bench")
	s, err := NewServer([]*deployer.Deployer{d}, Options{Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	msg, err := ParseMessage(firingIn(b, ns))
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		if i > 0 {
			if _, err := d.Switch(ctx, deployer.Green, deployer.SwitchOptions{Reason: "bench", By: "operator:bench"}); err != nil {
				b.Fatal(err)
			}
		}
		msg.Alerts[0].StartsAt = msg.Alerts[0].StartsAt.Add(time.Second)
		b.StartTimer()
		code, ans := s.Handle(ctx, msg)
		if code != http.StatusOK || ans.Result != ResultSwitched {
			b.Fatalf("%d %+v", code, ans)
		}
	}
}

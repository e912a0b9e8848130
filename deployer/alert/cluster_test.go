package alert

import (
	"context"
	"net/http"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/remla/tagger/deployer"
	"github.com/remla/tagger/test/clustertest"
)

// TestRealDeployerNotReadyThenRollback drives the actor against the real
// deployer on the test cluster: with blue scaled to zero the actor answers
// 503 and traffic stays on green; once blue is back, Alertmanager's retry
// switches, and a repeat does not.
func TestRealDeployerNotReadyThenRollback(t *testing.T) {
	kubeconfig := clustertest.Kubeconfig(t)
	ns := clustertest.Namespace(t)
	client := clustertest.Client(t)
	clustertest.AppImage(t, clustertest.Good, "1.0.0", "1.1.0")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cfg := deployer.DefaultConfig()
	d, err := deployer.New(deployer.Options{Kubeconfig: kubeconfig, Namespace: ns, Identity: "operator:test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Init(ctx, "1.0.0", deployer.DeployOptions{Timeout: 2 * time.Minute}); err != nil {
		t.Fatalf("init: %v", err)
	}
	if err := d.Deploy(ctx, deployer.Green, "1.1.0", deployer.DeployOptions{Timeout: 2 * time.Minute}); err != nil {
		t.Fatalf("deploy green: %v", err)
	}
	scaleBlue := func(n int32) {
		t.Helper()
		deps := client.AppsV1().Deployments(ns)
		s, err := deps.GetScale(ctx, cfg.Release(deployer.Blue), metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s.Spec.Replicas = n
		if _, err := deps.UpdateScale(ctx, cfg.Release(deployer.Blue), s, metav1.UpdateOptions{}); err != nil {
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
	selector := func() string {
		svc, err := client.CoreV1().Services(ns).Get(ctx, cfg.ActiveService, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return svc.Spec.Selector[cfg.Labels.Color]
	}
	s := NewServer(d, Options{Logger: quietLogger()})

	scaleBlue(0)
	r := post(t, s, fixture(t, "firing.json"), "")
	if r.code != http.StatusServiceUnavailable || r.ans.Result != ResultNotReady {
		t.Fatalf("blue at 0 replicas: got %d %+v, want 503 not_ready", r.code, r.ans)
	}
	if c := selector(); c != "green" {
		t.Fatalf("selector moved to %s while blue had no ready replica", c)
	}

	scaleBlue(2)
	r = post(t, s, fixture(t, "firing.json"), "")
	if r.code != http.StatusOK || r.ans.Result != ResultSwitched {
		t.Fatalf("retry with blue ready: got %d %+v, want 200 switched", r.code, r.ans)
	}
	if c := selector(); c != "blue" {
		t.Fatalf("selector %s after the rollback, want blue", c)
	}
	st, err := d.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rec := st.History[0]; rec.Reason != "UsersUnsatisfied" || rec.By != "alert:UsersUnsatisfied" || !rec.Rollback ||
		rec.Incident != "6b0a9f2c1e7d4a35@2026-11-26T02:10:03.512Z" || st.LastGood != deployer.Blue {
		t.Fatalf("history %+v, last good %s", rec, st.LastGood)
	}
	if r = post(t, s, fixture(t, "firing.json"), ""); r.ans.Result != ResultDuplicate {
		t.Fatalf("repeat: %+v, want duplicate", r.ans)
	}
	after, _ := d.Status(ctx)
	if len(after.History) != len(st.History) || selector() != "blue" {
		t.Fatal("the repeat changed the state")
	}
}

// BenchmarkRealRollback measures the actor's handling of a rollback
// notification with the real deployer and API server of the test cluster
// (read the state, switch with the history record). Each iteration an
// operator switch (not timed) puts green back and the alert is a new incident.
func BenchmarkRealRollback(b *testing.B) {
	kubeconfig := clustertest.Kubeconfig(b)
	ns := clustertest.Namespace(b)
	clustertest.AppImage(b, clustertest.Good, "1.0.0", "1.1.0")
	ctx := context.Background()
	d, err := deployer.New(deployer.Options{Kubeconfig: kubeconfig, Namespace: ns, Identity: "operator:bench"})
	if err != nil {
		b.Fatal(err)
	}
	if err := d.Init(ctx, "1.0.0", deployer.DeployOptions{Timeout: 2 * time.Minute}); err != nil {
		b.Fatalf("init: %v", err)
	}
	if err := d.Deploy(ctx, deployer.Green, "1.1.0", deployer.DeployOptions{Timeout: 2 * time.Minute}); err != nil {
		b.Fatalf("deploy green: %v", err)
	}
	s := NewServer(d, Options{Logger: quietLogger()})
	msg, err := ParseMessage(mustFixture(b, "firing.json"))
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		if _, err := d.Switch(ctx, deployer.Green, deployer.SwitchOptions{Reason: "bench", By: "operator:bench"}); err != nil {
			b.Fatal(err)
		}
		msg.Alerts[0].StartsAt = msg.Alerts[0].StartsAt.Add(time.Second)
		b.StartTimer()
		code, ans := s.Handle(ctx, msg)
		if code != http.StatusOK || ans.Result != ResultSwitched {
			b.Fatalf("%d %+v", code, ans)
		}
	}
}

func mustFixture(b *testing.B, name string) []byte {
	raw, err := readFixture(name)
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

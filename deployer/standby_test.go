package deployer

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func ptr[T any](v T) *T { return &v }

// TestScaleDownDue: when the policy will scale the standby down, on
// hand-made views.
func TestScaleDownDue(t *testing.T) {
	blue1, green2 := deployment(Blue, "1.0.0", 2), deployment(Green, "2.0.0", 2)
	stableGreen := at(Stable, green2) // since t0
	after := 5 * time.Minute
	cases := []struct {
		name    string
		policy  Standby
		v       *view
		color   Color
		due     time.Time
		noneDue bool
	}{
		{"no policy: warm forever", Standby{}, newView(Green, t0, map[Color]Standing{Green: stableGreen}, blue1, green2), "", time.Time{}, true},
		{"active stable since t0", Standby{Replicas: ptr[int32](0)}, newView(Green, t0, map[Color]Standing{Green: stableGreen}, blue1, green2), Blue, t0.Add(after), false},
		{"active still baking: the standby is its rollback target", Standby{Replicas: ptr[int32](0)},
			newView(Green, t0, map[Color]Standing{Green: {Phase: Baking, Version: "2.0.0", Template: tpl(green2), Since: t0, Until: t0.Add(time.Hour)}}, blue1, green2), "", time.Time{}, true},
		{"already at the policy's replicas", Standby{Replicas: ptr[int32](2)}, newView(Green, t0, map[Color]Standing{Green: stableGreen}, blue1, green2), "", time.Time{}, true},
		{"switched to later than it became stable", Standby{Replicas: ptr[int32](1)}, func() *view {
			v := newView(Green, t0.Add(time.Hour), map[Color]Standing{Green: stableGreen}, blue1, green2)
			v.st.History = []Record{{Time: t0.Add(30 * time.Minute), Event: EventSwitched, To: Green}}
			return v
		}(), Blue, t0.Add(30*time.Minute + after), false},
		{"the standby deployed again later (--no-switch)", Standby{Replicas: ptr[int32](0)}, func() *view {
			v := newView(Green, t0.Add(time.Hour), map[Color]Standing{Green: stableGreen}, blue1, green2)
			v.st.History = []Record{{Time: t0.Add(50 * time.Minute), Event: EventDeployed, Color: Blue}, {Time: t0, Event: EventSwitched, To: Green}}
			return v
		}(), Blue, t0.Add(50*time.Minute + after), false},
		{"already cold", Standby{Replicas: ptr[int32](0)}, func() *view {
			v := newView(Green, t0, map[Color]Standing{Green: stableGreen}, blue1, green2)
			v.st.Cold = map[Color]Cold{Blue: {Replicas: 0, Restore: 2}}
			return v
		}(), "", time.Time{}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := unitDeployer()
			d.cfg.Standby = c.policy
			d.cfg.Standby.ScaleDownAfter = metav1.Duration{Duration: after}
			col, due, ok := d.scaleDownDue(c.v)
			if ok == c.noneDue || col != c.color || !due.Equal(c.due) {
				t.Errorf("got %q at %s (%v), want %q at %s", col, due, ok, c.color, c.due)
			}
		})
	}
}

// standbyCluster is a fake cluster where blue 1.0.0 is stable and green
// 2.0.0 took the traffic and became stable at t0+10m, with the policy
// standby: {scaleDownAfter: 5m, replicas: 0}; reached through the
// deployer's own operations.
type standbyCluster struct {
	cs  *fake.Clientset
	d   *Deployer
	mu  sync.Mutex
	now time.Time
}

func (f *standbyCluster) advance(by time.Duration) { f.mu.Lock(); f.now = f.now.Add(by); f.mu.Unlock() }

func newStandbyCluster(t *testing.T) *standbyCluster {
	t.Helper()
	f := &standbyCluster{now: t0}
	blue, green := deployment(Blue, "1.0.0", 2), deployment(Green, "2.0.0", 2)
	f.cs = fake.NewClientset(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ns"}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "remla", Namespace: "ns"},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "remla", "color": "green"}}},
		blue, green)
	cfg := DefaultConfig()
	cfg.Standby = Standby{ScaleDownAfter: metav1.Duration{Duration: 5 * time.Minute}, Replicas: ptr[int32](0)}
	d, err := New(Options{Client: f.cs, Namespace: "ns", Config: cfg, Identity: "operator:test", Logger: slog.New(slog.DiscardHandler),
		Clock: func() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	f.d = d
	ctx := context.Background()
	if _, err := d.Switch(ctx, Blue, SwitchOptions{Reason: "blue first"}); err != nil {
		t.Fatal(err)
	}
	f.advance(11 * time.Minute)
	if _, err := d.Switch(ctx, Green, SwitchOptions{Reason: "deploy 2.0.0"}); err != nil {
		t.Fatal(err)
	}
	f.advance(10 * time.Minute)
	return f
}

func (f *standbyCluster) replicas(t *testing.T, c Color) (spec, ready int32) {
	t.Helper()
	dep, err := f.cs.AppsV1().Deployments("ns").Get(context.Background(), "remla-"+string(c), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return *dep.Spec.Replicas, dep.Status.ReadyReplicas
}

// setReady plays the Deployment controller and kubelet: n replicas ready.
func (f *standbyCluster) setReady(t *testing.T, c Color, n int32) {
	t.Helper()
	deps := f.cs.AppsV1().Deployments("ns")
	dep, err := deps.Get(context.Background(), "remla-"+string(c), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dep.Status.ReadyReplicas, dep.Status.AvailableReplicas = n, n
	if _, err := deps.UpdateStatus(context.Background(), dep, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func kinds(recs []Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, string(r.Kind()))
	}
	return out
}

// TestStandbyScaleDownThenColdRollback: the policy scales the standby down
// when due (not before, once), status says cold, and a rollback scales it
// back up: without waiting (the actor: ErrNotReady, once recorded), then
// switching once it is ready.
func TestStandbyScaleDownThenColdRollback(t *testing.T) {
	f := newStandbyCluster(t)
	ctx := context.Background()
	st, _ := f.d.Status(ctx)
	if sb := st.Colors[Blue].Standby; sb == nil || sb.Mode != "warm" || !sb.ScaleDownAt.Equal(t0.Add(26*time.Minute)) {
		t.Fatalf("blue before the deadline: %+v", sb)
	}
	f.advance(4 * time.Minute)
	if recs, err := f.d.Reconcile(ctx); err != nil || strings.Join(kinds(recs), ",") != "Promoted" {
		t.Fatalf("before the deadline: %v %v, want green's promotion only", kinds(recs), err)
	}
	f.advance(time.Minute)
	recs, err := f.d.Reconcile(ctx)
	if err != nil || strings.Join(kinds(recs), ",") != "ScaledDown" || recs[0].Color != Blue {
		t.Fatalf("at the deadline: %v %v", kinds(recs), err)
	}
	if spec, _ := f.replicas(t, Blue); spec != 0 {
		t.Fatalf("blue has %d replicas, want 0", spec)
	}
	if recs, err := f.d.Reconcile(ctx); err != nil || len(recs) != 0 {
		t.Fatalf("a second pass: %v %v, want nothing", kinds(recs), err)
	}
	f.setReady(t, Blue, 0)
	st, _ = f.d.Status(ctx)
	if sb := st.Colors[Blue].Standby; sb == nil || sb.Mode != "cold" || st.Rollback.To != Blue || st.Rollback.ScaleUp != 2 {
		t.Fatalf("blue after the scale-down: %+v, rollback plan %+v", sb, st.Rollback)
	}
	if _, err := f.d.Switch(ctx, Blue, SwitchOptions{Reason: "x"}); !errors.Is(err, ErrNotReady) || !strings.Contains(err.Error(), "cold standby") {
		t.Fatalf("a switch to the cold standby: %v", err)
	}

	// The actor's call: start the scale-up, answer at once.
	req := RollbackRequest{Reason: "HighErrorRate", By: "alert:HighErrorRate", Incident: "fp@t", Color: Green, NoWait: true}
	res, err := f.d.Rollback(ctx, req)
	if !errors.Is(err, ErrNotReady) || res.Outcome != OutcomeScalingUp || res.ScaleUp != 2 || strings.Join(kinds(res.Records), ",") != "ScaledUp" {
		t.Fatalf("rollback to the cold blue, no wait: %+v %v", res, err)
	}
	if spec, _ := f.replicas(t, Blue); spec != 2 {
		t.Fatalf("blue scaled to %d, want 2", spec)
	}
	if recs, _ := f.d.Reconcile(ctx); len(recs) != 0 {
		t.Fatalf("the policy must leave a warming standby alone: %v", kinds(recs))
	}
	if spec, _ := f.replicas(t, Blue); spec != 2 {
		t.Fatal("the policy scaled the warming standby down again")
	}
	res, err = f.d.Rollback(ctx, req) // Alertmanager's retry, still not ready
	if !errors.Is(err, ErrNotReady) || len(res.Records) != 0 {
		t.Fatalf("the retry while warming: %+v %v, want ErrNotReady and nothing recorded", res, err)
	}
	f.setReady(t, Blue, 2)
	res, err = f.d.Rollback(ctx, req)
	if err != nil || res.Outcome != OutcomeRolledBack || res.To != Blue {
		t.Fatalf("the retry once ready: %+v %v", res, err)
	}
	st, _ = f.d.Status(ctx)
	if st.Active != Blue || st.Colors[Green].Standby == nil || st.Colors[Green].Standby.Mode != "warm" || st.Colors[Blue].Standby != nil {
		t.Fatalf("after the rollback: active %s, green standby %+v", st.Active, st.Colors[Green].Standby)
	}
}

// TestColdRollbackWaits: the operator's rollback scales the cold color up
// and waits until it is ready before it switches.
func TestColdRollbackWaits(t *testing.T) {
	f := newStandbyCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f.advance(5 * time.Minute)
	if _, err := f.d.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	f.setReady(t, Blue, 0)
	dry, err := f.d.Rollback(ctx, RollbackRequest{Reason: "check", DryRun: true})
	if err != nil || dry.Outcome != OutcomeDryRun || dry.ScaleUp != 2 || !strings.Contains(dry.Message, "cold standby") {
		t.Fatalf("dry run: %+v %v", dry, err)
	}
	if spec, _ := f.replicas(t, Blue); spec != 0 {
		t.Fatal("the dry run scaled blue")
	}
	go func() {
		// The controller: blue becomes ready once it is scaled up.
		for ctx.Err() == nil {
			if spec, _ := f.replicas(t, Blue); spec == 2 {
				f.setReady(t, Blue, 2)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	res, err := f.d.Rollback(ctx, RollbackRequest{Reason: "2.0.0 hurts"})
	if err != nil || res.Outcome != OutcomeRolledBack || res.To != Blue {
		t.Fatalf("%+v %v", res, err)
	}
	if _, ready := f.replicas(t, Blue); ready != 2 {
		t.Fatalf("switched with %d ready replicas", ready)
	}
	h, _ := f.d.Status(ctx)
	if got := strings.Join(kinds(h.History[:3]), ","); got != "MarkedFailed,RolledBack,ScaledUp" {
		t.Errorf("history, newest first: %s", got)
	}
}

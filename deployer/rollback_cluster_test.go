package deployer

// Rollback on the real control plane of test/cluster: traffic (the Service
// selector and its ready endpoints), the standing Status shows, and the
// Events on the active Service. The tests need only readiness and the
// selector, so they run the same on kwok and on a real node.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/remla/tagger/test/clustertest"
)

// events returns the Events on the active Service, oldest first.
func events(t *testing.T, d *Deployer) []corev1.Event {
	t.Helper()
	evs, err := d.client.CoreV1().Events(d.ns).List(testCtx(t), metav1.ListOptions{FieldSelector: "involvedObject.kind=Service,involvedObject.name=remla"})
	if err != nil {
		t.Fatal(err)
	}
	return evs.Items
}

// wantEvent finds an Event by reason whose message holds every part.
func wantEvent(t *testing.T, d *Deployer, reason, typ string, parts ...string) corev1.Event {
	t.Helper()
	var seen []string
	for _, e := range events(t, d) {
		ok := e.Reason == reason && e.Type == typ
		for _, p := range parts {
			ok = ok && strings.Contains(e.Message, p)
		}
		if ok {
			if e.Source.Component != "remlactl" || e.Annotations["remla.io/by"] == "" {
				t.Errorf("Event %s: source %+v, by %q", e.Reason, e.Source, e.Annotations["remla.io/by"])
			}
			return e
		}
		seen = append(seen, e.Reason+" "+e.Type+": "+e.Message)
	}
	t.Fatalf("no %s Event of type %s with %q on Service remla; have:\n%s", reason, typ, parts, strings.Join(seen, "\n"))
	return corev1.Event{}
}

func countEvents(t *testing.T, d *Deployer, reason string) int {
	t.Helper()
	n := 0
	for _, e := range events(t, d) {
		if e.Reason == reason {
			n++
		}
	}
	return n
}

func standing(t *testing.T, d *Deployer, c Color) Standing {
	t.Helper()
	return mustStatus(t, d).Colors[c].Standing
}

// TestRollbackReturnsToStable: green 2.0.0 bakes after its deploy; the
// operator's rollback moves traffic to blue, stable since init, and marks
// green failed at 2.0.0; a second rollback has no stable target and is
// refused, traffic staying on blue.
func TestRollbackReturnsToStable(t *testing.T) {
	t.Parallel()
	_, d, ctx := initialized(t, "operator:alice", "1.0.0")
	wantEvent(t, d, "Promoted", "Normal", "blue 1.0.0 is stable", "init: nothing to compare it with", "by operator:alice")
	if err := d.Deploy(ctx, Green, "2.0.0", quick); err != nil {
		t.Fatal(err)
	}
	st := mustStatus(t, d)
	g, b := st.Colors[Green].Standing, st.Colors[Blue].Standing
	if g.Phase != Baking || g.Version != "2.0.0" || g.Until.Sub(g.Since) != DefaultBakeWindow || b.Phase != Stable || b.Version != "1.0.0" {
		t.Fatalf("after deploy green: green %+v, blue %+v; want green baking 10m at 2.0.0, blue stable at 1.0.0", g, b)
	}
	if st.Rollback.To != Blue || st.Rollback.Version != "1.0.0" {
		t.Errorf("status's rollback plan %+v, want blue 1.0.0", st.Rollback)
	}
	wantEvent(t, d, "Deployed", "Normal", "green 2.0.0")
	wantEvent(t, d, "Switched", "Normal", "traffic moved from blue to green (2.0.0)", "deploy 2.0.0")

	res, err := d.Rollback(ctx, RollbackRequest{Reason: "tags look worse"})
	if err != nil || res.Outcome != OutcomeRolledBack || res.From != Green || res.To != Blue || res.ToVersion != "1.0.0" {
		t.Fatalf("rollback: %+v %v", res, err)
	}
	if sel := activeSelector(t, d); sel != "blue" {
		t.Fatalf("selector %s after the rollback", sel)
	}
	endpointColors(t, d, "blue")
	st = mustStatus(t, d)
	if g := st.Colors[Green].Standing; g.Phase != Failed || g.Version != "2.0.0" || !strings.Contains(g.Reason, "rolled back: tags look worse") || g.By != "operator:alice" {
		t.Errorf("green after the rollback: %+v", g)
	}
	if st.Colors[Blue].Standing.Phase != Stable || st.History[1].Event != EventRolledBack || st.History[0].Event != EventMarkedFailed {
		t.Errorf("after the rollback: blue %+v, newest records %+v", st.Colors[Blue].Standing, st.History[:2])
	}
	wantEvent(t, d, "RolledBack", "Warning", "traffic moved from green to blue (1.0.0)", "tags look worse", "by operator:alice")
	wantEvent(t, d, "MarkedFailed", "Warning", "green 2.0.0 is failed")

	// Nothing stable to return to now: refused, and said why.
	res, err = d.Rollback(ctx, RollbackRequest{Reason: "again"})
	if !errors.Is(err, ErrNoStable) || res.Outcome != OutcomeRefused || !strings.Contains(err.Error(), "green is failed at 2.0.0") {
		t.Fatalf("second rollback: %+v %v, want refused: green is failed", res, err)
	}
	if sel := activeSelector(t, d); sel != "blue" {
		t.Fatalf("a refused rollback moved traffic to %s", sel)
	}
	wantEvent(t, d, "RollbackRefused", "Warning", "rollback from blue refused", "green is failed at 2.0.0")
	if st := mustStatus(t, d); st.Rollback.To != "" || !strings.Contains(st.Rollback.Refused, "green is failed") {
		t.Errorf("status's rollback plan %+v, want the refusal", st.Rollback)
	}
}

// TestSwitchAwayWhileBakingFailsTheColor is the first case: green
// 2.0.0 deployed, then at once `switch blue --reason "green broken"`. Green
// is failed, not a rollback target: an alert on blue changes nothing.
func TestSwitchAwayWhileBakingFailsTheColor(t *testing.T) {
	t.Parallel()
	_, d, ctx := initialized(t, "operator:ana", "1.0.0")
	if err := d.Deploy(ctx, Green, "2.0.0", quick); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Switch(ctx, Blue, SwitchOptions{Reason: "green broken"}); err != nil {
		t.Fatal(err)
	}
	endpointColors(t, d, "blue")
	g := standing(t, d, Green)
	if g.Phase != Failed || g.Version != "2.0.0" || !strings.Contains(g.Reason, "switched away during its bake window: green broken") {
		t.Fatalf("green after switching away: %+v", g)
	}
	wantEvent(t, d, "MarkedFailed", "Warning", "green 2.0.0 is failed", "green broken", "by operator:ana")

	alert := RollbackRequest{Reason: "UsersUnsatisfied", By: "alert:UsersUnsatisfied", Incident: "fp1@2026-11-26T02:10:03Z", Color: Blue}
	res, err := d.Rollback(ctx, alert)
	if !errors.Is(err, ErrNoStable) || res.Outcome != OutcomeRefused || res.To != Green {
		t.Fatalf("alert on blue: %+v %v, want refused", res, err)
	}
	if sel := activeSelector(t, d); sel != "blue" {
		t.Fatalf("an alert on blue sent traffic to %s", sel)
	}
	endpointColors(t, d, "blue")
	wantEvent(t, d, "RollbackRefused", "Warning", "green is failed at 2.0.0", "by alert:UsersUnsatisfied", "incident fp1@")
	// Alertmanager's repeats of that incident do not record it again.
	before := mustStatus(t, d)
	for range 3 {
		if _, err := d.Rollback(ctx, alert); !errors.Is(err, ErrNoStable) {
			t.Fatalf("repeat: %v", err)
		}
	}
	if after := mustStatus(t, d); len(after.History) != len(before.History) || countEvents(t, d, "RollbackRefused") != 1 {
		t.Errorf("repeats of a refused incident wrote %d records and %d Events", len(after.History)-len(before.History), countEvents(t, d, "RollbackRefused"))
	}
}

// TestRedeployedStableColorIsNoTarget is the second case: blue
// was stable at 1.0.0, then redeployed as 3.0.0 with --no-switch. An alert
// on green must not send traffic to the untested 3.0.0.
func TestRedeployedStableColorIsNoTarget(t *testing.T) {
	t.Parallel()
	ns := clustertest.Namespace(t)
	d, ctx := bakedGreen(t, ns)
	if err := d.Deploy(ctx, Blue, "3.0.0", DeployOptions{Timeout: rolloutTimeout, NoSwitch: true}); err != nil {
		t.Fatal(err)
	}
	b := standing(t, d, Blue)
	if b.Phase != Unproven || b.Version != "3.0.0" || !strings.Contains(b.Reason, "deployed") {
		t.Fatalf("blue redeployed as 3.0.0: %+v, want unproven", b)
	}
	wantEvent(t, d, "Deployed", "Normal", "blue 3.0.0 is unproven")
	res, err := d.Rollback(ctx, RollbackRequest{Reason: "UsersUnsatisfied", By: "alert:UsersUnsatisfied", Incident: "fp2@t", Color: Green})
	if !errors.Is(err, ErrNoStable) || res.Outcome != OutcomeRefused || !strings.Contains(err.Error(), "blue is unproven at 3.0.0") {
		t.Fatalf("alert on green: %+v %v, want refused naming blue 3.0.0", res, err)
	}
	if sel := activeSelector(t, d); sel != "green" {
		t.Fatalf("an alert on green sent traffic to blue 3.0.0 (selector %s)", sel)
	}
	endpointColors(t, d, "green")
	if g := standing(t, d, Green); g.Phase != Stable {
		t.Errorf("green, stable and still active, is %+v after a refused rollback", g)
	}
	wantEvent(t, d, "RollbackRefused", "Warning", "blue is unproven at 3.0.0")

	// The operator may override, and the history says so.
	res, err = d.Rollback(ctx, RollbackRequest{Reason: "I know 3.0.0", To: Blue})
	if err != nil || res.Outcome != OutcomeRolledBack || activeSelector(t, d) != "blue" {
		t.Fatalf("rollback --to blue: %+v %v", res, err)
	}
	st := mustStatus(t, d)
	if r := moves(st.History)[0]; !r.Override || !strings.Contains(r.Reason, "override: blue was unproven at 3.0.0") {
		t.Errorf("the override is not in the history: %+v", r)
	}
	if st.Colors[Blue].Standing.Phase != Baking || st.Colors[Green].Standing.Phase != Failed {
		t.Errorf("after the override: %+v", st.Colors)
	}
	wantEvent(t, d, "RolledBack", "Warning", "override: the target was not stable")
}

// TestRollbackRaces: two actors handling one incident at once, and an actor
// racing an operator's rollback: each round moves traffic exactly once.
func TestRollbackRaces(t *testing.T) {
	t.Parallel()
	ns := clustertest.Namespace(t)
	ctx := testCtx(t)
	op := newTestDeployer(t, ns, "operator:op")
	a1, a2 := newTestDeployer(t, ns, "alert-actor:one"), newTestDeployer(t, ns, "alert-actor:two")
	if err := op.Init(ctx, "1", quick); err != nil {
		t.Fatal(err)
	}
	if err := op.Deploy(ctx, Green, "2", DeployOptions{Timeout: rolloutTimeout, NoSwitch: true}); err != nil {
		t.Fatal(err)
	}
	const rounds = 2 // actor against actor, then actor against operator
	for round := range rounds {
		// Green takes the traffic and bakes.
		if _, err := op.Switch(ctx, Green, SwitchOptions{Reason: fmt.Sprint("round ", round)}); err != nil {
			t.Fatal(err)
		}
		racers := []struct {
			d   *Deployer
			req RollbackRequest
		}{
			{a1, RollbackRequest{Reason: "UsersUnsatisfied", By: "alert:UsersUnsatisfied", Incident: fmt.Sprint("fp@", round), Color: Green}},
			{a2, RollbackRequest{Reason: "UsersUnsatisfied", By: "alert:UsersUnsatisfied", Incident: fmt.Sprint("fp@", round), Color: Green}},
		}
		if round%2 == 1 {
			racers[1] = struct {
				d   *Deployer
				req RollbackRequest
			}{op, RollbackRequest{Reason: "operator"}}
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		results := make([]*RollbackResult, 2)
		errs := make([]error, 2)
		for i, r := range racers {
			wg.Go(func() {
				<-start
				results[i], errs[i] = r.d.Rollback(ctx, r.req)
			})
		}
		close(start)
		wg.Wait()
		won := 0
		for i := range 2 {
			switch {
			case errs[i] == nil && results[i].Outcome == OutcomeRolledBack:
				won++
			case errors.Is(errs[i], ErrIncidentSeen), errors.Is(errs[i], ErrNoStable),
				errs[i] == nil && results[i].Outcome == OutcomeNotActive:
			default:
				t.Fatalf("round %d: racer %d: %+v %v", round, i, results[i], errs[i])
			}
		}
		if won != 1 || activeSelector(t, op) != "blue" {
			t.Fatalf("round %d: %d rollbacks won (%v), selector %s; want exactly one, blue", round, won, errs, activeSelector(t, op))
		}
		// Green is deployed again at a new version, so the next round
		// starts from an unproven green and a stable blue.
		if err := op.Deploy(ctx, Green, fmt.Sprint("2.", round), DeployOptions{Timeout: rolloutTimeout, NoSwitch: true}); err != nil {
			t.Fatal(err)
		}
	}
	if n := countEvents(t, op, "RolledBack"); n != rounds {
		t.Errorf("%d RolledBack Events, want %d", n, rounds)
	}
}

// TestRollbackCapsWhatItRecords: a request with huge fields (as a forged
// alert could carry) is recorded capped, so later writes still fit in the
// Service's annotations.
func TestRollbackCapsWhatItRecords(t *testing.T) {
	t.Parallel()
	ns, d, ctx := initialized(t, "operator:x", "1")
	if err := d.Deploy(ctx, Green, "2", quick); err != nil {
		t.Fatal(err)
	}
	huge := strings.Repeat("x", 200_000)
	for i := range 3 {
		_, err := d.Rollback(ctx, RollbackRequest{Reason: huge, By: "alert:" + huge, Incident: fmt.Sprint(i, huge), Color: Green})
		if err != nil && !errors.Is(err, ErrNoStable) {
			t.Fatalf("rollback %d with huge fields: %v", i, err)
		}
	}
	svc, err := d.client.CoreV1().Services(ns).Get(context.Background(), "remla", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for k, v := range svc.Annotations {
		total += len(k) + len(v)
	}
	if total > 16<<10 {
		t.Errorf("annotations hold %d bytes after three huge requests", total)
	}
	if _, err := d.Switch(ctx, Green, SwitchOptions{Reason: "still writable", Force: true}); err != nil {
		t.Errorf("a switch after the huge requests: %v", err)
	}
}

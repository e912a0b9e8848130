package deployer

// The standing model on the real control plane: bake windows of a second or
// two, promotion seen by readers and persisted by writers, and what clears a
// stable mark.

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/remla/tagger/test/clustertest"
)

// storedStanding is the standing annotation as written, not as read.
func storedStanding(t *testing.T, d *Deployer, c Color) Standing {
	t.Helper()
	svc, err := d.client.CoreV1().Services(d.ns).Get(context.Background(), "remla", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var m map[Color]Standing
	if err := json.Unmarshal([]byte(svc.Annotations[annoStanding]), &m); err != nil {
		t.Fatal(err)
	}
	return m[c]
}

// bakedGreen is namespace ns after init 1.0.0 (blue stable) and green 2.0.0
// deployed with a one-second bake window and waited out: both stable,
// green active.
func bakedGreen(t *testing.T, ns string) (*Deployer, context.Context) {
	t.Helper()
	d := newTestDeployer(t, ns, "operator:ana")
	ctx := testCtx(t)
	if err := d.Init(ctx, "1.0.0", quick); err != nil {
		t.Fatal(err)
	}
	if err := d.Deploy(ctx, Green, "2.0.0", DeployOptions{Timeout: rolloutTimeout, Bake: time.Second}); err != nil {
		t.Fatal(err)
	}
	if s, err := d.Bake(ctx, Green, nil); err != nil || s.Phase != Stable {
		t.Fatalf("green's bake: %+v %v", s, err)
	}
	return d, ctx
}

// TestBakeWindowPromotes: a color that stays active through its bake window
// is stable. Every reader sees it as soon as the window passes, before any
// process writes it; the next writer (here Reconcile, as the alert actor
// runs it) persists it with a Promoted Event, once.
func TestBakeWindowPromotes(t *testing.T) {
	t.Parallel()
	_, d, ctx := initialized(t, "operator:ana", "1.0.0")
	// A window long enough to be read inside it on a busy node.
	if err := d.Deploy(ctx, Green, "2.0.0", DeployOptions{Timeout: rolloutTimeout, Bake: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	g := standing(t, d, Green)
	if g.Phase != Baking || g.Until.Sub(g.Since) != 10*time.Second || !strings.HasPrefix(g.Describe(g.Since), "baking (10s left)") {
		t.Fatalf("green right after its deploy: %+v (%s)", g, g.Describe(g.Since))
	}
	endpointColors(t, d, "green")
	time.Sleep(time.Until(g.Until) + 100*time.Millisecond)

	g = standing(t, d, Green)
	if g.Phase != Stable || !g.Since.Equal(storedStanding(t, d, Green).Until) || !strings.Contains(g.Reason, "stayed active through its 10s bake window") {
		t.Fatalf("green past its window, as read: %+v", g)
	}
	if s := storedStanding(t, d, Green); s.Phase != Baking {
		t.Fatalf("nothing wrote yet, but the stored standing is %+v", s)
	}
	if n := countEvents(t, d, "Promoted"); n != 1 { // blue's, at init
		t.Fatalf("%d Promoted Events before the promotion is persisted, want 1 (init)", n)
	}
	recs, err := d.Reconcile(ctx)
	if err != nil || len(recs) != 1 || recs[0].Event != EventPromoted || recs[0].Color != Green {
		t.Fatalf("reconcile: %+v %v, want one Promoted record for green", recs, err)
	}
	if s := storedStanding(t, d, Green); s.Phase != Stable || s != g {
		t.Errorf("persisted %+v, read before %+v: want the same", s, g)
	}
	wantEvent(t, d, "Promoted", "Normal", "green 2.0.0 is stable", "stayed active through its 10s bake window")
	if recs, err := d.Reconcile(ctx); err != nil || len(recs) != 0 {
		t.Errorf("a second reconcile: %+v %v, want nothing to write", recs, err)
	}

	// Now stable green can be a rollback target: blue takes the traffic,
	// and a rollback returns it to green.
	if err := d.Deploy(ctx, Blue, "3.0.0", quick); err != nil {
		t.Fatal(err)
	}
	if res, err := d.Rollback(ctx, RollbackRequest{Reason: "3.0.0 hurts"}); err != nil || res.To != Green || res.ToVersion != "2.0.0" {
		t.Fatalf("rollback to the green that baked: %+v %v", res, err)
	}
	endpointColors(t, d, "green")
}

// TestBakeWaitsOrSaysWhy: Bake (deploy --bake) returns once the window has
// passed, with the promotion persisted; it returns a BakeError at once when
// traffic leaves the color during its window.
func TestBakeWaitsOrSaysWhy(t *testing.T) {
	t.Parallel()
	_, d, ctx := initialized(t, "operator:ana", "1")
	if err := d.Deploy(ctx, Green, "2", DeployOptions{Timeout: rolloutTimeout, Bake: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	var seen []Phase
	s, err := d.Bake(ctx, Green, func(s Standing) { seen = append(seen, s.Phase) })
	if err != nil || s.Phase != Stable || storedStanding(t, d, Green).Phase != Stable || seen[0] != Baking {
		t.Fatalf("bake: %+v %v, progress %v", s, err, seen)
	}

	if err := d.Deploy(ctx, Blue, "7", DeployOptions{Timeout: rolloutTimeout, Bake: time.Minute}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := d.Bake(ctx, Blue, nil)
		done <- err
	}()
	time.Sleep(500 * time.Millisecond)
	if _, err := d.Rollback(ctx, RollbackRequest{Reason: "7 hurts"}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		var be *BakeError
		if !errors.As(err, &be) || be.Standing.Phase != Failed || be.Active != Green || !strings.Contains(err.Error(), "rolled back: 7 hurts") {
			t.Errorf("bake of a color rolled back from: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Bake kept waiting after its color was rolled back from")
	}
}

// TestRedeployClearsStable: a new version, or the same version with another
// pod template, clears a stable mark; redeploying the very same template
// keeps it.
func TestRedeployClearsStable(t *testing.T) {
	t.Parallel()
	ns := clustertest.Namespace(t)
	d, ctx := bakedGreen(t, ns)
	if _, err := d.Switch(ctx, Blue, SwitchOptions{Reason: "back to blue, deliberately"}); err != nil {
		t.Fatal(err)
	}
	before := mustStatus(t, d).Colors[Green]
	if before.Standing.Phase != Stable {
		t.Fatalf("green, stable, switched away after its window: %+v", before.Standing)
	}

	// The same version and template again: nothing changes.
	if err := d.Deploy(ctx, Green, "2.0.0", DeployOptions{Timeout: rolloutTimeout, NoSwitch: true}); err != nil {
		t.Fatal(err)
	}
	if g := mustStatus(t, d).Colors[Green]; g.Standing.Phase != Stable || g.Template != before.Template {
		t.Fatalf("redeploying the same template: %+v (template %s, was %s)", g.Standing, g.Template, before.Template)
	}

	// The same version with another pod template: unproven.
	if err := d.Deploy(ctx, Green, "2.0.0", DeployOptions{Timeout: rolloutTimeout, NoSwitch: true, PodLabels: map[string]string{"team": "ml"}}); err != nil {
		t.Fatal(err)
	}
	st := mustStatus(t, d)
	g := st.Colors[Green]
	if g.Standing.Phase != Unproven || g.Version != "2.0.0" || g.Template == before.Template {
		t.Fatalf("the same version with another template: %+v (template %s, was %s)", g.Standing, g.Template, before.Template)
	}
	if !strings.Contains(st.Rollback.Refused, "green is unproven at 2.0.0") {
		t.Errorf("status's rollback plan %+v, want a refusal naming green's new template", st.Rollback)
	}
	wantEvent(t, d, "Deployed", "Normal", "green 2.0.0 is unproven")

	// A change made outside remlactl (kubectl set image) clears it too:
	// readers compare the live template.
	if err := d.Deploy(ctx, Green, "2.0.0", DeployOptions{Timeout: rolloutTimeout, Bake: time.Second}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Bake(ctx, Green, nil); err != nil {
		t.Fatal(err)
	}
	deps := d.client.AppsV1().Deployments(ns)
	dep, err := deps.Get(ctx, "remla-blue", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dep.Spec.Template.Spec.Containers[0].Image = "ghcr.io/remla/tagger:hotfix"
	if _, err := deps.Update(ctx, dep, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if b := standing(t, d, Blue); b.Phase != Unproven || !strings.Contains(b.Reason, "pod template changed") {
		t.Errorf("blue after kubectl set image: %+v", b)
	}
}

// TestFailedDeployIsRecorded: a rollout that never becomes ready leaves the
// color failed at that version, with a DeployFailed Event.
func TestFailedDeployIsRecorded(t *testing.T) {
	t.Parallel()
	_, d, ctx := initialized(t, "operator:ana", "1.0.0")
	err := d.Deploy(ctx, Green, "9.9.9", DeployOptions{Timeout: failTimeout, Replicas: 1, PodLabels: map[string]string{neverReady: "true"}})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("never-ready deploy: %v", err)
	}
	g := standing(t, d, Green)
	if g.Phase != Failed || g.Version != "9.9.9" || !strings.Contains(g.Reason, "deploy 9.9.9 failed") {
		t.Errorf("green after its failed deploy: %+v", g)
	}
	wantEvent(t, d, "DeployFailed", "Warning", "green 9.9.9 is failed", "deploy 9.9.9 failed")
	if sel := activeSelector(t, d); sel != "blue" {
		t.Errorf("selector %s", sel)
	}

	// A gate or a watcher marks a color failed at the version it judged;
	// a verdict about a version the color no longer runs changes nothing.
	if _, err := d.MarkFailed(ctx, Blue, "0.9.0", "smoke test failed", "gate:smoke"); err == nil || !strings.Contains(err.Error(), "blue runs 1.0.0, not 0.9.0") {
		t.Errorf("MarkFailed at another version: %v", err)
	}
	rec, err := d.MarkFailed(ctx, Blue, "1.0.0", "p95 latency over 500ms", "gate:latency")
	if err != nil || rec.Event != EventMarkedFailed || rec.By != "gate:latency" {
		t.Fatalf("MarkFailed: %+v %v", rec, err)
	}
	if b := standing(t, d, Blue); b.Phase != Failed || b.Reason != "p95 latency over 500ms" {
		t.Errorf("blue after MarkFailed: %+v", b)
	}
	wantEvent(t, d, "MarkedFailed", "Warning", "blue 1.0.0 is failed", "p95 latency over 500ms", "by gate:latency")
}

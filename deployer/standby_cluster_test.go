package deployer

// The standby policy on real pods: the standby scaled down once the new
// color is stable, and a rollback to it that scales it up and waits until
// its pods are ready before it moves traffic.

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/remla/tagger/test/clustertest"
)

func TestStandbyScaleDownAndColdRollback(t *testing.T) {
	t.Parallel()
	ns := clustertest.Namespace(t)
	d := newTestDeployer(t, ns, "operator:ana")
	zero := int32(0)
	// Deadlines long enough to be read before they pass on a busy node.
	d.cfg.Standby = Standby{ScaleDownAfter: metav1.Duration{Duration: 15 * time.Second}, Replicas: &zero}
	ctx := testCtx(t)
	if err := d.Init(ctx, "1.0.0", quick); err != nil {
		t.Fatal(err)
	}
	// A bake window long enough that status is read inside it, on a busy node too.
	if err := d.Deploy(ctx, Green, "2.0.0", DeployOptions{Timeout: rolloutTimeout, Bake: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	// While green bakes, blue stays warm: it is the rollback target.
	if sb := mustStatus(t, d).Colors[Blue].Standby; sb == nil || sb.Mode != "warm" || !sb.ScaleDownAt.IsZero() {
		t.Fatalf("blue while green bakes: %+v", sb)
	}
	if _, err := d.Bake(ctx, Green, nil); err != nil {
		t.Fatal(err)
	}
	st := mustStatus(t, d)
	sb := st.Colors[Blue].Standby
	if sb == nil || sb.Mode != "warm" || sb.ScaleDownAt.IsZero() || st.Colors[Blue].Ready != 2 {
		t.Fatalf("blue once green is stable, before its deadline: %+v, ready %d", sb, st.Colors[Blue].Ready)
	}
	time.Sleep(time.Until(sb.ScaleDownAt) + 100*time.Millisecond)
	recs, err := d.Reconcile(ctx)
	if err != nil || len(recs) != 1 || recs[0].Event != EventScaledDown || recs[0].Color != Blue {
		t.Fatalf("reconcile at the deadline: %+v %v", recs, err)
	}
	wantEvent(t, d, "ScaledDown", "Normal", "blue 1.0.0", "scaled from 2 to 0 replicas")
	waitFor(t, "blue's pods to go", func() bool {
		return podCount(t, d, Blue) == 0
	})
	st = mustStatus(t, d)
	if sb := st.Colors[Blue].Standby; sb == nil || sb.Mode != "cold" || st.Rollback.To != Blue || st.Rollback.ScaleUp != 2 ||
		st.Colors[Blue].Standing.Phase != Stable {
		t.Fatalf("blue cold: %+v, standing %+v, rollback plan %+v", sb, st.Colors[Blue].Standing, st.Rollback)
	}
	if _, err := d.Switch(ctx, Blue, SwitchOptions{Reason: "try"}); !errors.Is(err, ErrNotReady) {
		t.Fatalf("a switch to the cold standby: %v, want ErrNotReady", err)
	}

	// The rollback scales blue up and waits: when traffic moves, both of
	// blue's replicas are ready and the Service's endpoints are blue's.
	res, err := d.Rollback(ctx, RollbackRequest{Reason: "2.0.0 hurts"})
	if err != nil || res.Outcome != OutcomeRolledBack || res.To != Blue {
		t.Fatalf("rollback to the cold blue: %+v %v", res, err)
	}
	dep, err := d.client.AppsV1().Deployments(ns).Get(ctx, "remla-blue", metav1.GetOptions{})
	if err != nil || *dep.Spec.Replicas != 2 || dep.Status.ReadyReplicas != 2 {
		t.Fatalf("blue after the rollback: %d of %d ready (%v)", dep.Status.ReadyReplicas, *dep.Spec.Replicas, err)
	}
	if got := endpointColors(t, d, "blue"); got["blue"] != 2 {
		t.Errorf("endpoints after the rollback: %v, want both blue pods", got)
	}
	wantEvent(t, d, "ScaledUp", "Normal", "cold standby scaled from 0 to 2 replicas for a rollback: 2.0.0 hurts")
	h := mustStatus(t, d).History
	var order []string
	for _, r := range h[:3] {
		order = append(order, string(r.Kind()))
	}
	if strings.Join(order, ",") != "MarkedFailed,RolledBack,ScaledUp" {
		t.Errorf("history, newest first: %v", order)
	}
	if _, ok := mustStored(t, d).Cold[Blue]; ok {
		t.Error("blue is active and still recorded cold")
	}
}

func mustStored(t *testing.T, d *Deployer) stored {
	t.Helper()
	v, err := d.read(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	return v.st
}

func podCount(t *testing.T, d *Deployer, c Color) int {
	t.Helper()
	pods, err := d.client.CoreV1().Pods(d.ns).List(context.Background(), metav1.ListOptions{LabelSelector: "color=" + string(c)})
	if err != nil {
		t.Fatal(err)
	}
	return len(pods.Items)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

package deployer

import (
	"context"
	"testing"
	"time"

	"github.com/remla/tagger/test/clustertest"
)

// TestTrafficFollowsSelector: on the real node, the answers through the
// active Service's ClusterIP (kube-proxy's rules) come from the color its
// selector names, and a steady load across deploy-and-switch, a switch back
// and an undeploy of the standby loses no request.
func TestTrafficFollowsSelector(t *testing.T) {
	ns := clustertest.Namespace(t)
	d := newTestDeployer(t, ns, "operator:traffic")
	ctx := testCtx(t)
	if err := d.Init(ctx, "1.0.0", quick); err != nil {
		t.Fatalf("init: %v", err)
	}
	base := clustertest.ServiceURL(t, ns, d.cfg.ActiveService)
	answeredBy(t, ctx, base, Blue)

	load := clustertest.StartLoad(ctx, base, 4)
	defer load.Stop()
	if err := d.Deploy(ctx, Green, "2.0.0", quick); err != nil {
		t.Fatalf("deploy green: %v", err)
	}
	switched := time.Now()
	t.Logf("%s deploy green returned", switched.Format("15:04:05.000"))
	answeredBy(t, ctx, base, Green)
	time.Sleep(2 * time.Second) // steady load on green
	if _, err := d.Switch(ctx, Blue, SwitchOptions{Reason: "back"}); err != nil {
		t.Fatalf("switch back: %v", err)
	}
	back := time.Now()
	t.Logf("%s switch back returned", back.Format("15:04:05.000"))
	answeredBy(t, ctx, base, Blue)
	time.Sleep(2 * time.Second)
	t.Logf("%s undeploy green", time.Now().Format("15:04:05.000"))
	if err := d.Undeploy(ctx, Green); err != nil {
		t.Fatalf("undeploy green: %v", err)
	}
	time.Sleep(2 * time.Second) // load on blue while green's pods go
	res := load.Stop()

	if res.Failed != 0 {
		t.Errorf("%d of %d requests failed across the switches: %v", res.Failed, res.Requests, res.Errors)
	}
	if res.Colors["blue"] == 0 || res.Colors["green"] == 0 {
		t.Errorf("answers by color %v; want both colors", res.Colors)
	}
	toGreen, ok1 := res.FirstAnswer("green", switched.Add(-time.Minute))
	toBlue, ok2 := res.FirstAnswer("blue", back)
	if !ok1 || !ok2 {
		t.Errorf("no answer from green after the deploy (%v) or from blue after the switch back (%v)", ok1, ok2)
	}
	t.Logf("%d requests, 0 failed, by color %v; first green answer %s after the deploy returned, first blue %s after the switch back",
		res.Requests, res.Colors, toGreen.Sub(switched).Round(time.Millisecond), toBlue.Sub(back).Round(time.Millisecond))
}

// answeredBy waits until a request through the Service is answered by c,
// then wants the next ten answered by c too.
func answeredBy(t *testing.T, ctx context.Context, base string, c Color) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		a, err := clustertest.Predict(ctx, base, "How to parse JSON in Python")
		if err == nil && a.Color == string(c) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30s requests through %s are answered by %q (%v), want %s", base, a.Color, err, c)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i := range 10 {
		if a, err := clustertest.Predict(ctx, base, "How to parse JSON in Python"); err != nil || a.Color != string(c) {
			t.Fatalf("request %d through %s: color %q (%v), want %s", i, base, a.Color, err, c)
		}
	}
}

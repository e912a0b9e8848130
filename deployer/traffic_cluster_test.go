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
	t.Parallel()
	ns, d, ctx := initialized(t, "operator:traffic", "1.0.0")
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

// BenchmarkSwitchToFirstAnswer measures `remlactl switch` to the first
// request through the active Service's ClusterIP answered by the new color:
// the Service update, the EndpointSlice controller, kube-proxy's sync.
// Requests are sent back to back, each on a new connection.
// Run: make bench-deploy
func BenchmarkSwitchToFirstAnswer(b *testing.B) {
	d, base := twoColors(b)
	ctx := testCtx(b)
	to := Green
	var worst time.Duration
	for b.Loop() {
		start := time.Now()
		if _, err := d.Switch(ctx, to, SwitchOptions{Reason: "bench"}); err != nil {
			b.Fatal(err)
		}
		for {
			a, err := clustertest.Predict(ctx, base, "How to parse JSON in Python")
			if err == nil && a.Color == string(to) {
				break
			}
			if time.Since(start) > 30*time.Second {
				b.Fatalf("no answer from %s 30s after the switch (%v)", to, err)
			}
		}
		worst = max(worst, time.Since(start))
		to = other(to)
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/switch-to-answer")
	b.ReportMetric(float64(worst.Milliseconds()), "ms-worst")
}

// BenchmarkSwitchUnderLoad counts the requests that fail while traffic
// switches back and forth under a steady load through the ClusterIP (8
// workers, a new connection per request); the goal is 0.
// Run: make bench-deploy
func BenchmarkSwitchUnderLoad(b *testing.B) {
	d, base := twoColors(b)
	ctx := testCtx(b)
	load := clustertest.StartLoad(ctx, base, 8)
	defer load.Stop()
	to := Green
	for b.Loop() {
		if _, err := d.Switch(ctx, to, SwitchOptions{Reason: "bench"}); err != nil {
			b.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond) // load on the new color before the next switch
		to = other(to)
	}
	res := load.Stop()
	b.ReportMetric(float64(res.Failed), "failed")
	b.ReportMetric(float64(res.Requests), "requests")
	if res.Failed > 0 {
		b.Logf("failures: %v", res.Errors)
	}
}

// twoColors deploys blue (active) and green, and returns the deployer and
// the active Service's URL.
func twoColors(b *testing.B) (*Deployer, string) {
	ns := clustertest.Namespace(b)
	d := newTestDeployer(b, ns, "operator:bench")
	ctx := testCtx(b)
	if err := d.Init(ctx, "1", quick); err != nil {
		b.Fatal(err)
	}
	if err := d.Deploy(ctx, Green, "2", DeployOptions{Timeout: rolloutTimeout, NoSwitch: true}); err != nil {
		b.Fatal(err)
	}
	return d, clustertest.ServiceURL(b, ns, d.cfg.ActiveService)
}

package deployer

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/remla/tagger/test/clustertest"
)

// BenchmarkDeployToSwitch measures `remlactl deploy <standby> <version>`
// from the call to traffic switched: Helm upgrade of the standby color (2
// replicas), the rollout-status wait, and the switch. On the test cluster's
// real node the pods start and pass their readiness probes (every 5 s, the
// chart's default), which is most of the time.
// Run: REMLA_TEST_KUBECONFIG=... go test -run '^$' -bench DeployToSwitch -benchtime 10x ./deployer/
func BenchmarkDeployToSwitch(b *testing.B) {
	ns := clustertest.Namespace(b)
	d := newTestDeployer(b, ns, "operator:bench")
	// What an operator gets: the chart's readiness probe (every 5 s), not the
	// tests' faster one.
	delete(d.cfg.Values, "probes")
	// Real pods take seconds per deploy: more than testCtx's minutes for 20.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	if err := d.Init(ctx, "0", quick); err != nil {
		b.Fatal(err)
	}
	to := Green
	b.ResetTimer()
	for i := range b.N {
		if err := d.Deploy(ctx, to, fmt.Sprint("v", i+1), DeployOptions{Timeout: time.Minute}); err != nil {
			b.Fatal(err)
		}
		to = other(to)
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/deploy")
}

// BenchmarkSwitch measures `remlactl switch` alone: read the Service, check
// the target's Deployment, one update.
// Run: REMLA_TEST_KUBECONFIG=... go test -run '^$' -bench 'Switch$' -benchtime 50x ./deployer/
func BenchmarkSwitch(b *testing.B) {
	ns := clustertest.Namespace(b)
	d := newTestDeployer(b, ns, "operator:bench")
	ctx := testCtx(b)
	if err := d.Init(ctx, "1", quick); err != nil {
		b.Fatal(err)
	}
	if err := d.Deploy(ctx, Green, "2", DeployOptions{Timeout: time.Minute, NoSwitch: true}); err != nil {
		b.Fatal(err)
	}
	to := Green
	b.ResetTimer()
	for range b.N {
		rec, err := d.Switch(ctx, to, SwitchOptions{Reason: "bench"})
		if err != nil || rec == nil {
			b.Fatal(rec, err)
		}
		to = other(to)
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/switch")
}

// BenchmarkRollback measures the rollback decision with its cluster calls
// (`remlactl rollback`, and the alert actor's): read the active Service and
// both Deployments, decide, one guarded update, and the Events (RolledBack,
// MarkedFailed). Each iteration an untimed operator switch puts green back
// (baking again; blue stays stable). Run it beside BenchmarkSwitch and
// BenchmarkDecideRollback (the decision alone) in one go, with few
// iterations: client-go's rate limiter (QPS 50, burst 100) caps longer runs.
// Run: REMLA_TEST_KUBECONFIG=... go test -run '^$' -bench 'Switch$|Rollback$|DecideRollback' -benchtime 6x ./deployer/
func BenchmarkRollback(b *testing.B) {
	ns := clustertest.Namespace(b)
	d := newTestDeployer(b, ns, "operator:bench")
	ctx := testCtx(b)
	if err := d.Init(ctx, "1", quick); err != nil {
		b.Fatal(err)
	}
	if err := d.Deploy(ctx, Green, "2", quick); err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		if i > 0 {
			b.StopTimer()
			if _, err := d.Switch(ctx, Green, SwitchOptions{Reason: "bench"}); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		res, err := d.Rollback(ctx, RollbackRequest{Reason: "bench", Incident: fmt.Sprint("fp@", i), Color: Green})
		if err != nil || res.Outcome != OutcomeRolledBack {
			b.Fatal(res, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/rollback")
}

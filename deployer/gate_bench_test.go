package deployer

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/remla/tagger/deployer/analysis"
	"github.com/remla/tagger/test/clustertest"
	"github.com/remla/tagger/training"
)

// BenchmarkGates measures the promotion gates' cost on the real node, side
// by side in one run: blue and green run the same good model, green without
// traffic.
//   - Predict/proxy and Predict/clusterip: POST /api/v1/predict to green's
//     preview Service, through the API server's service proxy (what the
//     gates use) and straight to its ClusterIP, 1,000 a run, 8 in flight;
//     req/s.
//   - Quality5000/proxy and Quality5000/clusterip: the model-quality gate
//     on data/validation.tsv.gz (5,000 titles to each color); s/gate is
//     what it adds to a deploy.
//
// Run: REMLA_TEST_KUBECONFIG=... go test -run '^$' -bench Gates -benchtime 3x ./deployer/
func BenchmarkGates(b *testing.B) {
	ns := clustertest.Namespace(b)
	d := newTestDeployer(b, ns, "operator:bench")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	if err := d.Init(ctx, "1.0.0", quick); err != nil {
		b.Fatal(err)
	}
	o := quick
	o.NoSwitch = true
	if err := d.Deploy(ctx, Green, "2.0.0", o); err != nil {
		b.Fatal(err)
	}
	targets := map[string][2]analysis.Target{
		"proxy": {d.Preview(Green), d.Preview(Blue)},
		"clusterip": {&analysis.HTTPTarget{Label: "green", URL: clustertest.ServiceURL(b, ns, d.cfg.PreviewService(Green))},
			&analysis.HTTPTarget{Label: "blue", URL: clustertest.ServiceURL(b, ns, d.cfg.PreviewService(Blue))}},
	}
	for _, via := range []string{"proxy", "clusterip"} {
		b.Run("Predict/"+via, func(b *testing.B) {
			t := targets[via][0]
			body := []byte(`{"title":"How to parse JSON in Python"}`)
			// One op is perOp requests, 8 in flight, so -benchtime 3x suits
			// both these and the quality gate.
			const perOp, inFlight = 1000, 8
			for b.Loop() {
				var wg sync.WaitGroup
				for range inFlight {
					wg.Go(func() {
						for range perOp / inFlight {
							code, _, err := t.Do(ctx, http.MethodPost, "/api/v1/predict", body)
							if err != nil || code != http.StatusOK {
								b.Errorf("predict via %s: %d %v", via, code, err)
								return
							}
						}
					})
				}
				wg.Wait()
			}
			b.ReportMetric(float64(perOp*b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
	ds, err := training.LoadDataset("../data/validation.tsv.gz")
	if err != nil {
		b.Fatal(err)
	}
	for _, via := range []string{"proxy", "clusterip"} {
		b.Run("Quality5000/"+via, func(b *testing.B) {
			for b.Loop() {
				q := analysis.QualityGate(ctx, targets[via][0], targets[via][1], ds, analysis.QualityConfig{File: ds.Path})
				if q.Phase != analysis.Successful || q.Titles != len(ds.Titles) {
					b.Fatalf("quality gate via %s: %s %s", via, q.Phase, q.Message)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/gate")
		})
	}
}

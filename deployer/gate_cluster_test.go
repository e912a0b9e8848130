package deployer

import (
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/remla/tagger/deployer/analysis"
	"github.com/remla/tagger/test/clustertest"
	"github.com/remla/tagger/test/testenv"
)

// gateDeploy deploys green at version with the gates of cfg, reporting
// each result to the test log.
func gateDeploy(t *testing.T, d *Deployer, version string, cfg *analysis.Config) ([]analysis.Result, error) {
	t.Helper()
	var rs []analysis.Result
	o := quick
	o.Analysis = AnalysisOptions{Config: cfg, Report: func(r analysis.Result) {
		rs = append(rs, r)
		t.Logf("analysis %s: %s: %s\n%s", r.Name, r.Phase, r.Message, r.Detail)
	}}
	start := time.Now()
	err := d.Deploy(testCtx(t), Green, version, o)
	t.Logf("deploy green %s with its gates: %s, %v", version, time.Since(start).Round(time.Millisecond), err)
	return rs, err
}

// refusedAt checks a pre-promotion refusal of green at version: the error,
// traffic still on blue, green failed at version, the verdict in the
// history and as a Warning Event.
func refusedAt(t *testing.T, d *Deployer, err error, version, check string) {
	t.Helper()
	var gerr *GateError
	if !errors.Is(err, ErrAnalysisFailed) || !errors.As(err, &gerr) || !strings.Contains(err.Error(), check+" failed") {
		t.Fatalf("deploy green %s: %v, want a %s refusal", version, err, check)
	}
	if sel := activeSelector(t, d); sel != "blue" {
		t.Fatalf("traffic moved to %s after a refused deploy", sel)
	}
	st := mustStatus(t, d)
	if s := st.Colors[Green].Standing; s.Phase != Failed || s.Version != version {
		t.Fatalf("green is %s at %s, want failed at %s", s.Phase, s.Version, version)
	}
	var kinds []string
	for _, r := range st.History[:3] {
		kinds = append(kinds, string(r.Kind()))
	}
	if got := strings.Join(kinds, ","); got != "MarkedFailed,AnalysisFailed,Deployed" {
		t.Fatalf("newest history %s, want MarkedFailed,AnalysisFailed,Deployed", got)
	}
	if !strings.Contains(st.History[1].Reason, check+" failed") {
		t.Fatalf("verdict record %q", st.History[1].Reason)
	}
	if ev := serviceEvents(t, d); ev["AnalysisFailed"] == 0 {
		t.Fatalf("no AnalysisFailed Event: %v", ev)
	}
}

// TestSmokeGate: on the real node, through the API server's service proxy,
// the smoke gate refuses a version that is ready but answers 429 to its
// predictions (traffic unchanged, the version failed), and passes a good
// version, which then takes the traffic.
func TestSmokeGate(t *testing.T) {
	t.Parallel()
	ns := clustertest.Namespace(t)
	d := newTestDeployer(t, ns, "operator:smoke")
	clustertest.AppImage(t, clustertest.Throttled, "throttled-1")
	if err := d.Init(testCtx(t), "1.0.0", quick); err != nil {
		t.Fatalf("init: %v", err)
	}
	cfg := &analysis.Config{Smoke: &analysis.SmokeConfig{Requests: 20}}
	rs, err := gateDeploy(t, d, "throttled-1", cfg)
	refusedAt(t, d, err, "throttled-1", "smoke")
	// Each of the two replicas answers its first prediction: 18 of 20 are 429s.
	if len(rs) != 1 || !strings.Contains(rs[0].Message, "18 of 20 answers were not 2xx (18× 429)") {
		t.Fatalf("smoke results %+v", rs)
	}
	rs, err = gateDeploy(t, d, "2.0.0", cfg)
	if err != nil || len(rs) != 1 || rs[0].Phase != analysis.Successful {
		t.Fatalf("deploy green 2.0.0 with smoke: %v %+v", err, rs)
	}
	if sel := activeSelector(t, d); sel != "green" {
		t.Fatalf("traffic on %s after the smoke passed", sel)
	}
	if h := mustStatus(t, d).History; h[1].Kind() != EventAnalysisPassed || h[0].Kind() != EventSwitched {
		t.Fatalf("history %v %v, want AnalysisPassed then Switched", h[1].Kind(), h[0].Kind())
	}
}

// TestQualityGate: on the real node, the model-quality gate replays
// data/validation.tsv.gz to both colors' preview Services; it refuses a
// model trained on a tenth of the data (traffic unchanged, the table
// printed) and accepts the same model as the stable color's.
func TestQualityGate(t *testing.T) {
	t.Parallel()
	ns := clustertest.Namespace(t)
	d := newTestDeployer(t, ns, "operator:quality")
	clustertest.AppImage(t, clustertest.Worse, "worse-1")
	if err := d.Init(testCtx(t), "1.0.0", quick); err != nil {
		t.Fatalf("init: %v", err)
	}
	cfg := &analysis.Config{Quality: &analysis.QualityConfig{File: "../data/validation.tsv.gz"}}
	rs, err := gateDeploy(t, d, "worse-1", cfg)
	refusedAt(t, d, err, "worse-1", "quality")
	if len(rs) != 1 || !strings.Contains(rs[0].Detail, "F1 weighted") || !strings.Contains(rs[0].Detail, "tags that regressed most") ||
		!strings.Contains(rs[0].Message, "titles: F1 weighted") {
		t.Fatalf("quality result %+v", rs)
	}
	rs, err = gateDeploy(t, d, "2.0.0", cfg)
	if err != nil || len(rs) != 1 || rs[0].Phase != analysis.Successful || !strings.Contains(rs[0].Message, "change +0.0000") {
		t.Fatalf("deploy green 2.0.0, the stable color's model: %v %+v", err, rs)
	}
	if sel := activeSelector(t, d); sel != "green" {
		t.Fatalf("traffic on %s after the quality gate passed", sel)
	}
}

// TestPostPromotionRollback: on the real node, green carries the no-tags
// model and takes the traffic; a real Prometheus scrapes its preview
// Service, and the post-promotion check on its share of empty predictions
// fails, so Watch rolls traffic back to stable blue through Rollback,
// without Alertmanager.
func TestPostPromotionRollback(t *testing.T) {
	t.Parallel()
	ns := clustertest.Namespace(t)
	d := newTestDeployer(t, ns, "operator:watch")
	clustertest.AppImage(t, clustertest.NoTags, "notags-1")
	ctx := testCtx(t)
	if err := d.Init(ctx, "1.0.0", quick); err != nil {
		t.Fatalf("init: %v", err)
	}
	o := quick
	o.Bake = 10 * time.Minute
	if err := d.Deploy(ctx, Green, "notags-1", o); err != nil {
		t.Fatalf("deploy green: %v", err)
	}
	preview := clustertest.ServiceURL(t, ns, d.cfg.PreviewService(Green))
	prom := testenv.Prometheus(t, strings.TrimPrefix(preview, "http://"),
		map[string]string{"namespace": ns, "app": "remla", "color": "green", "version": "notags-1"}).URL
	for range 20 {
		if _, err := clustertest.Predict(ctx, preview, "How to parse JSON in Python"); err != nil {
			t.Fatal(err)
		}
	}
	sel := `{namespace="{{.Namespace}}",app="{{.App}}",color="{{.Color}}",version="{{.Version}}"}`
	cfg := &analysis.Config{Prometheus: prom, PostPromotion: []analysis.MetricConfig{{Name: "empty-share",
		Query:            "sum(predictions_empty_total" + sel + ") / sum(num_pred" + sel + ")",
		SuccessCondition: "result < 0.5", Count: 1, Interval: metav1.Duration{Duration: time.Second}}}}
	start := time.Now()
	_, err := d.Watch(ctx, Green, WatchOptions{Config: cfg, Report: func(r analysis.Result) { t.Logf("post-promotion %s: %s: %s", r.Name, r.Phase, r.Message) }})
	t.Logf("watch returned after %s: %v", time.Since(start).Round(time.Millisecond), err)
	var gerr *GateError
	if !errors.As(err, &gerr) || gerr.RolledBack == nil || gerr.RolledBack.Outcome != OutcomeRolledBack || !strings.Contains(err.Error(), "result 1 does not meet result < 0.5") {
		t.Fatalf("watch: %v, want a rollback on the failed empty-share check", err)
	}
	if s := activeSelector(t, d); s != "blue" {
		t.Fatalf("traffic on %s after the post-promotion failure", s)
	}
	st := mustStatus(t, d)
	if st.Colors[Green].Standing.Phase != Failed || st.History[1].Kind() != EventRolledBack || st.History[2].Kind() != EventAnalysisFailed {
		t.Fatalf("green %s; history %s, %s", st.Colors[Green].Standing.Phase, st.History[1].Kind(), st.History[2].Kind())
	}
}

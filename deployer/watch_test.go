package deployer

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/remla/tagger/deployer/analysis"
)

// watchDeployer is a Deployer on a fake cluster where green 2.0.0 is
// active and baking until window from now, and blue 1.0.0 is stable; its
// post-promotion check asks prom.
func watchDeployer(t *testing.T, window time.Duration, prom string) *Deployer {
	t.Helper()
	blue, green := deployment(Blue, "1.0.0", 2), deployment(Green, "2.0.0", 2)
	now := time.Now().UTC().Truncate(time.Second)
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "remla", Namespace: "ns"}}
	st := stored{Active: Green, Standing: map[Color]Standing{
		Blue:  at(Stable, blue),
		Green: {Phase: Baking, Version: "2.0.0", Template: tpl(green), Since: now, Until: now.Add(window)},
	}}
	if err := writeStored(svc, st, "color", 100); err != nil {
		t.Fatal(err)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ns"}}
	cfg := DefaultConfig()
	cfg.Analysis = &analysis.Config{Prometheus: prom, PostPromotion: []analysis.MetricConfig{{
		Name: "error-share", Query: `share{color="{{.Color}}",version="{{.Version}}"}`, SuccessCondition: "result < 0.1",
		Interval: metav1.Duration{Duration: 50 * time.Millisecond}, Count: 2}}}
	d, err := New(Options{Client: fake.NewClientset(ns, svc, blue, green), Namespace: "ns", Config: cfg, Identity: "operator:test"})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func promAnswering(t *testing.T, value string, queries chan<- string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case queries <- r.URL.Query().Get("query"):
		default:
		}
		w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"` + value + `"]}]}}`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestWatch(t *testing.T) {
	t.Run("a failing check rolls back through Rollback", func(t *testing.T) {
		q := make(chan string, 1)
		d := watchDeployer(t, time.Hour, promAnswering(t, "0.5", q))
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_, err := d.Watch(ctx, Green, WatchOptions{})
		var gerr *GateError
		if !errors.As(err, &gerr) || !errors.Is(err, ErrAnalysisFailed) || gerr.RolledBack == nil || gerr.RolledBack.Outcome != OutcomeRolledBack {
			t.Fatalf("Watch: %v, want a GateError with a rollback", err)
		}
		if got := <-q; got != `share{color="green",version="2.0.0"}` {
			t.Fatalf("query %q", got)
		}
		if !strings.Contains(err.Error(), "result 0.5 does not meet result < 0.1") {
			t.Fatalf("error does not say by how much: %v", err)
		}
		st, err := d.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Active != Blue || st.Colors[Green].Standing.Phase != Failed {
			t.Fatalf("after the failed check: active %s, green %s", st.Active, st.Colors[Green].Standing.Phase)
		}
		var kinds []string
		for _, r := range st.History {
			kinds = append(kinds, string(r.Kind()))
		}
		if got := strings.Join(kinds, ","); got != "MarkedFailed,RolledBack,AnalysisFailed" {
			t.Fatalf("history %s", got)
		}
	})
	t.Run("passing checks: stable when the window ends", func(t *testing.T) {
		d := watchDeployer(t, 2*time.Second, promAnswering(t, "0.01", nil))
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		s, err := d.Watch(ctx, Green, WatchOptions{})
		if err != nil || s.Phase != Stable {
			t.Fatalf("Watch: %s %v, want stable", s.Phase, err)
		}
		st, _ := d.Status(ctx)
		if st.Active != Green {
			t.Fatalf("active %s", st.Active)
		}
	})
	t.Run("no data does not roll back", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[]}}`))
		}))
		defer srv.Close()
		d := watchDeployer(t, 2*time.Second, srv.URL)
		s, err := d.Watch(context.Background(), Green, WatchOptions{})
		if err != nil || s.Phase != Stable {
			t.Fatalf("Watch with no data: %s %v, want stable", s.Phase, err)
		}
	})
}

func TestGateError(t *testing.T) {
	e := &GateError{Color: Green, Version: "2.0.0", Stage: "pre-promotion", Results: []analysis.Result{
		{Name: "smoke", Phase: analysis.Successful}, {Name: "quality", Phase: analysis.Failed, Message: "worse by 0.05"}}}
	if !errors.Is(e, ErrAnalysisFailed) || !strings.Contains(e.Error(), "quality failed: worse by 0.05") || strings.Contains(e.Error(), "smoke") ||
		!strings.Contains(e.Error(), "traffic unchanged") {
		t.Fatalf("%v", e)
	}
	d := unitDeployer()
	r := d.verdictRecord(newView(Blue, t0, nil), Green, "2.0.0", "pre-promotion", e.Results)
	if r.Kind() != EventAnalysisFailed || !strings.Contains(r.Reason, "smoke successful, quality failed: worse by 0.05") || !warning[r.Kind()] {
		t.Fatalf("%+v", r)
	}
}

func TestPlannedGates(t *testing.T) {
	d := unitDeployer()
	d.cfg.Analysis = &analysis.Config{Smoke: &analysis.SmokeConfig{}, Quality: &analysis.QualityConfig{File: "v.tsv.gz"}}
	if g := d.PlannedGates(DeployOptions{}); len(g) != 2 || !strings.HasPrefix(g[0], "smoke: 20 predictions") || !strings.Contains(g[1], "v.tsv.gz") {
		t.Fatalf("%q", g)
	}
	if g := d.PlannedGates(DeployOptions{NoSwitch: true}); g != nil {
		t.Fatalf("--no-switch runs %q", g)
	}
	if g := d.PlannedGates(DeployOptions{Analysis: AnalysisOptions{Skip: true}}); len(g) != 1 || !strings.Contains(g[0], "skipped") {
		t.Fatalf("%q", g)
	}
}

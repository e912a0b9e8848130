package analysis

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/remla/tagger/test/testenv"
)

// realPrometheus starts a real Prometheus scraping itself every second as
// a target labelled like a color of the app (namespace shop, app remla,
// color green, version 2.0.0), and waits until it has scraped.
func realPrometheus(t *testing.T) *Prometheus {
	t.Helper()
	s := testenv.Prometheus(t, "", map[string]string{"namespace": "shop", "app": "remla", "color": "green", "version": "2.0.0"})
	return &Prometheus{Address: s.URL}
}

// TestMeasureRealPrometheus: a metric check against a real Prometheus
// passes, fails and is inconclusive, each on real answers.
func TestMeasureRealPrometheus(t *testing.T) {
	p := realPrometheus(t)
	every := metav1.Duration{Duration: 500 * time.Millisecond}
	green := Args{Namespace: "shop", App: "remla", Color: "green", Version: "2.0.0"}
	target := `{namespace="{{.Namespace}}",app="{{.App}}",color="{{.Color}}",version="{{.Version}}"}`
	for _, tc := range []struct {
		name string
		m    MetricConfig
		args Args
		want Phase
		msg  string
	}{
		{"passes", MetricConfig{Name: "up", Query: "up" + target, SuccessCondition: "result == 1", Count: 2, Interval: every},
			green, Successful, "result == 1 (1, 1)"},
		// The target scrapes hundreds of samples: a limit of 10 fails, and the
		// message says by how much.
		{"fails", MetricConfig{Name: "samples", Query: "scrape_samples_scraped" + target, SuccessCondition: "result < 10", Count: 2, Interval: every},
			green, Failed, "does not meet result < 10 (off by"},
		// No color blue is scraped: no data, not a pass.
		{"inconclusive", MetricConfig{Name: "up-blue", Query: "up" + target, SuccessCondition: "result == 1", Count: 2, Interval: every},
			Args{Namespace: "shop", App: "remla", Color: "blue", Version: "1.0.0"}, Inconclusive, "no data, no data"},
		{"error", MetricConfig{Name: "bad", Query: "sum(up" + target, SuccessCondition: "result == 1", Count: 1},
			green, Error, "bad_data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Measure(context.Background(), p, tc.m, tc.args)
			t.Logf("%s: %s: %s", r.Name, r.Phase, r.Message)
			if r.Phase != tc.want || !strings.Contains(r.Message, tc.msg) {
				t.Fatalf("%s %q, want %s with %q", r.Phase, r.Message, tc.want, tc.msg)
			}
		})
	}
}

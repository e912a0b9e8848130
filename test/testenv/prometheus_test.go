package testenv

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

// TestPrometheus starts a real Prometheus scraping itself and reads the
// labels it was given back through the API client.
func TestPrometheus(t *testing.T) {
	p := Prometheus(t, "", map[string]string{"color": "green", "version": "2.0.0"})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	up, err := QueryVector(ctx, p.API, `up{job="remla"}`)
	if err != nil {
		t.Fatal(err)
	}
	want := model.LabelSet{"__name__": "up", "job": "remla", "instance": model.LabelValue(strings.TrimPrefix(p.URL, "http://")), "color": "green", "version": "2.0.0"}
	if len(up) != 1 || up[0].Value != 1 || !up[0].Metric.Equal(model.Metric(want)) {
		t.Fatalf("up = %v, want one sample of 1 labelled %v", up, want)
	}
	if _, err := QueryVector(ctx, p.API, `scalar(up)`); err == nil || !strings.Contains(err.Error(), "want a vector") {
		t.Errorf("a scalar result: %v, want an error", err)
	}
	if _, err := QueryVector(ctx, p.API, `up{`); err == nil || !strings.Contains(err.Error(), "up{") {
		t.Errorf("a bad query: %v, want an error naming it", err)
	}
}

package testenv

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func TestScrape(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "jobs_total", Help: "Jobs."}, []string{"result", "queue"})
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "latency_seconds", Help: "Latency."})
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "up", Help: "Up."})
	reg.MustRegister(c, h, g)
	c.WithLabelValues("ok", "a").Add(3)
	c.WithLabelValues("failed", "a").Inc()
	c.WithLabelValues("ok", "b").Add(5)
	h.Observe(0.1)
	h.Observe(0.2)
	g.Set(0.5)
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()

	mf := MustScrape(t, srv.URL)
	for _, tt := range []struct {
		name   string
		labels []string
		want   float64
		ok     bool
	}{
		{"jobs_total", []string{"result", "ok", "queue", "b"}, 5, true},
		{"jobs_total", []string{"result", "failed"}, 1, true},
		{"jobs_total", []string{"result", "ok", "queue", "c"}, 0, false},
		{"jobs_total", []string{"region", "eu"}, 0, false},
		{"latency_seconds", nil, 2, true},
		{"up", nil, 0.5, true},
		{"down", nil, 0, false},
	} {
		if got, ok := mf.Value(tt.name, tt.labels...); got != tt.want || ok != tt.ok {
			t.Errorf("Value(%s, %v) = %v, %v; want %v, %v", tt.name, tt.labels, got, ok, tt.want, tt.ok)
		}
	}
}

func TestScrapeErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/garbage" {
			w.Write([]byte("this is { not metrics\n"))
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	for path, says := range map[string]string{"/missing": "404", "/garbage": "parse"} {
		if _, err := Scrape(context.Background(), srv.URL+path); err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("Scrape(%s) = %v, want an error saying %q", path, err, says)
		}
	}
}

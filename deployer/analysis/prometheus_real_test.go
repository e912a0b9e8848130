package analysis

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/remla/tagger/test/testenv"
)

// realPrometheus starts the Prometheus of REMLA_TEST_PROMETHEUS on a free
// loopback port, scraping itself every second as a target labelled like a
// color of the app (namespace shop, app remla, color green, version 2.0.0),
// and waits until it has scraped. It is stopped, by its PID, at cleanup.
func realPrometheus(t *testing.T) *Prometheus {
	t.Helper()
	bin := os.Getenv("REMLA_TEST_PROMETHEUS")
	if bin == "" {
		testenv.Need(t, "REMLA_TEST_PROMETHEUS is not set: export REMLA_TEST_PROMETHEUS=$(test/cluster/build.sh --bin-dir)/prometheus (make test does)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	cfg := fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: remla
    static_configs:
      - targets: [%q]
        labels: {namespace: shop, app: remla, color: green, version: 2.0.0}
`, addr)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	p := &Prometheus{Address: "http://" + addr}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if vs, err := p.Query(context.Background(), `up{job="remla"}`); err == nil && len(vs) == 1 && vs[0] == 1 {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus at %s did not scrape itself within 60s:\n%s", addr, logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
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

package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// PrometheusBin returns the Prometheus server named by
// REMLA_TEST_PROMETHEUS, which has the Kubernetes service discovery that
// Debian's package is built without (test/cluster/build.sh builds it into
// the cluster cache; make test sets the variable), or Needs it.
func PrometheusBin(t testing.TB) string {
	t.Helper()
	p := os.Getenv("REMLA_TEST_PROMETHEUS")
	if p == "" {
		Need(t, "REMLA_TEST_PROMETHEUS is not set: build the cluster (make cluster-build) and export REMLA_TEST_PROMETHEUS=$(test/cluster/build.sh --bin-dir)/prometheus (make test does)")
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("REMLA_TEST_PROMETHEUS=%s: %v; build it with make cluster-build", p, err)
	}
	return p
}

// PrometheusServer is a real Prometheus a test started.
type PrometheusServer struct {
	*Process
	// URL is its base URL, http://127.0.0.1:<port>.
	URL string
	// API is client_golang's client of its HTTP API.
	API promv1.API
}

// Prometheus starts a Prometheus server on a free loopback port that
// scrapes target (host:port; "" for the server itself) every second as job
// remla, with labels, and evaluates rules every second. It returns once
// up{job="remla"} is 1. The server is REMLA_TEST_PROMETHEUS when that is
// set, else Debian's prometheus (static targets need no service discovery).
func Prometheus(t testing.TB, target string, labels map[string]string) *PrometheusServer {
	t.Helper()
	bin := os.Getenv("REMLA_TEST_PROMETHEUS")
	if bin == "" {
		bin = Tool(t, "prometheus", "prometheus")
	}
	addr := FreeAddr(t)
	if target == "" {
		target = addr
	}
	dir := t.TempDir()
	lb, err := json.Marshal(labels)
	if err != nil {
		t.Fatal(err)
	}
	// JSON is YAML: the target and the labels need no quoting of their own.
	tb, _ := json.Marshal(target)
	cfg := fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: remla
    static_configs:
      - targets: [%s]
        labels: %s
`, tb, lb)
	config := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	p := Start(t, "prometheus", exec.Command(bin, "--config.file="+config, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn"))
	s := &PrometheusServer{Process: p, URL: "http://" + addr, API: PrometheusAPI(t, "http://"+addr)}
	WaitFor(t, "prometheus to scrape "+target, 60*time.Second, 200*time.Millisecond, []*Process{p}, func() (bool, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		up, err := QueryVector(ctx, s.API, `up{job="remla"}`)
		if err != nil {
			return false, err
		}
		return len(up) == 1 && up[0].Value == 1, fmt.Errorf("up{job=\"remla\"} is %v", up)
	})
	return s
}

// PrometheusAPI is client_golang's client of the Prometheus HTTP API at url.
func PrometheusAPI(t testing.TB, url string) promv1.API {
	t.Helper()
	c, err := api.NewClient(api.Config{Address: url})
	if err != nil {
		t.Fatal(err)
	}
	return promv1.NewAPI(c)
}

// QueryVector runs the instant query q now and returns its vector; a
// result of another type is an error. Warnings are not: Prometheus gives
// them (and infos) for answers that are still right.
func QueryVector(ctx context.Context, a promv1.API, q string) (model.Vector, error) {
	v, _, _, err := a.Query(ctx, q, time.Now())
	if err != nil {
		return nil, fmt.Errorf("query %q: %w", q, err)
	}
	vec, ok := v.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("query %q: a %s, want a vector", q, v.Type())
	}
	return vec, nil
}

package app

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/remla/tagger/test/testenv"
)

func feedbackFor(t *testing.T, base, id string, happy bool) {
	t.Helper()
	code, body := do(t, http.MethodPost, base+"/api/v1/feedback", "application/json", fmt.Sprintf(`{"prediction_id": %q, "happy": %v}`, id, happy))
	if code != http.StatusCreated {
		t.Fatalf("feedback: %d %s", code, body)
	}
}

type sample struct {
	name   string
	labels []string
	want   float64
}

func checkSamples(t *testing.T, base string, samples []sample) {
	t.Helper()
	mf := testenv.MustScrape(t, base+"/metrics")
	for _, s := range samples {
		got, ok := mf.Value(s.name, s.labels...)
		if !ok {
			t.Errorf("%s%v: absent, want %v", s.name, s.labels, s.want)
		} else if got != s.want {
			t.Errorf("%s%v = %v, want %v", s.name, s.labels, got, s.want)
		}
	}
}

// TestMetricsAfterKnownSequence drives predictions and feedback through
// the API and checks every metric's value afterwards, including an
// all-unhappy phase, which the seed's metrics could not alert on.
func TestMetricsAfterKnownSequence(t *testing.T) {
	ts := startServer(t, newFake())

	// Before anything: counters at 0, both verdicts present, no satisfaction.
	mf := testenv.MustScrape(t, ts.URL+"/metrics")
	if _, ok := mf["user_satisfaction"]; ok {
		t.Fatal("user_satisfaction is present before the first answer; it must be absent")
	}
	checkSamples(t, ts.URL, []sample{
		{"num_pred", nil, 0}, {"predictions_empty_total", nil, 0}, {"percentage_empty", nil, 0},
		{"feedback_total", []string{"verdict", "happy"}, 0}, {"feedback_total", []string{"verdict", "unhappy"}, 0},
		{"model_info", []string{"version", "fake-1", "color", "green"}, 1},
	})

	// 4 predictions, 1 of them with no tag; then 3 unhappy answers only.
	var ids []string
	for _, title := range []string{"php sql", "go sort", "nothing known", "c# linq"} {
		ids = append(ids, predictID(t, ts.URL, title))
	}
	for _, id := range ids[:3] {
		feedbackFor(t, ts.URL, id, false)
	}
	checkSamples(t, ts.URL, []sample{
		{"num_pred", nil, 4}, {"predictions_empty_total", nil, 1}, {"percentage_empty", nil, 0.25},
		{"feedback_total", []string{"verdict", "happy"}, 0}, {"feedback_total", []string{"verdict", "unhappy"}, 3},
		{"user_satisfaction", nil, 0},
		{"predict_latency_seconds", nil, 4},
		{"http_requests_total", []string{"method", "POST", "route", "/api/v1/predict", "code", "200"}, 4},
		{"http_requests_total", []string{"method", "POST", "route", "/api/v1/feedback", "code", "201"}, 3},
	})

	// One happy answer, a refused duplicate, and predictions through the page
	// and the seed route (they count too).
	feedbackFor(t, ts.URL, ids[3], true)
	do(t, http.MethodPost, ts.URL+"/api/v1/feedback", "application/json", fmt.Sprintf(`{"prediction_id": %q, "happy": true}`, ids[0]))
	do(t, http.MethodPost, ts.URL+"/", "application/x-www-form-urlencoded", "title=nothing+again")
	do(t, http.MethodPost, ts.URL+"/predict", "application/json", `{"title": "php sql"}`)
	do(t, http.MethodGet, ts.URL+"/no/such/page", "", "")
	checkSamples(t, ts.URL, []sample{
		{"num_pred", nil, 6}, {"predictions_empty_total", nil, 2}, {"percentage_empty", nil, 2.0 / 6},
		{"feedback_total", []string{"verdict", "happy"}, 1}, {"feedback_total", []string{"verdict", "unhappy"}, 3},
		{"user_satisfaction", nil, 0.25},
		{"predict_latency_seconds", nil, 6},
		{"http_requests_total", []string{"method", "POST", "route", "/api/v1/feedback", "code", "409"}, 1},
		{"http_requests_total", []string{"method", "POST", "route", "/", "code", "303"}, 1},
		{"http_requests_total", []string{"method", "POST", "route", "/predict", "code", "200"}, 1},
		{"http_requests_total", []string{"method", "GET", "route", "unmatched", "code", "404"}, 1},
	})
}

// TestMetricsHelpAndLabels checks that every family has help text and that
// only model_info carries a color label (Prometheus adds color from the
// scrape target).
func TestMetricsHelpAndLabels(t *testing.T) {
	ts := startServer(t, newFake())
	feedbackFor(t, ts.URL, predictID(t, ts.URL, "php sql"), true)
	mf := testenv.MustScrape(t, ts.URL+"/metrics")
	for _, name := range []string{"num_pred", "predictions_empty_total", "percentage_empty", "feedback_total",
		"user_satisfaction", "predict_latency_seconds", "model_info", "http_requests_total", "go_goroutines", "process_resident_memory_bytes"} {
		if _, ok := mf[name]; !ok {
			t.Errorf("metric %s is missing", name)
		}
	}
	for name, f := range mf {
		if strings.TrimSpace(f.GetHelp()) == "" {
			t.Errorf("metric %s has no help text", name)
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "color" && name != "model_info" {
					t.Errorf("metric %s has a color label; only model_info may", name)
				}
			}
		}
	}
}

// TestPromtoolCheckMetrics runs Debian's promtool on the /metrics output of
// a server with the real model after predictions and feedback. The only
// complaint accepted is the seed's name num_pred lacking _total.
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool := testenv.Tool(t, "promtool", "prometheus")
	ts := startServer(t, realModel(t))
	for i, title := range []string{"How to parse JSON in Python", "Segmentation fault in C++ vector", "zzzz qqqq"} {
		feedbackFor(t, ts.URL, predictID(t, ts.URL, title), i%2 == 0)
	}
	code, body := do(t, http.MethodGet, ts.URL+"/metrics", "", "")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d", code)
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	out, _ := cmd.CombinedOutput() // non-zero whenever it has a complaint; the lines decide
	accepted := `num_pred counter metrics should have "_total" suffix`
	var problems []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line = strings.TrimSpace(line); line != "" && line != accepted {
			problems = append(problems, line)
		}
	}
	if len(problems) > 0 {
		os.WriteFile(t.TempDir()+"/metrics.txt", []byte(body), 0o644)
		t.Fatalf("promtool check metrics found problems beyond the seed's num_pred:\n%s", strings.Join(problems, "\n"))
	}
	if !strings.Contains(string(out), accepted) {
		t.Fatalf("promtool did not report the known num_pred complaint; did it run? output: %q", out)
	}
}

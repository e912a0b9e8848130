package analysis

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/template"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MetricConfig is one metric check, in the manner of an Argo
// AnalysisTemplate's metric with a Prometheus provider.
type MetricConfig struct {
	Name string `json:"name"`
	// Query is PromQL, a Go template over Args: {{.Namespace}}, {{.App}},
	// {{.Color}}, {{.Version}}.
	Query string `json:"query"`
	// SuccessCondition is "result <op> <number>", op one of < <= > >= == !=;
	// every sample of the answer must meet it.
	SuccessCondition string `json:"successCondition"`
	// Interval is the time between measurements (default 30s).
	Interval metav1.Duration `json:"interval,omitzero"`
	// Count is the number of measurements (default 1).
	Count  int `json:"count,omitempty"`
	Limits `json:",inline"`
}

// Args are what a query is templated with.
type Args struct {
	Namespace, App, Color, Version string
}

// Provider is one metrics backend (argo-rollouts metric/provider.go):
// the samples of an instant query.
type Provider interface {
	Query(ctx context.Context, query string) ([]float64, error)
}

// Validate says what cannot work.
func (m MetricConfig) Validate() error {
	if m.Name == "" || m.Query == "" {
		return fmt.Errorf("analysis metric %q: give a name and a query", m.Name)
	}
	if _, err := template.New(m.Name).Option("missingkey=error").Parse(m.Query); err != nil {
		return fmt.Errorf("analysis metric %s: query template: %w", m.Name, err)
	}
	if _, err := parseCondition(m.SuccessCondition); err != nil {
		return fmt.Errorf("analysis metric %s: %w", m.Name, err)
	}
	if m.Count < 0 || m.Interval.Duration < 0 || m.FailureLimit < 0 || m.InconclusiveLimit < 0 || m.ConsecutiveErrorLimit < 0 {
		return fmt.Errorf("analysis metric %s: count, interval and limits must not be negative", m.Name)
	}
	return nil
}

// Render is the query with a's values in place.
func (m MetricConfig) Render(a Args) (string, error) {
	t, err := template.New(m.Name).Option("missingkey=error").Parse(m.Query)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, a); err != nil {
		return "", fmt.Errorf("analysis metric %s: render the query: %w", m.Name, err)
	}
	return b.String(), nil
}

// Measure runs the check: Count measurements Interval apart, each one
// Successful when every sample meets the condition, Failed when one does
// not, Inconclusive when the query returns no sample (or NaN), Error when
// the provider fails. It stops early once the failures pass FailureLimit,
// and Assess gives the verdict.
func Measure(ctx context.Context, p Provider, m MetricConfig, a Args) Result {
	count, interval := max(m.Count, 1), m.Interval.Duration
	if interval == 0 {
		interval = 30 * time.Second
	}
	q, err := m.Render(a)
	if err != nil {
		return Result{Name: m.Name, Phase: Error, Message: err.Error()}
	}
	cond, err := parseCondition(m.SuccessCondition)
	if err != nil {
		return Result{Name: m.Name, Phase: Error, Message: err.Error()}
	}
	var ms []Measurement
	failed := 0
	for i := range count {
		if i > 0 {
			select {
			case <-ctx.Done():
				r := Assess(m.Name, ms, m.Limits)
				r.Message += fmt.Sprintf("; stopped after %d of %d measurements: %v", len(ms), count, context.Cause(ctx))
				return r
			case <-time.After(interval):
			}
		}
		mm := measureOnce(ctx, p, q, cond)
		ms = append(ms, mm)
		if mm.Phase == Failed {
			if failed++; failed > m.FailureLimit {
				break
			}
		}
	}
	r := Assess(m.Name, ms, m.Limits)
	r.Message = fmt.Sprintf("%s (%s) on %s: %s", m.SuccessCondition, strings.Join(values(ms), ", "), q, r.Message)
	return r
}

func values(ms []Measurement) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = orNone(m.Value)
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "no data"
	}
	return s
}

func measureOnce(ctx context.Context, p Provider, q string, c condition) Measurement {
	vs, err := p.Query(ctx, q)
	if err != nil {
		return Measurement{Phase: Error, Message: err.Error()}
	}
	var real []float64
	for _, v := range vs {
		if !math.IsNaN(v) {
			real = append(real, v)
		}
	}
	if len(real) == 0 {
		return Measurement{Phase: Inconclusive, Message: "the query returned no data"}
	}
	strs := make([]string, len(real))
	for i, v := range real {
		strs[i] = strconv.FormatFloat(v, 'g', 4, 64)
	}
	val := strings.Join(strs, " ")
	for _, v := range real {
		if !c.holds(v) {
			return Measurement{Phase: Failed, Value: val, Message: fmt.Sprintf("result %s does not meet %s (off by %s)", strconv.FormatFloat(v, 'g', 4, 64), c, strconv.FormatFloat(math.Abs(v-c.limit), 'g', 4, 64))}
		}
	}
	return Measurement{Phase: Successful, Value: val, Message: "meets " + c.String()}
}

// condition is "result <op> <limit>".
type condition struct {
	op    string
	limit float64
}

func (c condition) String() string { return fmt.Sprintf("result %s %g", c.op, c.limit) }

func (c condition) holds(v float64) bool {
	switch c.op {
	case "<":
		return v < c.limit
	case "<=":
		return v <= c.limit
	case ">":
		return v > c.limit
	case ">=":
		return v >= c.limit
	case "==":
		return v == c.limit
	}
	return v != c.limit
}

func parseCondition(s string) (condition, error) {
	f := strings.Fields(s)
	if len(f) != 3 || f[0] != "result" {
		return condition{}, fmt.Errorf("successCondition %q: write result <op> <number>, for example result < 0.05", s)
	}
	switch f[1] {
	case "<", "<=", ">", ">=", "==", "!=":
	default:
		return condition{}, fmt.Errorf("successCondition %q: the operator must be one of < <= > >= == !=", s)
	}
	v, err := strconv.ParseFloat(f[2], 64)
	if err != nil {
		return condition{}, fmt.Errorf("successCondition %q: %q is not a number", s, f[2])
	}
	return condition{op: f[1], limit: v}, nil
}

// Prometheus is the Provider of a Prometheus server's HTTP API.
type Prometheus struct {
	Address string
	Client  *http.Client
}

// Query runs an instant query (GET /api/v1/query) and returns the samples
// of a vector or the value of a scalar.
func (p *Prometheus) Query(ctx context.Context, query string) ([]float64, error) {
	u := strings.TrimSuffix(p.Address, "/") + "/api/v1/query?" + url.Values{"query": {query}}.Encode()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("prometheus %s: %w", p.Address, err)
	}
	c := p.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("query prometheus at %s: %w (check analysis.prometheus or --prometheus)", p.Address, err)
	}
	defer resp.Body.Close()
	var body struct {
		Status    string `json:"status"`
		Error     string `json:"error"`
		ErrorType string `json:"errorType"`
		Data      struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("prometheus at %s answered %d without its JSON: %v", p.Address, resp.StatusCode, err)
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("prometheus at %s refused the query (%s: %s)", p.Address, body.ErrorType, body.Error)
	}
	sample := func(v [2]any) (float64, error) {
		s, _ := v[1].(string)
		return strconv.ParseFloat(s, 64)
	}
	switch body.Data.ResultType {
	case "vector":
		var vec []struct {
			Value [2]any `json:"value"`
		}
		if err := json.Unmarshal(body.Data.Result, &vec); err != nil {
			return nil, fmt.Errorf("prometheus vector: %w", err)
		}
		out := make([]float64, 0, len(vec))
		for _, s := range vec {
			f, err := sample(s.Value)
			if err != nil {
				return nil, fmt.Errorf("prometheus sample %v: %w", s.Value, err)
			}
			out = append(out, f)
		}
		return out, nil
	case "scalar":
		var v [2]any
		if err := json.Unmarshal(body.Data.Result, &v); err != nil {
			return nil, fmt.Errorf("prometheus scalar: %w", err)
		}
		f, err := sample(v)
		if err != nil {
			return nil, err
		}
		return []float64{f}, nil
	}
	return nil, fmt.Errorf("prometheus answered a %s; write a query that returns an instant vector or a scalar", body.Data.ResultType)
}

package analysis

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// fakeProm answers every query with the bodies in turn (the last repeats)
// and records the queries.
func fakeProm(t *testing.T, bodies ...string) (*Prometheus, *atomic.Value) {
	var n atomic.Int64
	var last atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		last.Store(r.URL.Query().Get("query"))
		i := min(int(n.Add(1))-1, len(bodies)-1)
		w.Write([]byte(bodies[i]))
	}))
	t.Cleanup(srv.Close)
	return &Prometheus{Address: srv.URL}, &last
}

const (
	vecLow  = `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"0.01"]}]}}`
	vecHigh = `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"0.9"]}]}}`
	vecNone = `{"status":"success","data":{"resultType":"vector","result":[]}}`
	vecNaN  = `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"NaN"]}]}}`
	scalar  = `{"status":"success","data":{"resultType":"scalar","result":[1,"0.02"]}}`
	bad     = `{"status":"error","errorType":"bad_data","error":"parse error"}`
)

func TestMeasure(t *testing.T) {
	m := MetricConfig{Name: "empty-share", SuccessCondition: "result < 0.1", Interval: metav1.Duration{Duration: time.Millisecond},
		Query: `sum(rate(x{namespace="{{.Namespace}}",app="{{.App}}",color="{{.Color}}",version="{{.Version}}"}[1m]))`}
	a := Args{Namespace: "shop", App: "remla", Color: "green", Version: "2.0.0"}
	for _, tc := range []struct {
		name   string
		bodies []string
		count  int
		limits Limits
		want   Phase
		msg    string
	}{
		{"passes", []string{vecLow}, 3, Limits{}, Successful, "result < 0.1 (0.01, 0.01, 0.01)"},
		{"scalar", []string{scalar}, 1, Limits{}, Successful, "0.02"},
		{"fails", []string{vecLow, vecHigh}, 3, Limits{}, Failed, "result 0.9 does not meet result < 0.1 (off by 0.8)"},
		{"failure tolerated", []string{vecHigh, vecLow}, 3, Limits{FailureLimit: 1}, Successful, "1 failed (limit 1)"},
		{"no data", []string{vecNone}, 2, Limits{}, Inconclusive, "no data, no data"},
		{"NaN is no data", []string{vecNaN}, 1, Limits{}, Inconclusive, "the query returned no data"},
		{"query refused", []string{bad}, 2, Limits{}, Error, "bad_data: parse error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, q := fakeProm(t, tc.bodies...)
			mc := m
			mc.Count, mc.Limits = tc.count, tc.limits
			r := Measure(context.Background(), p, mc, a)
			if r.Phase != tc.want || !strings.Contains(r.Message, tc.msg) {
				t.Fatalf("%s %q, want %s with %q", r.Phase, r.Message, tc.want, tc.msg)
			}
			if want := `sum(rate(x{namespace="shop",app="remla",color="green",version="2.0.0"}[1m]))`; q.Load() != want {
				t.Fatalf("query %q, want %q", q.Load(), want)
			}
		})
	}
	t.Run("stops at the first failure past the limit", func(t *testing.T) {
		p, _ := fakeProm(t, vecHigh)
		mc := m
		mc.Count = 5
		if r := Measure(context.Background(), p, mc, a); len(r.Measurements) != 1 || r.Phase != Failed {
			t.Fatalf("%d measurements, %s", len(r.Measurements), r.Phase)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		r := Measure(context.Background(), &Prometheus{Address: "http://127.0.0.1:1"}, m, a)
		if r.Phase != Error || !strings.Contains(r.Message, "check analysis.prometheus") {
			t.Fatalf("%s %q", r.Phase, r.Message)
		}
	})
}

func TestMetricValidate(t *testing.T) {
	for _, tc := range []struct {
		m   MetricConfig
		err string
	}{
		{MetricConfig{Name: "a", Query: "up", SuccessCondition: "result > 0"}, ""},
		{MetricConfig{Name: "a", Query: "up", SuccessCondition: "up > 0"}, "write result <op> <number>"},
		{MetricConfig{Name: "a", Query: "up", SuccessCondition: "result ~ 0"}, "operator must be one of"},
		{MetricConfig{Name: "a", Query: "up", SuccessCondition: "result > x"}, `"x" is not a number`},
		{MetricConfig{Name: "a", Query: "up{{", SuccessCondition: "result > 0"}, "query template"},
		{MetricConfig{Query: "up"}, "give a name and a query"},
	} {
		err := tc.m.Validate()
		if (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%+v: %v, want %q", tc.m, err, tc.err)
		}
	}
	if _, err := (MetricConfig{Name: "a", Query: "{{.Colour}}"}).Render(Args{}); err == nil {
		t.Error("a misspelt template field rendered")
	}
}

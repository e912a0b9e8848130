package testenv

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Families are the metric families of one scrape, by name.
//
// They are for a program the test runs in another process (a binary, a
// container) or reaches only over HTTP; a test that holds the collectors
// asserts on them with client_golang's prometheus/testutil instead.
type Families map[string]*dto.MetricFamily

// Scrape GETs the /metrics endpoint at url and parses its text exposition
// with Prometheus's own parser (expfmt), as a Prometheus server would.
func Scrape(ctx context.Context, url string) (Families, error) {
	return ScrapeWith(ctx, httpClient, url)
}

// ScrapeWith is Scrape through client (one that trusts a test CA, say).
func ScrapeWith(ctx context.Context, client *http.Client, url string) (Families, error) {
	b, err := get(ctx, client, url)
	if err != nil {
		return nil, err
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mf, err := parser.TextToMetricFamilies(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", url, err)
	}
	return mf, nil
}

// MustScrape is Scrape that fails the test on an error.
func MustScrape(t testing.TB, url string) Families {
	t.Helper()
	mf, err := Scrape(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	return mf
}

// Value is the value of the first sample of family name whose labels
// include the given name, value pairs, and whether there is one. A
// histogram's or a summary's value is its sample count.
func (f Families) Value(name string, labels ...string) (float64, bool) {
	fam, ok := f[name]
	if !ok {
		return 0, false
	}
next:
	for _, m := range fam.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if v, ok := have[labels[i]]; !ok || v != labels[i+1] {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		case m.Summary != nil:
			return float64(m.Summary.GetSampleCount()), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
	}
	return 0, false
}

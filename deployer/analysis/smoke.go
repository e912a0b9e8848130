package analysis

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SmokeConfig is the smoke check of remla.yaml's analysis.smoke.
type SmokeConfig struct {
	// Requests is how many predictions to ask for (default 20).
	Requests int `json:"requests,omitempty"`
	// TitlesFile holds one title a line; empty means the built-in titles.
	TitlesFile string `json:"titlesFile,omitempty"`
	// MinNonEmpty is the share of answers that must carry a tag (default 0.5).
	MinNonEmpty float64 `json:"minNonEmpty,omitempty"`
	// MaxP95 is the highest p95 latency allowed, as remlactl sees it through
	// the service proxy (default 2s).
	MaxP95 metav1.Duration `json:"maxP95,omitzero"`
	// Concurrency is how many requests are in flight (default 4).
	Concurrency int `json:"concurrency,omitempty"`
}

// Defaults fills the zero fields.
func (c SmokeConfig) Defaults() SmokeConfig {
	if c.Requests == 0 {
		c.Requests = 20
	}
	if c.MinNonEmpty == 0 {
		c.MinNonEmpty = 0.5
	}
	if c.MaxP95.Duration == 0 {
		c.MaxP95.Duration = 2 * time.Second
	}
	if c.Concurrency == 0 {
		c.Concurrency = 4
	}
	return c
}

// Validate says what cannot work.
func (c SmokeConfig) Validate() error {
	switch {
	case c.Requests < 0:
		return fmt.Errorf("analysis.smoke.requests %d: give 1 or more", c.Requests)
	case c.MinNonEmpty < 0 || c.MinNonEmpty > 1:
		return fmt.Errorf("analysis.smoke.minNonEmpty %g: give a share between 0 and 1", c.MinNonEmpty)
	case c.MaxP95.Duration < 0 || c.Concurrency < 0:
		return fmt.Errorf("analysis.smoke: maxP95 and concurrency must not be negative")
	}
	return nil
}

// BuiltinTitles are the smoke check's titles when no file is given.
var BuiltinTitles = []string{
	"How to parse JSON in Python",
	"Convert a string to an int in Java",
	"How do I undo the most recent local commits in Git",
	"jQuery click event not firing on dynamically added elements",
	"How to join two tables in MySQL with a where clause",
	"C# LINQ group by multiple columns",
	"Sort a dictionary by value in Python",
	"Why is my PHP session variable empty after redirect",
	"How to center a div horizontally and vertically with CSS",
	"Android RecyclerView item click listener",
	"Read a file line by line in C++",
	"Spring Boot REST controller returns 404",
	"How to use async await in JavaScript with fetch",
	"Django model field default value",
	"Segmentation fault when using pointers in C",
	"Ruby on Rails has_many through association",
	"iOS Swift UITableView custom cell",
	"How to remove duplicates from a list in Python",
	"AngularJS ng-repeat filter by property",
	"Regular expression to match an email address",
}

// LoadTitles reads one title a line, skipping blank lines.
func LoadTitles(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read smoke titles: %w", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if t := strings.TrimSpace(sc.Text()); t != "" {
			out = append(out, t)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read smoke titles %s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("smoke titles %s has no title: give one a line", path)
	}
	return out, nil
}

// answer is one smoke request's outcome.
type answer struct {
	status  int
	tags    int
	latency time.Duration
	err     error
	body    string
}

// Smoke sends c.Requests predictions (titles in turn) to POST
// /api/v1/predict of t and judges three conditions, one measurement each:
// every answer 2xx, at least MinNonEmpty of them with a tag, p95 latency at
// most MaxP95.
func Smoke(ctx context.Context, t Target, titles []string, c SmokeConfig) Result {
	c = c.Defaults()
	if len(titles) == 0 {
		titles = BuiltinTitles
	}
	out := make([]answer, c.Requests)
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(c.Concurrency, c.Requests) {
		wg.Go(func() {
			for i := range next {
				out[i] = predictOnce(ctx, t, titles[i%len(titles)])
			}
		})
	}
	for i := range out {
		next <- i
	}
	close(next)
	wg.Wait()
	return judgeSmoke(out, c)
}

func predictOnce(ctx context.Context, t Target, title string) answer {
	body, _ := json.Marshal(map[string]string{"title": title})
	start := time.Now()
	code, raw, err := t.Do(ctx, http.MethodPost, "/api/v1/predict", body)
	a := answer{status: code, latency: time.Since(start), err: err}
	if err != nil {
		return a
	}
	if code/100 != 2 {
		a.body = strings.TrimSpace(string(raw[:min(len(raw), 200)]))
		return a
	}
	var p struct {
		Tags []json.RawMessage `json:"tags"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		a.err = fmt.Errorf("answer is not the JSON of POST /api/v1/predict: %v", err)
		return a
	}
	a.tags = len(p.Tags)
	return a
}

// judgeSmoke turns the answers into the three measurements and the verdict.
func judgeSmoke(out []answer, c SmokeConfig) Result {
	var ok, nonEmpty int
	codes := map[string]int{}
	var firstBad string
	lat := make([]time.Duration, 0, len(out))
	for _, a := range out {
		lat = append(lat, a.latency)
		switch {
		case a.err != nil:
			codes["no answer"]++
			if firstBad == "" {
				firstBad = a.err.Error()
			}
		case a.status/100 != 2:
			codes[fmt.Sprint(a.status)]++
			if firstBad == "" {
				firstBad = fmt.Sprintf("%d %s", a.status, a.body)
			}
		default:
			ok++
			if a.tags > 0 {
				nonEmpty++
			}
		}
	}
	n := len(out)
	var ms []Measurement
	m := Measurement{Phase: Successful, Value: fmt.Sprintf("%d/%d", ok, n), Message: fmt.Sprintf("%d of %d answers 2xx", ok, n)}
	if ok < n {
		m.Phase = Failed
		m.Message = fmt.Sprintf("%d of %d answers were not 2xx (%s); first: %s", n-ok, n, countList(codes), firstBad)
	}
	ms = append(ms, m)
	share := float64(nonEmpty) / float64(max(n, 1))
	m = Measurement{Phase: Successful, Value: fmt.Sprintf("%.2f", share),
		Message: fmt.Sprintf("%.0f%% of answers carry a tag (at least %.0f%%)", 100*share, 100*c.MinNonEmpty)}
	if share < c.MinNonEmpty {
		m.Phase = Failed
		m.Message = fmt.Sprintf("only %.0f%% of answers carry a tag, below %.0f%% by %.0f points", 100*share, 100*c.MinNonEmpty, 100*(c.MinNonEmpty-share))
	}
	ms = append(ms, m)
	p95 := percentile(lat, 0.95)
	m = Measurement{Phase: Successful, Value: p95.String(), Message: fmt.Sprintf("p95 latency %s (at most %s)", p95.Round(time.Millisecond), c.MaxP95.Duration)}
	if p95 > c.MaxP95.Duration {
		m.Phase = Failed
		m.Message = fmt.Sprintf("p95 latency %s is over %s by %s", p95.Round(time.Millisecond), c.MaxP95.Duration, (p95 - c.MaxP95.Duration).Round(time.Millisecond))
	}
	ms = append(ms, m)
	r := Assess("smoke", ms, Limits{})
	var msgs []string
	for _, m := range ms {
		if r.Phase == Successful || m.Phase != Successful {
			msgs = append(msgs, m.Message)
		}
	}
	r.Message = strings.Join(msgs, "; ")
	return r
}

// percentile is the nearest-rank percentile q of ds.
func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*q+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func countList(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d× %s", m[k], k)
	}
	return strings.Join(parts, ", ")
}

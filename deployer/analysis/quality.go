package analysis

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/remla/tagger/training"
)

// QualityConfig is the model-quality gate of remla.yaml's analysis.quality.
type QualityConfig struct {
	// File is a labelled file in the data set's format (title and tags
	// columns, .tsv or .tsv.gz), such as data/validation.tsv.gz or an
	// operator's golden set.
	File string `json:"file,omitempty"`
	// Margin is how much lower the candidate's F1 weighted may be than the
	// stable color's (default 0.01).
	Margin *float64 `json:"margin,omitempty"`
	// Limit replays only the first Limit titles (0: all).
	Limit int `json:"limit,omitempty"`
	// Concurrency is the requests in flight per color (default 8).
	Concurrency int `json:"concurrency,omitempty"`
}

// DefaultMargin is the F1-weighted margin of the quality gate.
const DefaultMargin = 0.01

// margin is Margin or its default.
func (c QualityConfig) margin() float64 {
	if c.Margin == nil {
		return DefaultMargin
	}
	return *c.Margin
}

// Validate says what cannot work.
func (c QualityConfig) Validate() error {
	switch {
	case c.File == "":
		return fmt.Errorf("analysis.quality.file is empty: name a labelled file such as data/validation.tsv.gz")
	case c.margin() < 0 || c.margin() > 1:
		return fmt.Errorf("analysis.quality.margin %g: give an F1 difference between 0 and 1, for example 0.01", c.margin())
	case c.Limit < 0 || c.Concurrency < 0:
		return fmt.Errorf("analysis.quality: limit and concurrency must not be negative")
	}
	return nil
}

// Quality is the model-quality verdict with what it compared.
type Quality struct {
	Result
	Candidate, Stable         training.Metrics
	CandidateName, StableName string
	Margin, Delta             float64
	Titles                    int
}

// QualityGate replays the labelled titles of ds to the candidate and the
// stable color, scores both with training.Evaluate over the union of the
// tags the two models know (a tag only one of them knows counts as missed by
// the other), and fails when the candidate's F1 weighted is lower than the
// stable color's by more than the margin. The result's Detail is the table
// of both sides.
func QualityGate(ctx context.Context, cand, stable Target, ds *training.Dataset, c QualityConfig) *Quality {
	q := &Quality{CandidateName: cand.Name(), StableName: stable.Name(), Margin: c.margin()}
	q.Name = "quality"
	titles, truthTags := ds.Titles, ds.Tags
	if c.Limit > 0 && c.Limit < len(titles) {
		titles, truthTags = titles[:c.Limit], truthTags[:c.Limit]
	}
	q.Titles = len(titles)
	if truthTags == nil || len(titles) == 0 {
		q.Phase, q.Message = Error, fmt.Sprintf("%s has no labelled titles: give a file with title and tags columns", ds.Path)
		return q
	}
	type side struct {
		tags []string
		pred [][]string
		err  error
	}
	var sides [2]side
	var wg sync.WaitGroup
	for i, t := range []Target{cand, stable} {
		wg.Go(func() {
			s := &sides[i]
			if s.tags, s.err = modelTags(ctx, t); s.err == nil {
				s.pred, s.err = predictAll(ctx, t, titles, max(c.Concurrency, 0))
			}
		})
	}
	wg.Wait()
	for _, s := range sides {
		if s.err != nil {
			q.Phase, q.Message = Error, s.err.Error()
			return q
		}
	}
	labels := slices.Concat(sides[0].tags, sides[1].tags)
	slices.Sort(labels)
	labels = slices.Compact(labels)
	index := make(map[string]int, len(labels))
	for i, l := range labels {
		index[l] = i
	}
	indices := func(rows [][]string) [][]int {
		out := make([][]int, len(rows))
		for i, r := range rows {
			for _, t := range r {
				if j, ok := index[t]; ok && !slices.Contains(out[i], j) {
					out[i] = append(out[i], j)
				}
			}
		}
		return out
	}
	truth := indices(truthTags)
	q.Candidate = training.Evaluate(labels, truth, indices(sides[0].pred), nil)
	q.Stable = training.Evaluate(labels, truth, indices(sides[1].pred), nil)
	q.Delta = q.Candidate.F1Weighted - q.Stable.F1Weighted
	m := Measurement{Phase: Successful, Value: strconv.FormatFloat(q.Delta, 'f', 4, 64)}
	if q.Delta < -q.Margin {
		m.Phase = Failed
		m.Message = fmt.Sprintf("F1 weighted %.4f against the stable color's %.4f: worse by %.4f, more than the margin %.4f by %.4f",
			q.Candidate.F1Weighted, q.Stable.F1Weighted, -q.Delta, q.Margin, -q.Delta-q.Margin)
	} else {
		m.Message = fmt.Sprintf("F1 weighted %.4f against the stable color's %.4f (change %+.4f, margin %.4f)",
			q.Candidate.F1Weighted, q.Stable.F1Weighted, q.Delta, q.Margin)
	}
	q.Measurements = []Measurement{m}
	q.Phase, q.Message = m.Phase, fmt.Sprintf("%d titles: %s", q.Titles, m.Message)
	q.Detail = q.Table(5)
	return q
}

// Table prints both sides in one table, with the worst tags tags that
// regressed most (by F1, among tags with support).
func (q *Quality) Table(worst int) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "metric\tstable\tcandidate\tchange\n")
	for _, r := range []struct {
		name string
		s, c float64
	}{
		{"accuracy", q.Stable.Accuracy, q.Candidate.Accuracy},
		{"F1 weighted", q.Stable.F1Weighted, q.Candidate.F1Weighted},
		{"F1 micro", q.Stable.F1Micro, q.Candidate.F1Micro},
		{"F1 macro", q.Stable.F1Macro, q.Candidate.F1Macro},
		{"tags per title", q.Stable.MeanTags, q.Candidate.MeanTags},
	} {
		fmt.Fprintf(w, "%s\t%.4f\t%.4f\t%+.4f\n", r.name, r.s, r.c, r.c-r.s)
	}
	fmt.Fprintf(w, "titles with no tag\t%d\t%d\t%+d\n", q.Stable.NoTag, q.Candidate.NoTag, q.Candidate.NoTag-q.Stable.NoTag)
	w.Flush()
	type reg struct {
		tag     string
		s, c    float64
		support int
	}
	var regs []reg
	for i, st := range q.Stable.PerTag {
		ct := q.Candidate.PerTag[i]
		if st.Support > 0 && ct.F1 < st.F1 {
			regs = append(regs, reg{st.Tag, st.F1, ct.F1, st.Support})
		}
	}
	slices.SortStableFunc(regs, func(a, b reg) int { return cmp.Compare(a.c-a.s, b.c-b.s) })
	fmt.Fprintf(&b, "stable: %s; candidate: %s; %d titles\n", q.StableName, q.CandidateName, q.Titles)
	if len(regs) == 0 {
		b.WriteString("no tag's F1 went down\n")
		return b.String()
	}
	fmt.Fprintf(&b, "tags that regressed most (F1, of %d that went down):\n", len(regs))
	w = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "tag\tsupport\tstable\tcandidate\tchange\n")
	for _, r := range regs[:min(worst, len(regs))] {
		fmt.Fprintf(w, "%s\t%d\t%.4f\t%.4f\t%+.4f\n", r.tag, r.support, r.s, r.c, r.c-r.s)
	}
	w.Flush()
	return b.String()
}

// modelTags is GET /api/v1/tags of t.
func modelTags(ctx context.Context, t Target) ([]string, error) {
	code, raw, err := t.Do(ctx, http.MethodGet, "/api/v1/tags", nil)
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("GET /api/v1/tags of %s answered %d: %s", t.Name(), code, clip(raw))
	}
	var v struct {
		Tags []string `json:"tags"`
	}
	if err := json.Unmarshal(raw, &v); err != nil || len(v.Tags) == 0 {
		return nil, fmt.Errorf("GET /api/v1/tags of %s: no tag list in %s", t.Name(), clip(raw))
	}
	return v.Tags, nil
}

// predictAll asks t for the tags of every title, concurrency at a time.
// A 429 is waited out (its Retry-After, at most 5 s a time, up to a minute
// a title): the application's rate limit is a client's to respect.
func predictAll(ctx context.Context, t Target, titles []string, concurrency int) ([][]string, error) {
	if concurrency == 0 {
		concurrency = 8
	}
	out := make([][]string, len(titles))
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(concurrency, len(titles)) {
		wg.Go(func() {
			for i := range next {
				tags, err := predictTags(ctx, t, titles[i])
				if err != nil {
					cancel(fmt.Errorf("title %d (%q): %w", i+1, titles[i], err))
					continue
				}
				out[i] = tags
			}
		})
	}
feed:
	for i := range titles {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, fmt.Errorf("replay to %s: %w", t.Name(), err)
	}
	return out, nil
}

func predictTags(ctx context.Context, t Target, title string) ([]string, error) {
	body, _ := json.Marshal(map[string]string{"title": title})
	deadline := time.Now().Add(time.Minute)
	for {
		code, raw, err := t.Do(ctx, http.MethodPost, "/api/v1/predict", body)
		if err != nil {
			return nil, err
		}
		if code == http.StatusTooManyRequests && time.Now().Before(deadline) {
			select {
			case <-ctx.Done():
				return nil, context.Cause(ctx)
			case <-time.After(200 * time.Millisecond):
			}
			continue
		}
		if code != http.StatusOK {
			return nil, fmt.Errorf("POST /api/v1/predict answered %d: %s", code, clip(raw))
		}
		var p struct {
			Tags []struct {
				Tag string `json:"tag"`
			} `json:"tags"`
		}
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, fmt.Errorf("POST /api/v1/predict: not its JSON: %v", err)
		}
		tags := make([]string, len(p.Tags))
		for i, s := range p.Tags {
			tags[i] = s.Tag
		}
		return tags, nil
	}
}

func clip(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

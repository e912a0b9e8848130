package model

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"
)

// CodeVersion is set at build time:
// -ldflags "-X github.com/remla/tagger/model.CodeVersion=<git describe>" (the Makefile does this).
var CodeVersion = "dev"

// TagScore is one predicted tag and its score, the fitted probability that the tag applies.
type TagScore struct {
	Tag   string  `json:"tag"`
	Score float64 `json:"score"`
}

// Rule is the decision rule that turns per-tag probabilities into the set of predicted tags.
//
// A tag t is picked when p_t >= Thresholds[t] and p_t >= Relative·p_top, where p_top is the
// highest probability of the title. When nothing is picked and AlwaysTop is set, the top tag is
// picked all the same if p_top >= Floor. At most MaxTags tags are kept (0: no limit).
// The notebook's rule is Thresholds all 0.5, Relative 0, AlwaysTop false.
type Rule struct {
	Name       string    `json:"name"`
	Thresholds []float64 `json:"thresholds"`
	Relative   float64   `json:"relative"`
	AlwaysTop  bool      `json:"always_top"`
	Floor      float64   `json:"floor"`
	MaxTags    int       `json:"max_tags"`
}

// FixedRule is the notebook's rule: a tag is predicted when its probability is at least 0.5.
func FixedRule(numTags int) Rule {
	t := make([]float64, numTags)
	for i := range t {
		t[i] = 0.5
	}
	return Rule{Name: "fixed-0.5", Thresholds: t}
}

// Meta is what a model file says about how the model was made.
type Meta struct {
	// Version identifies the model: creation time and a digest of its content, e.g. "20261126T0142Z-3f2a9c1".
	Version     string    `json:"version"`
	CodeVersion string    `json:"code_version"`
	Created     time.Time `json:"created"`
	Tokenizer   Tokenizer `json:"tokenizer"`
	// Config is the training configuration, as the trainer wrote it.
	Config json.RawMessage `json:"config,omitempty"`
	// DataSHA256 maps each training/evaluation file name to the sha256 of its bytes.
	DataSHA256 map[string]string `json:"data_sha256,omitempty"`
	// Metrics holds the evaluation the trainer ran, as it wrote it.
	Metrics json.RawMessage `json:"metrics,omitempty"`
}

// Spec is the full content of a model, as the trainer builds it and the file stores it.
type Spec struct {
	Meta       Meta
	Vectorizer *Vectorizer
	Tags       []string
	// Weights is feature-major: Weights[f*len(Tags)+t] is the weight of feature f for tag t, so a
	// title's scores are one pass over its few non-zero features. float32 halves the memory a
	// title's scoring reads (and the file); sums are taken in float64.
	Weights []float32
	// Int8, when set instead of Weights, holds them quantised to 8 bits with a scale per feature:
	// weight(f, t) ≈ Scale[f]·Q[f*len(Tags)+t]. A quarter of the float32 memory, so a model with a
	// large vocabulary still loads fast and stays small in a server.
	Int8 *Int8Weights
	Bias []float64
	Rule Rule
}

// Model is a trained tagger. It is read-only and safe for concurrent use.
type Model struct {
	spec   Spec
	sorted []string
	pool   sync.Pool
	// decision is the model's rule on logits, so Predict compares raw scores and takes the
	// sigmoid only of the few tags that pass.
	decision *Decision
}

type scratch struct {
	tokens []string
	vec    Sparse
	key    []byte
	z      []float64
	picked []int
	dedup  Dedup
}

// New checks that the parts of s fit together and returns the model.
func New(s Spec) (*Model, error) {
	if s.Vectorizer == nil {
		return nil, fmt.Errorf("model has no vectorizer")
	}
	nt, nf := len(s.Tags), s.Vectorizer.Len()
	if nt == 0 {
		return nil, fmt.Errorf("model has no tags")
	}
	switch {
	case s.Int8 != nil && s.Weights != nil:
		return nil, fmt.Errorf("model has both float32 and int8 weights")
	case s.Int8 != nil:
		if len(s.Int8.Q) != nt*nf || len(s.Int8.Scale) != nf {
			return nil, fmt.Errorf("model has %d int8 weights and %d scales, want %d features × %d tags", len(s.Int8.Q), len(s.Int8.Scale), nf, nt)
		}
		for _, sc := range s.Int8.Scale {
			if f := float64(sc); math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
				return nil, fmt.Errorf("model has a bad weight scale %v", sc)
			}
		}
	case len(s.Weights) != nt*nf:
		return nil, fmt.Errorf("model has %d weights, want %d features × %d tags = %d", len(s.Weights), nf, nt, nf*nt)
	}
	if len(s.Bias) != nt {
		return nil, fmt.Errorf("model has %d bias values for %d tags", len(s.Bias), nt)
	}
	if len(s.Rule.Thresholds) != nt {
		return nil, fmt.Errorf("decision rule has %d thresholds for %d tags", len(s.Rule.Thresholds), nt)
	}
	switch s.Meta.Tokenizer {
	case TokenizerReference, TokenizerCode:
	default:
		return nil, fmt.Errorf("unknown tokenizer %q", s.Meta.Tokenizer)
	}
	seen := make(map[string]bool, nt)
	for _, t := range s.Tags {
		if t == "" || seen[t] {
			return nil, fmt.Errorf("tag %q is empty or repeated", t)
		}
		seen[t] = true
	}
	for _, w := range s.Weights {
		if f := float64(w); math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("model has a non-finite weight")
		}
	}
	m := &Model{spec: s, sorted: slices.Sorted(slices.Values(s.Tags))}
	m.pool.New = func() any { return &scratch{z: make([]float64, nt)} }
	m.decision = NewDecision(s.Rule)
	return m, nil
}

// Spec returns the model's content. The caller must not modify it.
func (m *Model) Spec() Spec { return m.spec }

// Meta returns what the model file says about how the model was made.
func (m *Model) Meta() Meta { return m.spec.Meta }

// Version is the model's version string (what the web page and /version show).
func (m *Model) Version() string { return m.spec.Meta.Version }

// Tags returns every tag the model knows, sorted. The caller must not modify it.
func (m *Model) Tags() []string { return m.sorted }

// Predict prepares and vectorises the title and returns the tags the decision rule picks, highest
// score first; an empty (non-nil) slice when none.
func (m *Model) Predict(title string) []TagScore {
	s := m.pool.Get().(*scratch)
	defer m.pool.Put(s)
	m.logits(s, title)
	s.picked = m.decision.Pick(s.picked[:0], s.z)
	out := make([]TagScore, len(s.picked))
	for i, t := range s.picked {
		out[i] = TagScore{Tag: m.spec.Tags[t], Score: Sigmoid(s.z[t])}
	}
	return out
}

// Logits writes the score of every tag before the sigmoid (in the order of Spec().Tags) for the
// title into z, which it grows to len(Tags) and returns. It is the path Predict scores on, so
// Decision().Pick on its result picks what Predict picks, and Sigmoid gives Predict's scores.
func (m *Model) Logits(z []float64, title string) []float64 {
	s := m.pool.Get().(*scratch)
	defer m.pool.Put(s)
	m.logits(s, title)
	return append(z[:0], s.z...)
}

// Decision returns the model's decision rule, ready for logits.
func (m *Model) Decision() *Decision { return m.decision }

// Scores returns the probability of every tag for the title, in the order of Spec().Tags.
func (m *Model) Scores(title string) []float64 {
	z := m.Logits(nil, title)
	for t := range z {
		z[t] = Sigmoid(z[t])
	}
	return z
}

// logits prepares and vectorises the title into s and writes bias + x·W into s.z.
func (m *Model) logits(s *scratch, title string) {
	s.tokens = TokenizeWith(m.spec.Meta.Tokenizer, s.tokens[:0], title)
	s.key = m.spec.Vectorizer.TransformUnsorted(&s.vec, s.tokens, s.key, &s.dedup)
	copy(s.z, m.spec.Bias)
	if q := m.spec.Int8; q != nil {
		AddRows(s.z, &s.vec, q.Q, q.Scale)
	} else {
		AddRows(s.z, &s.vec, m.spec.Weights, nil)
	}
}

// Int8Weights are weights quantised to 8 bits with one scale per feature (see Spec.Int8).
type Int8Weights struct {
	Q     []int8
	Scale []float32
}

// QuantizeInt8 quantises feature-major weights (numTags per feature): each feature's weights are
// divided by max|w|/127 and rounded, so the largest keeps 7 bits of precision.
func QuantizeInt8(w []float32, numTags int) *Int8Weights {
	nf := len(w) / numTags
	q := &Int8Weights{Q: make([]int8, len(w)), Scale: make([]float32, nf)}
	for f := 0; f < nf; f++ {
		row := w[f*numTags : (f+1)*numTags]
		var mx float64
		for _, x := range row {
			mx = math.Max(mx, math.Abs(float64(x)))
		}
		if mx == 0 {
			continue
		}
		scale := mx / 127
		q.Scale[f] = float32(scale)
		for t, x := range row {
			q.Q[f*numTags+t] = int8(math.Max(-127, math.Min(127, math.Round(float64(x)/scale))))
		}
	}
	return q
}

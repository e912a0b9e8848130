package model

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
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

// Pick applies the rule to the probabilities p (one per tag) and appends the picked tag indices,
// highest probability first, to dst.
func (r *Rule) Pick(dst []int, p []float64) []int {
	return r.pick(dst, p, r.Thresholds, r.Floor, identity)
}

// pick is the rule on scores v that order tags as their probabilities do: thr and floor are on
// v's scale, and prob turns a score into its probability for the test relative to the top tag.
// Pick runs it on probabilities, Model.Predict on logits (no sigmoid for tags that fail thr).
func (r *Rule) pick(dst []int, v, thr []float64, floor float64, prob func(float64) float64) []int {
	start := len(dst)
	if len(v) == 0 {
		return dst
	}
	top := 0
	for t := range v {
		if v[t] > v[top] {
			top = t
		}
	}
	relMin := r.Relative * prob(v[top])
	for t, vt := range v {
		if vt >= thr[t] && prob(vt) >= relMin {
			dst = append(dst, t)
		}
	}
	if len(dst) == start && r.AlwaysTop && v[top] >= floor {
		dst = append(dst, top)
	}
	picked := dst[start:]
	sort.SliceStable(picked, func(i, j int) bool { return v[picked[i]] > v[picked[j]] })
	if r.MaxTags > 0 && len(picked) > r.MaxTags {
		dst = dst[:start+r.MaxTags]
	}
	return dst
}

func identity(p float64) float64 { return p }

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
	// The rule's thresholds and floor as logits, so Predict compares raw scores and takes the
	// sigmoid only of the few tags that pass.
	logitThr   []float64
	logitFloor float64
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
	m.logitThr = make([]float64, nt)
	for t, th := range s.Rule.Thresholds {
		m.logitThr[t] = logit(th)
	}
	m.logitFloor = logit(s.Rule.Floor)
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
	s.tokens = TokenizeWith(m.spec.Meta.Tokenizer, s.tokens[:0], title)
	s.key = m.spec.Vectorizer.TransformUnsorted(&s.vec, s.tokens, s.key, &s.dedup)
	m.logits(s.z, &s.vec)
	s.picked = m.pickLogits(s.picked[:0], s.z)
	out := make([]TagScore, len(s.picked))
	for i, t := range s.picked {
		out[i] = TagScore{Tag: m.spec.Tags[t], Score: Sigmoid(s.z[t])}
	}
	return out
}

// pickLogits is Rule.Pick on the logits z = logit(p): the same tags in the same order.
func (m *Model) pickLogits(dst []int, z []float64) []int {
	return m.spec.Rule.pick(dst, z, m.logitThr, m.logitFloor, Sigmoid)
}

// logit is the inverse of Sigmoid, ±Inf outside (0, 1).
func logit(p float64) float64 {
	switch {
	case p <= 0:
		return math.Inf(-1)
	case p >= 1:
		return math.Inf(1)
	}
	return math.Log(p / (1 - p))
}

// Scores returns the probability of every tag for the title, in the order of Spec().Tags.
func (m *Model) Scores(title string) []float64 {
	s := m.pool.Get().(*scratch)
	defer m.pool.Put(s)
	m.scoreInto(s, title)
	return slices.Clone(s.z)
}

// ScoreVector writes the probability of every tag for the feature vector x into p (len(Tags)).
func (m *Model) ScoreVector(p []float64, x *Sparse) {
	m.logits(p, x)
	for t, z := range p {
		p[t] = Sigmoid(z)
	}
}

// logits writes bias + x·W, the score of every tag before the sigmoid, into p.
func (m *Model) logits(p []float64, x *Sparse) {
	nt := len(m.spec.Tags)
	copy(p, m.spec.Bias)
	p = p[:nt]
	if q := m.spec.Int8; q != nil {
		for k, j := range x.Idx {
			v := x.Val[k] * float64(q.Scale[j])
			row := q.Q[int(j)*nt : int(j)*nt+nt]
			p := p[:len(row)]
			t := 0
			for ; t+4 <= len(row); t += 4 {
				r, s := row[t:t+4:t+4], p[t:t+4:t+4]
				s[0] += v * float64(r[0])
				s[1] += v * float64(r[1])
				s[2] += v * float64(r[2])
				s[3] += v * float64(r[3])
			}
			for ; t < len(row); t++ {
				p[t] += v * float64(row[t])
			}
		}
		return
	}
	w := m.spec.Weights
	for k, j := range x.Idx {
		v := x.Val[k]
		row := w[int(j)*nt : int(j)*nt+nt]
		p := p[:len(row)]
		t := 0
		for ; t+4 <= len(row); t += 4 {
			r, q := row[t:t+4:t+4], p[t:t+4:t+4]
			q[0] += v * float64(r[0])
			q[1] += v * float64(r[1])
			q[2] += v * float64(r[2])
			q[3] += v * float64(r[3])
		}
		for ; t < len(row); t++ {
			p[t] += v * float64(row[t])
		}
	}
}

func (m *Model) scoreInto(s *scratch, title string) {
	s.tokens = TokenizeWith(m.spec.Meta.Tokenizer, s.tokens[:0], title)
	s.key = m.spec.Vectorizer.Transform(&s.vec, s.tokens, s.key)
	m.ScoreVector(s.z, &s.vec)
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

// Sigmoid is the logistic function 1/(1+e^-z), computed without overflow.
func Sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

package training

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/remla/tagger/model"
)

// Config is a complete training configuration. It is stored in the model file.
type Config struct {
	Name     string        `json:"name"`
	Features FeatureConfig `json:"features"`
	Solver   SolverConfig  `json:"solver"`
	Rule     RuleConfig    `json:"rule"`
	Seed     uint64        `json:"seed"`
	// Tokenizer is the text preparation: "reference" (the notebook's; the default when empty) or
	// "code" (prose's tokenizer, keeping c#, .net, node.js whole).
	Tokenizer model.Tokenizer `json:"tokenizer,omitempty"`
	// Int8 stores the weights quantised to 8 bits per feature row (model.QuantizeInt8): a quarter
	// of the float32 size, for large vocabularies. The reference configurations keep float32.
	Int8 bool `json:"int8_weights,omitempty"`
}

func (c Config) tokenizer() model.Tokenizer {
	if c.Tokenizer == "" {
		return model.TokenizerReference
	}
	return c.Tokenizer
}

// Presets are the named configurations: "default" (what `make train` uses) and the notebook's
// reference configurations, "<bow|tfidf>-<l1|l2>-<C>".
var Presets = presets()

func presets() map[string]Config {
	p := map[string]Config{
		"default": {
			Name: "default",
			Features: FeatureConfig{VectorizerConfig: model.VectorizerConfig{Kind: model.TFIDF, MaxN: 2, Sublinear: true, Normalize: true, CharMin: 2, CharMax: 4},
				MinDF: 1, MaxDF: 0.9},
			Solver: SolverConfig{Penalty: "l2", C: 10, Tol: 1e-2, MaxIter: 1000},
			Rule:   RuleConfig{Kind: "tuned", Holdout: 0.2, Shrink: 10, AccuracyMargin: 0.01},
			Int8:   true,
		},
	}
	for _, feat := range []string{"bow", "tfidf"} {
		for _, pen := range []string{"l1", "l2"} {
			for _, c := range []float64{1, 10} {
				cfg := Reference(feat, pen, c)
				p[cfg.Name] = cfg
			}
		}
	}
	return p
}

// Reference is the notebook's configuration: bag of words over the 5,000 most frequent words or
// TF-IDF (min_df=5, max_df=0.9, 1–2 grams), liblinear's logistic regression, the 0.5 rule.
func Reference(features, penalty string, c float64) Config {
	cfg := Config{
		Name:   fmt.Sprintf("%s-%s-%g", features, penalty, c),
		Solver: SolverConfig{Penalty: penalty, C: c, Tol: 1e-4, MaxIter: 1000},
		Rule:   RuleConfig{Kind: "fixed"},
	}
	if features == "bow" {
		cfg.Features = FeatureConfig{VectorizerConfig: model.VectorizerConfig{Kind: model.BagOfWords, MaxN: 1}, MaxFeatures: 5000}
	} else {
		cfg.Features = FeatureConfig{VectorizerConfig: model.VectorizerConfig{Kind: model.TFIDF, MaxN: 2, Normalize: true}, MinDF: 5, MaxDF: 0.9}
	}
	return cfg
}

// Options are the settings that do not change the model.
type Options struct {
	Workers  int               // goroutines fitting tags; 0: all cores
	Progress func(Stage)       // told as fitting goes; may be nil
	Created  time.Time         // creation time stored in the model (the zero time: now)
	Extra    map[string]string // more data files to record the sha256 of (name → sha256)
}

// Stage is a progress report.
type Stage struct {
	Name        string // "tune" (fitting on the non-held-out rows) or "fit" (the final fit)
	Done, Total int
}

// Result is what training found out besides the model.
type Result struct {
	Holdout      *Metrics // the tuned rule on the held-out rows (nil for the fixed rule)
	HoldoutFixed *Metrics // the 0.5 rule on the held-out rows
	Tuning       *Tuning  // the rule tuned on the serving weights beside the one tuned before rounding
	Iterations   []int
	Unconverged  []string // tags whose solver hit MaxIter
	FitSeconds   float64
}

// Train fits a model on train with cfg.
func Train(ctx context.Context, cfg Config, train *Dataset, opt Options) (*model.Model, *Result, error) {
	if train.Tags == nil {
		return nil, nil, fmt.Errorf("%s has no tags column; training needs labelled titles", train.Path)
	}
	if tk := cfg.tokenizer(); tk != model.TokenizerReference && tk != model.TokenizerCode {
		return nil, nil, fmt.Errorf("tokenizer %q: want %q or %q", tk, model.TokenizerReference, model.TokenizerCode)
	}
	start := time.Now()
	docs := make([][]string, len(train.Titles))
	for i, t := range train.Titles {
		docs[i] = model.TokenizeWith(cfg.tokenizer(), nil, t)
	}
	tags := tagList(train.Tags)
	index := make(map[string]int, len(tags))
	for i, t := range tags {
		index[t] = i
	}
	truth := make([][]int, len(docs))
	for i, ts := range train.Tags {
		for _, t := range ts {
			truth[i] = append(truth[i], index[t])
		}
	}
	res := &Result{}
	rule := model.FixedRule(len(tags))
	switch cfg.Rule.Kind {
	case "fixed":
	case "tuned":
		if cfg.Rule.Holdout <= 0 || cfg.Rule.Holdout >= 1 {
			return nil, nil, fmt.Errorf("holdout fraction %g: want a number between 0 and 1", cfg.Rule.Holdout)
		}
		// The shuffled rows are cut into 1/Holdout folds; each of the first Folds folds is held
		// out in turn from a fit on the others, and the rule is tuned on all held-out rows.
		perm := rand.New(rand.NewPCG(cfg.Seed, 0x5eed)).Perm(len(docs))
		k := int(math.Round(1 / cfg.Rule.Holdout))
		folds := min(max(cfg.Rule.Folds, 1), k)
		// Each held-out row is scored twice: through the weights that will serve (float32, or
		// int8 when cfg.Int8) on the serving path, and on the float64 weights the solver fitted.
		// The rule is tuned on the first; the second says what tuning before quantising chose.
		var zs, z64 [][]float64
		var ht [][]int
		for f := 0; f < folds; f++ {
			lo, hi := f*len(docs)/k, (f+1)*len(docs)/k
			held := slices.Clone(perm[lo:hi])
			fit := append(slices.Clone(perm[:lo]), perm[hi:]...)
			slices.Sort(held)
			slices.Sort(fit)
			name := "tune"
			if folds > 1 {
				name = fmt.Sprintf("tune %d/%d", f+1, folds)
			}
			stage := func(done, total int) {
				if opt.Progress != nil {
					opt.Progress(Stage{Name: name, Done: done, Total: total})
				}
			}
			lin, vec, err := fitRows(ctx, cfg, docs, truth, len(tags), fit, opt.Workers, stage)
			if err != nil {
				return nil, nil, err
			}
			serving, err := model.New(servingSpec(cfg, vec, tags, lin, model.FixedRule(len(tags))))
			if err != nil {
				return nil, nil, fmt.Errorf("assemble the fold's model: %w", err)
			}
			for _, i := range held {
				zs = append(zs, serving.Logits(nil, train.Titles[i]))
			}
			z64 = append(z64, fittedLogits(vec, lin, docs, held)...)
			ht = append(ht, pick(truth, held)...)
		}
		var err error
		if rule, err = TuneRule(tags, zs, ht, cfg.Rule); err != nil {
			return nil, nil, err
		}
		before, err := TuneRule(tags, z64, ht, cfg.Rule)
		if err != nil {
			return nil, nil, err
		}
		p := probabilities(zs)
		mt := Evaluate(tags, ht, decide(model.NewDecision(rule), zs), p)
		mf := Evaluate(tags, ht, decide(model.NewDecision(model.FixedRule(len(tags))), zs), p)
		mb := Evaluate(tags, ht, decide(model.NewDecision(before), zs), p)
		res.Holdout, res.HoldoutFixed = &mt, &mf
		res.Tuning = &Tuning{Weights: weightKind(cfg), Before: &mb, After: &mt, Moved: moved(before, rule)}
	default:
		return nil, nil, fmt.Errorf("decision rule %q: want fixed or tuned", cfg.Rule.Kind)
	}
	all := make([]int, len(docs))
	for i := range all {
		all[i] = i
	}
	stage := func(done, total int) {
		if opt.Progress != nil {
			opt.Progress(Stage{Name: "fit", Done: done, Total: total})
		}
	}
	lin, vec, err := fitRows(ctx, cfg, docs, truth, len(tags), all, opt.Workers, stage)
	if err != nil {
		return nil, nil, err
	}
	res.Iterations = lin.Iterations
	for t, ok := range lin.Converged {
		if !ok {
			res.Unconverged = append(res.Unconverged, tags[t])
		}
	}
	res.FitSeconds = time.Since(start).Seconds()

	created := opt.Created
	if created.IsZero() {
		created = time.Now()
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return nil, nil, err
	}
	sums := map[string]string{"train": train.SHA256}
	for k, v := range opt.Extra {
		sums[k] = v
	}
	spec := servingSpec(cfg, vec, tags, lin, rule)
	spec.Meta.CodeVersion, spec.Meta.Created = model.CodeVersion, created.UTC().Truncate(time.Second)
	spec.Meta.Config, spec.Meta.DataSHA256 = cfgJSON, sums
	if err := model.StampVersion(&spec); err != nil {
		return nil, nil, err
	}
	m, err := model.New(spec)
	if err != nil {
		return nil, nil, fmt.Errorf("assemble model: %w", err)
	}
	return m, res, nil
}

// WithMetrics returns a copy of m whose file also records the metrics (as JSON).
func WithMetrics(m *model.Model, metrics any) (*model.Model, error) {
	spec := m.Spec()
	b, err := json.Marshal(metrics)
	if err != nil {
		return nil, err
	}
	spec.Meta.Metrics = b
	return model.New(spec)
}

func fitRows(ctx context.Context, cfg Config, docs [][]string, truth [][]int, nt int, rows []int, workers int, progress Progress) (*Linear, *model.Vectorizer, error) {
	sub := make([][]string, len(rows))
	for k, i := range rows {
		sub[k] = docs[i]
	}
	vec, err := FitVectorizer(cfg.Features, sub)
	if err != nil {
		return nil, nil, err
	}
	X := Vectorize(vec, sub)
	Y := make([][]bool, nt)
	for t := range Y {
		Y[t] = make([]bool, len(rows))
	}
	for k, i := range rows {
		for _, t := range truth[i] {
			Y[t][k] = true
		}
	}
	lin, err := FitOneVsRest(ctx, X, Y, cfg.Solver, cfg.Seed, workers, progress)
	if err != nil {
		return nil, nil, err
	}
	return lin, vec, nil
}

// servingSpec is the model that serves lin's weights: float32, or int8 when cfg.Int8.
func servingSpec(cfg Config, vec *model.Vectorizer, tags []string, lin *Linear, rule model.Rule) model.Spec {
	spec := model.Spec{Meta: model.Meta{Tokenizer: cfg.tokenizer()}, Vectorizer: vec, Tags: tags,
		Weights: float32s(lin.Weights), Bias: lin.Bias, Rule: rule}
	if cfg.Int8 {
		spec.Int8, spec.Weights = model.QuantizeInt8(spec.Weights, len(tags)), nil
	}
	return spec
}

func weightKind(cfg Config) string {
	if cfg.Int8 {
		return "int8"
	}
	return "float32"
}

// fittedLogits scores the rows of docs on the float64 weights the solver fitted, before they are
// rounded for serving.
func fittedLogits(vec *model.Vectorizer, lin *Linear, docs [][]string, rows []int) [][]float64 {
	out := make([][]float64, len(rows))
	var x model.Sparse
	var key []byte
	for k, i := range rows {
		key = vec.Transform(&x, docs[i], key)
		z := slices.Clone(lin.Bias)
		model.AddRows(z, &x, lin.Weights, nil)
		out[k] = z
	}
	return out
}

// probabilities is the sigmoid of each logit.
func probabilities(z [][]float64) [][]float64 {
	out := make([][]float64, len(z))
	for i, row := range z {
		out[i] = make([]float64, len(row))
		for t, zt := range row {
			out[i][t] = model.Sigmoid(zt)
		}
	}
	return out
}

func float32s(xs []float64) []float32 {
	out := make([]float32, len(xs))
	for i, x := range xs {
		out[i] = float32(x)
	}
	return out
}

func pick[T any](xs []T, rows []int) []T {
	out := make([]T, len(rows))
	for k, i := range rows {
		out[k] = xs[i]
	}
	return out
}

// decide applies d to each row of logits.
func decide(d *model.Decision, z [][]float64) [][]int {
	out := make([][]int, len(z))
	for i, row := range z {
		out[i] = d.Pick(nil, row)
	}
	return out
}

func tagList(rows [][]string) []string {
	seen := map[string]bool{}
	var tags []string
	for _, ts := range rows {
		for _, t := range ts {
			if !seen[t] {
				seen[t] = true
				tags = append(tags, t)
			}
		}
	}
	sort.Strings(tags)
	return tags
}

// Evaluation is a model scored on a labelled file with its own rule and with the 0.5 rule.
type Evaluation struct {
	File    string    `json:"file"`
	SHA256  string    `json:"sha256"`
	Rule    string    `json:"rule"`
	Metrics Metrics   `json:"metrics"`
	Fixed   *Metrics  `json:"fixed_rule,omitempty"` // the 0.5 rule, when the model's rule is another
	Curve   []PRPoint `json:"micro_pr_curve,omitempty"`
	// Predictions are the tags picked for each title, in the file's order, as Model.Predict gives them.
	Predictions [][]model.TagScore `json:"-"`
}

// EvaluateModel scores m on the labelled dataset d.
func EvaluateModel(m *model.Model, d *Dataset) (*Evaluation, error) {
	if d.Tags == nil {
		return nil, fmt.Errorf("%s has no tags column; evaluation needs labelled titles", d.Path)
	}
	spec := m.Spec()
	index := make(map[string]int, len(spec.Tags))
	for i, t := range spec.Tags {
		index[t] = i
	}
	truth := make([][]int, len(d.Titles))
	unknown := 0
	for i, ts := range d.Tags {
		for _, t := range ts {
			if j, ok := index[t]; ok {
				truth[i] = append(truth[i], j)
			} else {
				unknown++
			}
		}
	}
	// The serving path: Model.Logits and the model's Decision are what Model.Predict runs.
	z := make([][]float64, len(d.Titles))
	for i, title := range d.Titles {
		z[i] = m.Logits(nil, title)
	}
	p := probabilities(z)
	pred := decide(m.Decision(), z)
	ev := &Evaluation{File: d.Path, SHA256: d.SHA256, Rule: spec.Rule.Name, Predictions: make([][]model.TagScore, len(pred))}
	for i, ts := range pred {
		ev.Predictions[i] = make([]model.TagScore, len(ts))
		for k, t := range ts {
			ev.Predictions[i][k] = model.TagScore{Tag: spec.Tags[t], Score: p[i][t]}
		}
	}
	ev.Metrics = Evaluate(spec.Tags, truth, pred, p)
	ev.Metrics.UnknownTags = unknown
	if spec.Rule.Name != "fixed-0.5" {
		f := Evaluate(spec.Tags, truth, decide(model.NewDecision(model.FixedRule(len(spec.Tags))), z), p)
		f.UnknownTags = unknown
		ev.Fixed = &f
	}
	ev.Curve = MicroPRCurve(truth, p, 200)
	return ev, nil
}

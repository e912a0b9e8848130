package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/remla/tagger/model"
	"github.com/remla/tagger/training"
)

func init() {
	commands["train"] = command{summary: "train a model on DIR/train.tsv.gz, write it and its report", run: runTrain}
}

func runTrain(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	data := fs.String("data", "data", "directory with train.tsv[.gz] (and validation.tsv[.gz], scored in the report)")
	out := fs.String("out", "models", "directory for the model file, latest.model and the report")
	preset := fs.String("config", "default", "named configuration: "+strings.Join(presetNames(), ", "))
	features := fs.String("features", "", "override: bow or tfidf")
	int8w := fs.String("int8", "", "override: true/false, store the weights quantised to 8 bits")
	tokenizer := fs.String("tokenizer", "", "override: reference (the notebook's text_prepare) or code (prose, keeps c#, .net, node.js)")
	ngrams := fs.Int("ngrams", 0, "override: longest word n-gram, 1 or 2")
	sublinear := fs.String("sublinear", "", "override: true/false, tf replaced by 1+ln(tf)")
	charMin := fs.Int("char-min", 0, "override: shortest character n-gram (with -char-max)")
	charMax := fs.Int("char-max", 0, "override: longest character n-gram, 0 for none (at most 7)")
	minDF := fs.Int("min-df", 0, "override: TF-IDF minimum document frequency")
	minDFWord := fs.Int("min-df-word", 0, "override: minimum document frequency of single words (0: as -min-df)")
	maxDF := fs.Float64("max-df", 0, "override: TF-IDF maximum document frequency (fraction)")
	maxFeatures := fs.Int("max-features", -1, "override: vocabulary size limit (0: none)")
	penalty := fs.String("penalty", "", "override: l1 or l2")
	c := fs.Float64("C", 0, "override: inverse regularisation strength")
	tol := fs.Float64("tol", 0, "override: solver tolerance (liblinear's eps)")
	rule := fs.String("rule", "", "override: fixed (p ≥ 0.5) or tuned (on a held-out slice of train)")
	holdout := fs.Float64("holdout", 0, "override: fraction of train held out to tune the rule")
	folds := fs.Int("tune-folds", 0, "override: how many 1/holdout folds are held out in turn to tune the rule")
	margin := fs.Float64("accuracy-margin", 0, "override: the tuned rule keeps held-out subset accuracy ≥ the 0.5 rule's + this")
	seed := fs.Uint64("seed", 0, "seed for the held-out split and the L1 coordinate order")
	workers := fs.Int("workers", 0, "goroutines fitting tags (0: all cores); does not change the model")
	created := fs.String("created", "", "creation time to store (RFC 3339 or Unix seconds; default $SOURCE_DATE_EPOCH or now)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	var extras []string
	fs.Func("extra", "labelled TSV to train on besides DIR/train.tsv, e.g. remla-train export-feedback's output; repeatable", func(p string) error {
		extras = append(extras, p)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	cfg, ok := training.Presets[*preset]
	if !ok {
		return fmt.Errorf("unknown -config %q; choose one of %s", *preset, strings.Join(presetNames(), ", "))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["int8"] {
		b, err := strconv.ParseBool(*int8w)
		if err != nil {
			return fmt.Errorf("-int8 %q: want true or false", *int8w)
		}
		cfg.Int8 = b
	}
	if set["tokenizer"] {
		cfg.Tokenizer = model.Tokenizer(*tokenizer)
	}
	if set["features"] {
		cfg.Features.Kind = model.FeatureKind(*features)
	}
	if set["ngrams"] {
		cfg.Features.MaxN = *ngrams
	}
	if set["sublinear"] {
		b, err := strconv.ParseBool(*sublinear)
		if err != nil {
			return fmt.Errorf("-sublinear %q: want true or false", *sublinear)
		}
		cfg.Features.Sublinear = b
	}
	if set["char-min"] {
		cfg.Features.CharMin = *charMin
	}
	if set["char-max"] {
		cfg.Features.CharMax = *charMax
	}
	if set["min-df"] {
		cfg.Features.MinDF = *minDF
	}
	if set["min-df-word"] {
		cfg.Features.MinDFWord = *minDFWord
	}
	if set["max-df"] {
		cfg.Features.MaxDF = *maxDF
	}
	if set["max-features"] {
		cfg.Features.MaxFeatures = *maxFeatures
	}
	if set["penalty"] {
		cfg.Solver.Penalty = *penalty
	}
	if set["C"] {
		cfg.Solver.C = *c
	}
	if set["tol"] {
		cfg.Solver.Tol = *tol
	}
	if set["rule"] {
		cfg.Rule.Kind = *rule
	}
	if set["holdout"] {
		cfg.Rule.Holdout = *holdout
	}
	if set["tune-folds"] {
		cfg.Rule.Folds = *folds
	}
	if set["accuracy-margin"] {
		cfg.Rule.AccuracyMargin = *margin
	}
	if set["seed"] {
		cfg.Seed = *seed
	}
	if len(set) > 0 && !(len(set) == 1 && set["config"]) {
		for _, k := range []string{"int8", "tokenizer", "features", "ngrams", "sublinear", "char-min", "char-max", "min-df", "min-df-word", "max-df", "max-features", "penalty", "C", "tol", "rule", "holdout", "tune-folds", "accuracy-margin", "seed"} {
			if set[k] {
				cfg.Name += "+" + k
			}
		}
	}
	when, err := creationTime(*created)
	if err != nil {
		return err
	}

	trainPath, err := findData(*data, "train")
	if err != nil {
		return err
	}
	train, err := training.LoadDataset(trainPath)
	if err != nil {
		return err
	}
	var val *training.Dataset
	extra := map[string]string{}
	if err := addExtra(train, extras, extra); err != nil {
		return err
	}
	if p, err := findData(*data, "validation"); err == nil {
		if val, err = training.LoadDataset(p); err != nil {
			return err
		}
		extra["validation"] = val.SHA256
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	logf("training %q on %s (%d titles) with %s", cfg.Name, trainPath, len(train.Titles), describe(cfg))
	bar := newProgress(os.Stderr)
	m, res, err := training.Train(ctx, cfg, train, training.Options{Workers: *workers, Progress: bar.update, Created: when, Extra: extra})
	bar.finish()
	if err != nil {
		return err
	}
	spec := m.Spec()
	rep := &training.Report{
		Model: m.Version(), CodeVersion: spec.Meta.CodeVersion, Created: spec.Meta.Created.Format(time.RFC3339),
		Config: cfg, TrainFile: trainPath, TrainSHA256: train.SHA256, TrainRows: len(train.Titles),
		Features: spec.Vectorizer.Len(), Tags: len(spec.Tags), FitSeconds: res.FitSeconds,
		Unconverged: res.Unconverged, Rule: summarise(spec.Rule), Holdout: res.Holdout, HoldoutFixed: res.HoldoutFixed, Tuning: res.Tuning,
		DataSHA256: spec.Meta.DataSHA256,
	}
	if rep.Unconverged == nil {
		rep.Unconverged = []string{}
	}
	metrics := map[string]any{}
	if res.Holdout != nil {
		metrics["holdout"] = headline(res.Holdout)
		metrics["holdout_fixed_rule"] = headline(res.HoldoutFixed)
		metrics["holdout_rule_tuned_before_rounding"] = headline(res.Tuning.Before)
	}
	if val != nil {
		ev, err := training.EvaluateModel(m, val)
		if err != nil {
			return err
		}
		rep.Validation = ev
		metrics["validation"] = headline(&ev.Metrics)
		if ev.Fixed != nil {
			metrics["validation_fixed_rule"] = headline(ev.Fixed)
		}
	}
	if m, err = training.WithMetrics(m, metrics); err != nil {
		return err
	}
	file := filepath.Join(*out, m.Version()+".model")
	if err := m.Save(file); err != nil {
		return err
	}
	reportDir := filepath.Join(*out, m.Version()+".report")
	if err := training.WriteReport(reportDir, rep); err != nil {
		return err
	}
	if err := relink(filepath.Join(*out, "latest.model"), filepath.Base(file)); err != nil {
		return err
	}
	if err := relink(filepath.Join(*out, "latest.report"), filepath.Base(reportDir)); err != nil {
		return err
	}
	if len(res.Unconverged) > 0 {
		logf("warning: the solver hit its iteration limit for %d tags (%s); raise -tol or check the data", len(res.Unconverged), strings.Join(res.Unconverged, ", "))
	}
	logf("model %s (%d features, %d tags) written to %s; report in %s", m.Version(), spec.Vectorizer.Len(), len(spec.Tags), file, reportDir)
	if rep.Validation != nil {
		fmt.Printf("\n%s (%d titles)\n\n%s", rep.Validation.File, rep.Validation.Metrics.Rows, training.MetricsTable(rep.Validation))
	} else if res.Holdout != nil {
		fmt.Printf("\nheld-out slice of train (%d titles)\n\n%s", res.Holdout.Rows, training.MetricsTable(&training.Evaluation{Rule: "tuned", Metrics: *res.Holdout, Fixed: res.HoldoutFixed}))
	}
	return nil
}

func headline(m *training.Metrics) map[string]float64 {
	return map[string]float64{"accuracy": m.Accuracy, "f1_weighted": m.F1Weighted, "f1_macro": m.F1Macro,
		"f1_micro": m.F1Micro, "average_precision_macro": m.AveragePrecisionMacro, "roc_auc_macro": m.ROCAUCMacro}
}

func summarise(r model.Rule) training.RuleSummary {
	s := training.RuleSummary{Name: r.Name, Relative: r.Relative, AlwaysTop: r.AlwaysTop, Floor: r.Floor}
	if len(r.Thresholds) > 0 {
		s.ThresholdMin, s.ThresholdMax = slices.Min(r.Thresholds), slices.Max(r.Thresholds)
		for _, t := range r.Thresholds {
			s.ThresholdMean += t
		}
		s.ThresholdMean /= float64(len(r.Thresholds))
	}
	return s
}

func describe(cfg training.Config) string {
	f := cfg.Features
	s := fmt.Sprintf("%s 1-%d grams", f.Kind, f.MaxN)
	if f.Kind == model.TFIDF {
		s += fmt.Sprintf(" min_df=%d max_df=%g sublinear=%v", f.MinDF, f.MaxDF, f.Sublinear)
	}
	if f.MaxFeatures > 0 {
		s += fmt.Sprintf(" max_features=%d", f.MaxFeatures)
	}
	return s + fmt.Sprintf(", %s C=%g tol=%g, rule %s", cfg.Solver.Penalty, cfg.Solver.C, cfg.Solver.Tol, cfg.Rule.Kind)
}

func presetNames() []string {
	names := make([]string, 0, len(training.Presets))
	for n := range training.Presets {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// addExtra appends the labelled rows of each file to train and records
// the files' digests in the model's metadata.
func addExtra(train *training.Dataset, files []string, meta map[string]string) error {
	for _, p := range files {
		d, err := training.LoadDataset(p)
		if err != nil {
			return fmt.Errorf("-extra: %w", err)
		}
		if d.Tags == nil {
			return fmt.Errorf("-extra %s has no tags column; give a labelled TSV such as remla-train export-feedback writes", p)
		}
		train.Titles = append(train.Titles, d.Titles...)
		train.Tags = append(train.Tags, d.Tags...)
		meta["extra:"+filepath.Base(p)] = d.SHA256
		logf("added %d labelled titles from %s", len(d.Titles), p)
	}
	return nil
}

// findData returns DIR/NAME.tsv.gz or DIR/NAME.tsv, whichever exists.
func findData(dir, name string) (string, error) {
	for _, ext := range []string{".tsv.gz", ".tsv"} {
		p := filepath.Join(dir, name+ext)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no %s.tsv.gz or %s.tsv in %s; pass -data with the directory that holds them", name, name, dir)
}

func creationTime(flagValue string) (time.Time, error) {
	v := flagValue
	if v == "" {
		v = os.Getenv("SOURCE_DATE_EPOCH")
	}
	if v == "" {
		return time.Now().UTC(), nil
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(secs, 0).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("creation time %q: want RFC 3339 (2026-11-26T01:42:00Z) or Unix seconds", v)
	}
	return t.UTC(), nil
}

// relink points link at target (relative to link's directory), replacing what was there.
func relink(link, target string) error {
	tmp := link + ".tmp"
	os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("link %s: %w", link, err)
	}
	if err := os.Rename(tmp, link); err != nil {
		return fmt.Errorf("link %s: %w", link, err)
	}
	return nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[remla-train] "+format+"\n", args...)
}

// progress draws a bar on a terminal and prints a line per 10% otherwise.
type progress struct {
	w     io.Writer
	tty   bool
	mu    sync.Mutex
	stage string
	start time.Time
	last  int
	drawn bool
}

func newProgress(f *os.File) *progress {
	return &progress{w: f, tty: term.IsTerminal(int(f.Fd()))}
}

func (p *progress) update(s training.Stage) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s.Name != p.stage {
		if p.drawn && p.tty {
			fmt.Fprintln(p.w)
		}
		p.stage, p.start, p.last, p.drawn = s.Name, time.Now(), -1, false
	}
	el := time.Since(p.start)
	eta := time.Duration(0)
	if s.Done > 0 {
		eta = time.Duration(float64(el) * float64(s.Total-s.Done) / float64(s.Done))
	}
	label := s.Name
	if s.Name == "fit" {
		label = "final fit"
	} else if strings.HasPrefix(s.Name, "tune") {
		label = "fit to tune" + strings.TrimPrefix(s.Name, "tune")
	}
	if p.tty {
		const width = 30
		n := width * s.Done / s.Total
		fmt.Fprintf(p.w, "\r%-15s [%s%s] %3d/%d tags  elapsed %5.1fs  ETA %5.1fs", label,
			strings.Repeat("█", n), strings.Repeat("░", width-n), s.Done, s.Total, el.Seconds(), eta.Seconds())
		p.drawn = true
		return
	}
	if decile := 10 * s.Done / s.Total; decile != p.last {
		p.last = decile
		fmt.Fprintf(p.w, "[remla-train] %s: %d/%d tags fitted, elapsed %.1fs, ETA %.1fs\n", label, s.Done, s.Total, el.Seconds(), eta.Seconds())
	}
}

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn && p.tty {
		fmt.Fprintln(p.w)
	}
}

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/remla/tagger/cmd/internal/progress"
	"github.com/remla/tagger/model"
	"github.com/remla/tagger/training"
)

// trainFlags are train's flags other than the preset overrides.
type trainFlags struct {
	data, out, preset, created, cpuProfile string
	workers                                int
	extras                                 []string
}

func newTrainCmd() *cobra.Command {
	var o trainFlags
	var overrides training.Config // parsed here, copied onto the preset by applyOverrides
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train a model on DIR/train.tsv.gz, write it and its report",
		Long: `train fits the model of the preset --config on the titles of --data
(train.tsv.gz or train.tsv, plus the labelled files of --extra) and writes to
--out the model file <version>.model, its report <version>.report/ (metrics,
configuration, data digests, plots) and the symlinks latest.model and
latest.report. When --data also holds validation.tsv[.gz], the report scores
the model on it and its metrics table is printed.

Each remaining flag overrides one field of the preset, only when given, and is
named in the model's configuration ("default+C+tol"). Booleans take their value
after "=": --int8=false. The model depends on the data, the configuration and
--seed, not on --workers.`,
		Example: `  remla-train train --data data --out models
  remla-train train --config tfidf-l2-10 --data data --out /tmp/notebook
  remla-train train --data data --extra feedback.tsv --out models   # the data set and the users' answers
  remla-train train --data data --C 8 --min-df 2 --int8=false --out /tmp/try`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := loggerFor(cmd)
			if err != nil {
				return err
			}
			cfg, ok := training.Presets[o.preset]
			if !ok {
				return usageError{fmt.Errorf("unknown --config %q; choose one of %s", o.preset, strings.Join(presetNames(), ", "))}
			}
			if err := applyOverrides(cmd.Flags(), &cfg); err != nil {
				return usageError{err}
			}
			when, err := creationTime(o.created)
			if err != nil {
				return usageError{fmt.Errorf("creation time (--created or $SOURCE_DATE_EPOCH): %w", err)}
			}
			if o.cpuProfile != "" {
				stop, err := startCPUProfile(o.cpuProfile)
				if err != nil {
					return err
				}
				defer stop()
			}
			return runTrain(cmd.Context(), cmd.OutOrStdout(), progress.New(cmd.ErrOrStderr()), log, cfg, when, o)
		},
	}
	f := cmd.Flags()
	f.SortFlags = false
	f.StringVar(&o.data, "data", "data", "directory with train.tsv[.gz] (and validation.tsv[.gz], scored in the report)")
	f.StringVar(&o.out, "out", "models", "directory for the model file, latest.model and the report")
	f.StringVar(&o.preset, "config", "default", "named configuration: "+strings.Join(presetNames(), ", "))
	f.StringArrayVar(&o.extras, "extra", nil, "labelled TSV to train on besides DIR/train.tsv, e.g. export-feedback's output (repeatable)")
	f.StringVar(&o.created, "created", "", "creation time to store (RFC 3339 or Unix seconds; default $SOURCE_DATE_EPOCH or now)")
	f.IntVar(&o.workers, "workers", 0, "goroutines fitting tags (0: all cores); does not change the model")
	f.StringVar(&o.cpuProfile, "cpu-profile", "", "write a CPU profile of the run to this file")
	bindOverrides(f, &overrides)
	f.SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		if name == "cpuprofile" { // the name before kebab case, as go test spells it
			name = "cpu-profile"
		}
		return pflag.NormalizedName(name)
	})
	return cmd
}

func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// runTrain trains cfg on o.data, writes the model and its report to o.out
// and prints the metrics table to stdout.
func runTrain(ctx context.Context, stdout io.Writer, line *progress.Line, log *slog.Logger, cfg training.Config, when time.Time, o trainFlags) error {
	trainPath, err := findData(o.data, "train")
	if err != nil {
		return err
	}
	train, err := training.LoadDataset(trainPath)
	if err != nil {
		return err
	}
	var val *training.Dataset
	extra := map[string]string{}
	if err := addExtra(log, train, o.extras, extra); err != nil {
		return err
	}
	if p, err := findData(o.data, "validation"); err == nil {
		if val, err = training.LoadDataset(p); err != nil {
			return err
		}
		extra["validation"] = val.SHA256
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	log.Info("training", "config", cfg.Name, "data", trainPath, "titles", len(train.Titles), "with", describe(cfg))
	bar := newFitProgress(line, log)
	m, res, err := training.Train(ctx, cfg, train, training.Options{Workers: o.workers, Progress: bar.update, Created: when, Extra: extra})
	line.End()
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
	file := filepath.Join(o.out, m.Version()+".model")
	if err := m.Save(file); err != nil {
		return err
	}
	reportDir := filepath.Join(o.out, m.Version()+".report")
	if err := training.WriteReport(reportDir, rep); err != nil {
		return err
	}
	if err := relink(filepath.Join(o.out, "latest.model"), filepath.Base(file)); err != nil {
		return err
	}
	if err := relink(filepath.Join(o.out, "latest.report"), filepath.Base(reportDir)); err != nil {
		return err
	}
	if len(res.Unconverged) > 0 {
		log.Warn("the solver hit its iteration limit; raise --tol or check the data", "tags", len(res.Unconverged), "unconverged", strings.Join(res.Unconverged, ", "))
	}
	log.Info("model written", "version", m.Version(), "features", spec.Vectorizer.Len(), "tags", len(spec.Tags), "file", file, "report", reportDir)
	if rep.Validation != nil {
		fmt.Fprintf(stdout, "\n%s (%d titles)\n\n%s", rep.Validation.File, rep.Validation.Metrics.Rows, training.MetricsTable(rep.Validation))
	} else if res.Holdout != nil {
		fmt.Fprintf(stdout, "\nheld-out slice of train (%d titles)\n\n%s", res.Holdout.Rows, training.MetricsTable(&training.Evaluation{Rule: "tuned", Metrics: *res.Holdout, Fixed: res.HoldoutFixed}))
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
func addExtra(log *slog.Logger, train *training.Dataset, files []string, meta map[string]string) error {
	for _, p := range files {
		d, err := training.LoadDataset(p)
		if err != nil {
			return fmt.Errorf("--extra: %w", err)
		}
		if d.Tags == nil {
			return fmt.Errorf("--extra %s has no tags column; give a labelled TSV such as remla-train export-feedback writes", p)
		}
		train.Titles = append(train.Titles, d.Titles...)
		train.Tags = append(train.Tags, d.Tags...)
		meta["extra:"+filepath.Base(p)] = d.SHA256
		log.Info("added labelled titles", "titles", len(d.Titles), "file", p)
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
	return "", fmt.Errorf("no %s.tsv.gz or %s.tsv in %s; pass --data with the directory that holds them", name, name, dir)
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
		return time.Time{}, fmt.Errorf("%q: want RFC 3339 (2026-11-26T01:42:00Z) or Unix seconds", v)
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

package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/remla/tagger/deployer"
	"github.com/remla/tagger/deployer/analysis"
)

// analysisFlags are the one-off gate flags of deploy and watch: each one
// sets or replaces its part of remla.yaml's analysis: block for this run.
type analysisFlags struct {
	skip        bool
	smoke       int
	smokeTitles string
	quality     string
	margin      float64
	prometheus  string
}

func addAnalysisFlags(f *pflag.FlagSet, pre bool) *analysisFlags {
	a := &analysisFlags{}
	f.StringVar(&a.prometheus, "prometheus", "", "URL of the Prometheus the metric checks ask (default analysis.prometheus of remla.yaml)")
	if !pre {
		return a
	}
	f.BoolVar(&a.skip, "skip-analysis", false, "emergency bypass: run no pre-promotion gate (the post-promotion checks of --bake still run); recorded in the history as AnalysisSkipped")
	f.IntVar(&a.smoke, "smoke", 0, "run the smoke gate with this many predictions to the candidate's preview Service")
	f.StringVar(&a.smokeTitles, "smoke-titles", "", "file of smoke titles, one a line (default: built in)")
	f.StringVar(&a.quality, "quality", "", "run the model-quality gate with this labelled file (e.g. data/validation.tsv.gz)")
	f.Float64Var(&a.margin, "quality-margin", analysis.DefaultMargin, "how much lower the candidate's F1 weighted may be than the stable color's")
	return a
}

// config is remla.yaml's analysis block with the flags laid over it; nil
// when neither configures a gate.
func (a *analysisFlags) config(cmd *cobra.Command, base *analysis.Config) (*analysis.Config, error) {
	f := cmd.Flags()
	c := &analysis.Config{}
	if base != nil {
		cp := *base
		c = &cp
	}
	if a.prometheus != "" {
		c.Prometheus = a.prometheus
	}
	if f.Changed("smoke") || f.Changed("smoke-titles") {
		s := analysis.SmokeConfig{}
		if c.Smoke != nil {
			s = *c.Smoke
		}
		if f.Changed("smoke") {
			s.Requests = a.smoke
		}
		if a.smokeTitles != "" {
			s.TitlesFile = a.smokeTitles
		}
		c.Smoke = &s
	}
	if f.Changed("quality") || f.Changed("quality-margin") {
		q := analysis.QualityConfig{}
		if c.Quality != nil {
			q = *c.Quality
		}
		if a.quality != "" {
			q.File = a.quality
		}
		if f.Changed("quality-margin") {
			m := a.margin
			q.Margin = &m
		}
		c.Quality = &q
	}
	if err := c.Validate(); err != nil {
		return nil, usageError{err}
	}
	return c, nil
}

// printResult prints one check's verdict, and its table.
func printResult(w io.Writer, r analysis.Result) {
	fmt.Fprintf(w, "analysis %s: %s: %s\n", r.Name, r.Phase, r.Message)
	if r.Detail != "" {
		fmt.Fprintln(w, "  "+strings.ReplaceAll(strings.TrimRight(r.Detail, "\n"), "\n", "\n  "))
	}
}

// analysisOptions are the deploy's gate options from the flags.
func (a *analysisFlags) options(cmd *cobra.Command, d *deployer.Deployer) (deployer.AnalysisOptions, error) {
	cfg, err := a.config(cmd, d.Config().Analysis)
	if err != nil {
		return deployer.AnalysisOptions{}, err
	}
	out := cmd.OutOrStdout()
	return deployer.AnalysisOptions{Config: cfg, Skip: a.skip, Report: func(r analysis.Result) { printResult(out, r) }}, nil
}

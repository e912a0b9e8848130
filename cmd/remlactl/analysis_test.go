package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/remla/tagger/deployer"
	"github.com/remla/tagger/deployer/analysis"
)

// TestAnalysisFlags: the one-off flags lay their gates over remla.yaml's
// analysis: block, keeping what they do not name.
func TestAnalysisFlags(t *testing.T) {
	m := 0.2
	base := &analysis.Config{Prometheus: "http://p:9090", Smoke: &analysis.SmokeConfig{Requests: 7, MinNonEmpty: 0.3},
		Quality: &analysis.QualityConfig{File: "golden.tsv", Margin: &m}}
	for _, tc := range []struct {
		args  []string
		check func(c *analysis.Config) string
	}{
		{nil, func(c *analysis.Config) string {
			if c.Smoke.Requests != 7 || *c.Quality.Margin != 0.2 {
				return "the file's gates changed without a flag"
			}
			return ""
		}},
		{[]string{"--smoke", "50", "--quality-margin", "0.05", "--prometheus", "http://q:9090"}, func(c *analysis.Config) string {
			if c.Smoke.Requests != 50 || c.Smoke.MinNonEmpty != 0.3 || *c.Quality.Margin != 0.05 || c.Quality.File != "golden.tsv" || c.Prometheus != "http://q:9090" {
				return fmt.Sprintf("%+v %+v %s", c.Smoke, c.Quality, c.Prometheus)
			}
			if *base.Quality.Margin != 0.2 || base.Smoke.Requests != 7 {
				return "the flags changed remla.yaml's config"
			}
			return ""
		}},
	} {
		cmd := &cobra.Command{Use: "x", RunE: func(*cobra.Command, []string) error { return nil }}
		a := addAnalysisFlags(cmd.Flags(), true)
		if err := cmd.Flags().Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		c, err := a.config(cmd, base)
		if err != nil {
			t.Fatal(err)
		}
		if msg := tc.check(c); msg != "" {
			t.Errorf("%v: %s", tc.args, msg)
		}
	}
	cmd := &cobra.Command{Use: "x"}
	a := addAnalysisFlags(cmd.Flags(), true)
	cmd.Flags().Parse([]string{"--quality-margin", "2"})
	if _, err := a.config(cmd, nil); err == nil || !strings.Contains(err.Error(), "analysis.quality.file is empty") {
		t.Fatalf("a margin without a file: %v", err)
	}
}

func TestExplainAnalysis(t *testing.T) {
	err := fmt.Errorf("deploy: %w", &deployer.GateError{Color: "green", Version: "2.0.0", Stage: "pre-promotion",
		Results: []analysis.Result{{Name: "smoke", Phase: analysis.Failed, Message: "19 of 20 answers were not 2xx"}}})
	line, code := explain(err)
	if code != ExitAnalysis || !strings.Contains(line, "smoke failed: 19 of 20") {
		t.Fatalf("%d %q", code, line)
	}
}

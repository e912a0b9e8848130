package main

import (
	"testing"

	"github.com/remla/tagger/model"
	"github.com/remla/tagger/training"
)

// TestOverrides: a flag overrides its field of the preset only when given,
// zero and false included, and the model's name lists the overrides in one
// order whatever the order of the arguments.
func TestOverrides(t *testing.T) {
	for _, tt := range []struct {
		name   string
		args   []string
		preset string
		edit   func(*training.Config)
		want   string
	}{
		{name: "none: the preset as it is", preset: "default", want: "default", edit: func(*training.Config) {}},
		{name: "false boolean", preset: "default", args: []string{"--int8=false", "--sublinear=false"}, want: "default+int8+sublinear",
			edit: func(c *training.Config) { c.Int8, c.Features.Sublinear = false, false }},
		{name: "zero value", preset: "default", args: []string{"--min-df", "0", "--char-max=0"}, want: "default+char-max+min-df",
			edit: func(c *training.Config) { c.Features.MinDF, c.Features.CharMax = 0, 0 }},
		{name: "the name's order is the declaration's", preset: "default", args: []string{"--tol", "1e-3", "-C", "3"}, want: "default+C+tol",
			edit: func(c *training.Config) { c.Solver.C, c.Solver.Tol = 3, 1e-3 }},
		{name: "--C as a long flag", preset: "default", args: []string{"--C=0.1"}, want: "default+C",
			edit: func(c *training.Config) { c.Solver.C = 0.1 }},
		{name: "another preset", preset: "bow-l1-1", args: []string{"--max-features", "100", "--tokenizer", "code", "--features", "tfidf", "--seed", "7"},
			want: "bow-l1-1+tokenizer+features+max-features+seed",
			edit: func(c *training.Config) {
				c.Features.MaxFeatures, c.Tokenizer, c.Features.Kind, c.Seed = 100, model.Tokenizer("code"), model.TFIDF, 7
			}},
		{name: "rule fields", preset: "default", args: []string{"--rule", "fixed", "--holdout", "0.25", "--tune-folds", "3", "--accuracy-margin", "0"},
			want: "default+rule+holdout+tune-folds+accuracy-margin",
			edit: func(c *training.Config) {
				c.Rule.Kind, c.Rule.Holdout, c.Rule.Folds, c.Rule.AccuracyMargin = "fixed", 0.25, 3, 0
			}},
		{name: "train's own flags are no overrides", preset: "default", args: []string{"--data", "d", "--out", "o", "--workers", "2"}, want: "default",
			edit: func(*training.Config) {}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cmd := newTrainCmd()
			if err := cmd.ParseFlags(tt.args); err != nil {
				t.Fatal(err)
			}
			got := training.Presets[tt.preset]
			if err := applyOverrides(cmd.Flags(), &got); err != nil {
				t.Fatal(err)
			}
			want := training.Presets[tt.preset]
			tt.edit(&want)
			want.Name = tt.want
			if got != want {
				t.Errorf("config\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/remla/tagger/model"
	"github.com/remla/tagger/training"
)

func init() {
	commands["evaluate"] = command{summary: "score a model on a labelled .tsv[.gz] file", run: runEvaluate}
}

func runEvaluate(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("evaluate", flag.ContinueOnError)
	path := fs.String("model", "models/latest.model", "model file")
	data := fs.String("data", "data/validation.tsv.gz", "labelled file (title<TAB>tags), .tsv or .tsv.gz")
	asJSON := fs.Bool("json", false, "print one JSON object (metrics at the top level) instead of a table")
	if err := fs.Parse(args); err != nil {
		return err
	}
	m, err := model.Load(*path)
	if err != nil {
		return err
	}
	d, err := training.LoadDataset(*data)
	if err != nil {
		return err
	}
	ev, err := training.EvaluateModel(m, d)
	if err != nil {
		return err
	}
	if *asJSON {
		out := struct {
			training.Metrics
			Model  string            `json:"model"`
			File   string            `json:"file"`
			SHA256 string            `json:"sha256"`
			Rule   string            `json:"rule"`
			Fixed  *training.Metrics `json:"fixed_rule,omitempty"`
		}{Metrics: ev.Metrics, Model: m.Version(), File: ev.File, SHA256: ev.SHA256, Rule: ev.Rule, Fixed: ev.Fixed}
		enc := json.NewEncoder(os.Stdout)
		return enc.Encode(out)
	}
	fmt.Printf("model %s on %s (%d titles)\n\n", m.Version(), d.Path, len(d.Titles))
	fmt.Print(training.MetricsTable(ev))
	return nil
}

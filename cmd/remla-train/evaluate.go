package main

import (
	"bufio"
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
	predictions := fs.String("predictions", "", "also write each title's predicted tags, one JSON object a line ({\"title\", \"tags\"}), to this file")
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
	if *predictions != "" {
		if err := writePredictions(*predictions, d.Titles, ev.Predictions); err != nil {
			return err
		}
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

// predictionLine is one title's answer, as evaluate -predictions and predict -json print it.
type predictionLine struct {
	Title string           `json:"title"`
	Tags  []model.TagScore `json:"tags"`
}

func writePredictions(path string, titles []string, preds [][]model.TagScore) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write predictions: %w", err)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for i, title := range titles {
		if err := enc.Encode(predictionLine{Title: title, Tags: preds[i]}); err != nil {
			f.Close()
			return fmt.Errorf("write predictions: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write predictions to %s: %w", path, err)
	}
	return f.Close()
}

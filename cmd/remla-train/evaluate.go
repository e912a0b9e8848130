package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/remla/tagger/model"
	"github.com/remla/tagger/training"
)

func newEvaluateCmd() *cobra.Command {
	var path, data, predictions string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "evaluate",
		Short: "Score a model on a labelled .tsv[.gz] file",
		Long: `evaluate scores the model --model on the labelled file --data (title<TAB>tags)
through the same code path the app serves with, and prints subset accuracy,
F1 (weighted, macro, micro), average precision and ROC AUC, for the model's
rule and for the fixed 0.5 rule, as a table or with --json as one JSON object.`,
		Example: `  remla-train evaluate --model models/latest.model --data data/validation.tsv.gz
  remla-train evaluate --json | jq .f1_weighted
  remla-train evaluate --predictions /tmp/predictions.jsonl   # and each title's tags`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := model.Load(path)
			if err != nil {
				return err
			}
			d, err := training.LoadDataset(data)
			if err != nil {
				return err
			}
			ev, err := training.EvaluateModel(m, d)
			if err != nil {
				return err
			}
			if predictions != "" {
				if err := writePredictions(predictions, d.Titles, ev.Predictions); err != nil {
					return err
				}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(struct {
					training.Metrics
					Model  string            `json:"model"`
					File   string            `json:"file"`
					SHA256 string            `json:"sha256"`
					Rule   string            `json:"rule"`
					Fixed  *training.Metrics `json:"fixed_rule,omitempty"`
				}{Metrics: ev.Metrics, Model: m.Version(), File: ev.File, SHA256: ev.SHA256, Rule: ev.Rule, Fixed: ev.Fixed})
			}
			fmt.Fprintf(out, "model %s on %s (%d titles)\n\n%s", m.Version(), d.Path, len(d.Titles), training.MetricsTable(ev))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&path, "model", "models/latest.model", "model file")
	f.StringVar(&data, "data", "data/validation.tsv.gz", "labelled file (title<TAB>tags), .tsv or .tsv.gz")
	f.BoolVar(&asJSON, "json", false, "print one JSON object (metrics at the top level) instead of a table")
	f.StringVar(&predictions, "predictions", "", "also write each title's predicted tags, one JSON object a line ({\"title\", \"tags\"}), to this file")
	return cmd
}

// predictionLine is one title's answer, as evaluate --predictions and predict --json print it.
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

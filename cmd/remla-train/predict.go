package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/remla/tagger/model"
)

func newPredictCmd() *cobra.Command {
	var path string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "predict [flags] <title>...",
		Short: "Print the tags a model predicts for a title",
		Long: `predict prints the tags the model --model gives the title (the arguments
joined by spaces) with their scores, and the text the model sees. With --json
it prints {"title", "tags"} as one JSON object a line; with --json and the
title -, it answers each line of stdin.`,
		Example: `  remla-train predict --model models/latest.model "How do I parse JSON in Python?"
  remla-train predict --json "Sort a vector in C++"
  cut -f1 data/validation.tsv | remla-train predict --json -`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{fmt.Errorf("give a title: remla-train predict --model M \"How do I sort a list in Python?\"")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := model.Load(path)
			if err != nil {
				return err
			}
			title := strings.Join(args, " ")
			out := cmd.OutOrStdout()
			if asJSON {
				return predictJSON(out, cmd.InOrStdin(), m, title)
			}
			tags := m.Predict(title)
			fmt.Fprintf(out, "model %s\ntitle %q → %q\n", m.Version(), title, model.PrepareText(title))
			if len(tags) == 0 {
				fmt.Fprintln(out, "  (no tag)")
			}
			for _, t := range tags {
				fmt.Fprintf(out, "  %-24s %.3f\n", t.Tag, t.Score)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&path, "model", "models/latest.model", "model file")
	f.BoolVar(&asJSON, "json", false, "print {\"title\", \"tags\"} as one JSON object a line; with the title -, read one title a line from stdin")
	return cmd
}

// predictJSON prints the answer for title, or for each line of stdin when title is "-".
func predictJSON(stdout io.Writer, stdin io.Reader, m *model.Model, title string) error {
	w := bufio.NewWriter(stdout)
	enc := json.NewEncoder(w)
	if title != "-" {
		if err := enc.Encode(predictionLine{Title: title, Tags: m.Predict(title)}); err != nil {
			return err
		}
		return w.Flush()
	}
	sc := bufio.NewScanner(stdin)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if err := enc.Encode(predictionLine{Title: sc.Text(), Tags: m.Predict(sc.Text())}); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read titles from stdin: %w", err)
	}
	return w.Flush()
}

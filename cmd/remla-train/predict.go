package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/remla/tagger/model"
)

func init() {
	commands["predict"] = command{summary: "print the tags a model predicts for a title", run: runPredict}
}

func runPredict(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("predict", flag.ContinueOnError)
	path := fs.String("model", "models/latest.model", "model file")
	asJSON := fs.Bool("json", false, "print {\"title\", \"tags\"} as one JSON object a line; with the title -, read one title a line from stdin")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("give a title: remla-train predict -model M \"How do I sort a list in Python?\"")
	}
	m, err := model.Load(*path)
	if err != nil {
		return err
	}
	title := strings.Join(fs.Args(), " ")
	if *asJSON {
		return predictJSON(m, title)
	}
	tags := m.Predict(title)
	fmt.Fprintf(os.Stdout, "model %s\ntitle %q → %q\n", m.Version(), title, model.PrepareText(title))
	if len(tags) == 0 {
		fmt.Println("  (no tag)")
	}
	for _, t := range tags {
		fmt.Printf("  %-24s %.3f\n", t.Tag, t.Score)
	}
	return nil
}

// predictJSON prints the answer for title, or for each line of stdin when title is "-".
func predictJSON(m *model.Model, title string) error {
	w := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(w)
	if title != "-" {
		if err := enc.Encode(predictionLine{Title: title, Tags: m.Predict(title)}); err != nil {
			return err
		}
		return w.Flush()
	}
	sc := bufio.NewScanner(os.Stdin)
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

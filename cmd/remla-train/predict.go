package main

import (
	"context"
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

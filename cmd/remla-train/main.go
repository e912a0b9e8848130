// Command remla-train trains, evaluates and tries out StackOverflow tag
// models: train, evaluate, predict and export-feedback, one file each;
// root.go holds the common flags and exit codes. See docs/model.md.
//
//	remla-train train --data data --out models
//	remla-train evaluate --model models/latest.model --data data/validation.tsv.gz --json
//	remla-train predict --model models/latest.model "How do I parse JSON in Python?"
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

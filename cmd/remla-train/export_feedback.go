package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/remla/tagger/feedback"
)

func init() {
	commands["export-feedback"] = command{summary: "write the app's stored feedback as a labelled TSV to train on", run: runExportFeedback}
}

func runExportFeedback(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("export-feedback", flag.ContinueOnError)
	db := fs.String("db", ".run/feedback.db", "the feedback database (remla-app's -feedback-db)")
	out := fs.String("out", "-", "TSV file to write (title<TAB>['tag', ...], the data set's format); - for standard output")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q; usage: remla-train export-feedback -db FILE -out FILE", fs.Arg(0))
	}
	store, err := feedback.OpenSQLiteReadOnly(ctx, *db)
	if err != nil {
		return err
	}
	defer store.Close()
	var w io.Writer = os.Stdout
	var f *os.File
	if *out != "-" {
		if f, err = os.Create(*out); err != nil {
			return fmt.Errorf("create %s: %w", *out, err)
		}
		defer f.Close()
		w = f
	}
	st, err := feedback.ExportTSV(ctx, store, feedback.Filter{}, w)
	if err != nil {
		return err
	}
	if f != nil {
		if err := f.Close(); err != nil {
			return fmt.Errorf("write %s: %w", *out, err)
		}
	}
	fmt.Fprintf(os.Stderr, "exported %d labelled rows from %d feedback records (%d said too little to label)\n", st.Written, st.Records, st.Skipped)
	return nil
}

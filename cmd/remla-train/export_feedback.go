package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/remla/tagger/feedback"
)

func init() {
	commands["export-feedback"] = command{summary: "write the app's stored feedback as a labelled TSV to train on", run: runExportFeedback}
}

func runExportFeedback(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("export-feedback", flag.ContinueOnError)
	db := fs.String("db", ".run/feedback.db", "the SQLite feedback database (remla-app's -feedback-db)")
	dsn := fs.String("dsn", os.Getenv("REMLA_FEEDBACK_DSN"), "the PostgreSQL feedback store (remla-app's -feedback-dsn; env REMLA_FEEDBACK_DSN); when set, -db is not read")
	out := fs.String("out", "-", "TSV file to write (title<TAB>['tag', ...], the data set's format); - for standard output")
	var f feedback.Filter
	fs.StringVar(&f.ModelVersion, "model-version", "", "only answers about predictions of this model version")
	fs.StringVar(&f.Color, "color", "", "only answers about predictions of this color (blue, green)")
	since := fs.String("since", "", "only answers given at or after this time: RFC 3339 (2026-11-26T00:00:00Z), a date (2026-11-26, UTC), or a duration back from now (72h)")
	until := fs.String("until", "", "only answers given before this time (same forms as -since)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q; usage: remla-train export-feedback [-db FILE | -dsn DSN] [-model-version V] [-color C] [-since T] [-until T] -out FILE", fs.Arg(0))
	}
	now := time.Now()
	var err error
	if f.Since, err = parseWhen(*since, now); err != nil {
		return fmt.Errorf("-since: %w", err)
	}
	if f.Until, err = parseWhen(*until, now); err != nil {
		return fmt.Errorf("-until: %w", err)
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return fmt.Errorf("-since %s is not before -until %s: nothing could match", f.Since.Format(time.RFC3339), f.Until.Format(time.RFC3339))
	}
	store, err := feedback.Open(ctx, feedback.Config{DSN: *dsn, Path: *db, ReadOnly: true})
	if err != nil {
		return err // a reader needs the store now: even ErrUnavailable is fatal
	}
	defer store.Close()
	var w io.Writer = os.Stdout
	var file *os.File
	if *out != "-" {
		if file, err = os.Create(*out); err != nil {
			return fmt.Errorf("create %s: %w", *out, err)
		}
		defer file.Close()
		w = file
	}
	st, err := feedback.ExportTSV(ctx, store, f, w)
	if err != nil {
		return err
	}
	if file != nil {
		if err := file.Close(); err != nil {
			return fmt.Errorf("write %s: %w", *out, err)
		}
	}
	fmt.Fprintf(os.Stderr, "exported %d labelled rows from %d feedback records (%d said too little to label)\n", st.Written, st.Records, st.Skipped)
	return nil
}

// parseWhen reads a point in time: RFC 3339, a date (UTC midnight), or a
// duration before now. Empty is the zero time (no bound).
func parseWhen(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q: give RFC 3339 (2026-11-26T00:00:00Z), a date (2026-11-26) or a duration back from now (72h)", s)
}

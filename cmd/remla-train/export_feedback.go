package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/remla/tagger/feedback"
)

// exportFlags are export-feedback's flags.
type exportFlags struct {
	db, dsn, out, since, until string
	filter                     feedback.Filter
}

func newExportFeedbackCmd() *cobra.Command {
	var o exportFlags
	cmd := &cobra.Command{
		Use:   "export-feedback",
		Short: "Write the app's stored feedback as a labelled TSV to train on",
		Long: `export-feedback reads the users' answers from the app's feedback store (the
SQLite file --db, or the PostgreSQL database --dsn) and writes the ones that
say which tags a title should have as labelled rows (title<TAB>['tag', ...],
the data set's format), for train --extra. It only reads: the app may keep
running. The filters select answers by model version, color and time.`,
		Example: `  remla-train export-feedback --db .run/feedback.db --out feedback.tsv
  remla-train export-feedback --dsn "$REMLA_FEEDBACK_DSN" --color green --since 72h --out feedback.tsv
  remla-train export-feedback --model-version 20261202T0531Z-c8ff2bf --since 2026-11-26 --until 2026-11-29`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := loggerFor(cmd)
			if err != nil {
				return err
			}
			if err := o.window(time.Now()); err != nil {
				return usageError{err}
			}
			return exportFeedback(cmd.Context(), cmd.OutOrStdout(), log, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.db, "db", ".run/feedback.db", "the SQLite feedback database (remla-app's -feedback-db)")
	f.StringVar(&o.dsn, "dsn", os.Getenv("REMLA_FEEDBACK_DSN"), "the PostgreSQL feedback store (remla-app's -feedback-dsn; env REMLA_FEEDBACK_DSN); when set, --db is not read")
	f.StringVar(&o.out, "out", "-", "TSV file to write (title<TAB>['tag', ...], the data set's format); - for standard output")
	f.StringVar(&o.filter.ModelVersion, "model-version", "", "only answers about predictions of this model version")
	f.StringVar(&o.filter.Color, "color", "", "only answers about predictions of this color (blue, green)")
	f.StringVar(&o.since, "since", "", "only answers given at or after this time: RFC 3339 (2026-11-26T00:00:00Z), a date (2026-11-26, UTC), or a duration back from now (72h)")
	f.StringVar(&o.until, "until", "", "only answers given before this time (same forms as --since)")
	return cmd
}

// window sets the filter's time bounds from --since and --until.
func (o *exportFlags) window(now time.Time) error {
	var err error
	if o.filter.Since, err = parseWhen(o.since, now); err != nil {
		return fmt.Errorf("--since: %w", err)
	}
	if o.filter.Until, err = parseWhen(o.until, now); err != nil {
		return fmt.Errorf("--until: %w", err)
	}
	if s, u := o.filter.Since, o.filter.Until; !s.IsZero() && !u.IsZero() && !s.Before(u) {
		return fmt.Errorf("--since %s is not before --until %s: nothing could match", s.Format(time.RFC3339), u.Format(time.RFC3339))
	}
	return nil
}

func exportFeedback(ctx context.Context, stdout io.Writer, log *slog.Logger, o exportFlags) error {
	store, err := feedback.Open(ctx, feedback.Config{DSN: o.dsn, Path: o.db, ReadOnly: true})
	if err != nil {
		return err // a reader needs the store now: even ErrUnavailable is fatal
	}
	defer store.Close()
	w := stdout
	var file *os.File
	if o.out != "-" {
		if file, err = os.Create(o.out); err != nil {
			return fmt.Errorf("create %s: %w", o.out, err)
		}
		defer file.Close()
		w = file
	}
	st, err := feedback.ExportTSV(ctx, store, o.filter, w)
	if err != nil {
		return err
	}
	if file != nil {
		if err := file.Close(); err != nil {
			return fmt.Errorf("write %s: %w", o.out, err)
		}
	}
	log.Info("exported labelled rows", "rows", st.Written, "records", st.Records, "too_little_to_label", st.Skipped, "out", o.out)
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

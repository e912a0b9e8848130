package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/remla/tagger/cmd/internal/logging"
)

// Exit codes of remla-train.
const (
	ExitOK    = 0
	ExitError = 1 // the data, the model or the file system said no; the message says why
	ExitUsage = 2 // bad command, flag or argument; the command's usage follows the message
)

// newRootCmd builds a fresh remla-train command tree: every run (and every
// test) gets its own flags and state.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "remla-train",
		Short: "Train, evaluate and try out StackOverflow tag models",
		Long: `remla-train makes the tag predictor's model: train fits one on the data set
(and on exported user feedback) and writes a versioned model file with its
report, evaluate scores a model on a labelled file, predict shows the tags a
model gives a title, export-feedback turns the app's stored feedback into
labelled rows to train on.

Progress and logs go to stderr (text on a terminal, JSON otherwise), results to
stdout. Exit codes: 0 ok, 1 error, 2 usage.`,
		Example: `  remla-train train --data data --out models
  remla-train evaluate --model models/latest.model --data data/validation.tsv.gz --json
  remla-train predict --model models/latest.model "How do I parse JSON in Python?"
  remla-train export-feedback --db .run/feedback.db --out feedback.tsv`,
		// No Run: an error of the root itself (an unknown command, a bad
		// flag) is always a usage error, which execute relies on.
		SuggestionsMinimumDistance: 2,
		SilenceUsage:               true,
		SilenceErrors:              true,
		// A bad --log-level is refused by every verb, also one that does not log.
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			_, err := loggerFor(cmd)
			return err
		},
	}
	pf := root.PersistentFlags()
	pf.String("log-level", "info", "debug, info, warn or error")
	pf.String("log-format", logging.FormatAuto, "text, json, or auto (text on a terminal, JSON otherwise)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newTrainCmd(), newEvaluateCmd(), newPredictCmd(), newExportFeedbackCmd())
	return root
}

// execute runs remla-train with args on a fresh command tree and returns
// its exit code. A failure is one line on stderr; a usage error adds the
// command's usage.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if len(args) == 0 {
		fmt.Fprintf(stderr, "remla-train: give a command\n\n%s", root.UsageString())
		return ExitUsage
	}
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	var u usageError
	if !errors.As(err, &u) && cmd != root {
		fmt.Fprintf(stderr, "remla-train %s: %v\n", cmd.Name(), err)
		return ExitError
	}
	if hint := twoDashes(cmd, args); hint != "" {
		err = errors.New(hint)
	}
	fmt.Fprintf(stderr, "remla-train: %v\n\n%s", err, cmd.UsageString())
	return ExitUsage
}

// twoDashes names the first argument that is one of cmd's long flags
// written with one dash, as the flag package of remla-train before cobra
// took them: pflag reads -data as the shorthands -d -a -t -a.
func twoDashes(cmd *cobra.Command, args []string) string {
	for _, a := range args {
		if a == "--" {
			break
		}
		if len(a) < 3 || a[0] != '-' || a[1] == '-' {
			continue
		}
		name, _, _ := strings.Cut(a[1:], "=")
		if f := lookup(cmd, name); f != nil {
			return fmt.Sprintf("%s: long flags take two dashes: use -%s", a, a)
		}
	}
	return ""
}

func lookup(cmd *cobra.Command, name string) *pflag.Flag {
	if f := cmd.Flags().Lookup(name); f != nil {
		return f
	}
	return cmd.InheritedFlags().Lookup(name)
}

// loggerFor is the logger of --log-level and --log-format on stderr: the
// one constructor of all three binaries (cmd/internal/logging).
func loggerFor(cmd *cobra.Command) (*slog.Logger, error) {
	level, _ := cmd.Flags().GetString("log-level")
	format, _ := cmd.Flags().GetString("log-format")
	log, err := logging.New(cmd.ErrOrStderr(), level, format)
	if err != nil {
		return nil, usageError{err} // it names the flag
	}
	return log, nil
}

// noArgs refuses positional arguments with a usage error; a stray "false"
// or "true" is most likely a boolean flag's value given without "=".
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	err := fmt.Errorf("unexpected argument %q: %s takes flags only", args[0], cmd.CommandPath())
	if args[0] == "true" || args[0] == "false" {
		err = fmt.Errorf("%w; a boolean flag takes its value after =, as in --int8=false", err)
	}
	return usageError{err}
}

type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }

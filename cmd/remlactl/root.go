package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/remla/tagger/cmd/internal/logging"
	"github.com/remla/tagger/deployer"
)

// Exit codes of remlactl, documented in docs/operations.md.
const (
	ExitOK       = 0
	ExitError    = 1 // the cluster or the input said no; the message says why
	ExitUsage    = 2 // bad flag, argument or color name
	ExitNotReady = 3 // a rollout timed out or the target color is not ready
	ExitConflict = 4 // another switch won, or another operator holds the lock
	ExitAnalysis = 5 // a promotion gate refused the candidate (or rolled it back)
)

// newRoot builds a fresh remlactl command tree: every run (and every test)
// gets its own flags and state.
func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "remlactl",
		Short: "Blue-green deployment of the REMLA tag predictor on Kubernetes",
		Long: `remlactl deploys the application in two colors (blue and green), each its own
Helm release, and moves traffic between them by switching the selector of the
active Service. A color becomes stable at a version and pod template by staying
active through its bake window; rollback returns traffic only to a stable color.
The state (active color, each color's standing, the history) lives in
annotations of that Service, so every machine sees the same truth.

Exit codes: 0 ok, 1 error (or a refused rollback), 2 usage, 3 not ready or timed
out, 4 conflict or locked, 5 refused by a promotion gate, 130 interrupted twice.`,
		Example: `  remlactl init 1.0.0
  remlactl deploy green 1.1.0
  remlactl status
  remlactl rollback --reason "tags look worse"
  remlactl undeploy green`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.String("kubeconfig", "", "path to the kubeconfig file (default $KUBECONFIG or ~/.kube/config)")
	pf.String("context", "", "kubeconfig context to use (default the current context)")
	pf.StringP("namespace", "n", "", "namespace (default: remla.yaml, then the context's namespace, then \"default\")")
	pf.String("config", os.Getenv("REMLA_CONFIG"), "remla.yaml with release names, labels, chart and ports (default $REMLA_CONFIG, else REMLA's defaults)")
	pf.Duration("timeout", 5*time.Minute, "give up after this long")
	pf.String("log-level", "info", "debug, info, warn or error")
	pf.BoolP("verbose", "v", false, "log debug lines, including Helm's (--log-level debug)")
	pf.String("log-format", logging.FormatAuto, "text, json, or auto (text on a terminal, JSON otherwise)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newInitCmd(), newDeployCmd(), newSwitchCmd(), newRollbackCmd(), newUndeployCmd(), newStatusCmd(),
		newHistoryCmd(), newAlertActorCmd(), newWatchCmd(), newReconcileCmd())
	return root
}

// execute runs remlactl with args on a fresh command tree and returns its
// exit code; a failure is one line on stderr.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	made := &deployers{}
	err := root.ExecuteContext(context.WithValue(ctx, deployersKey{}, made))
	made.close()
	if err == nil {
		return ExitOK
	}
	line, code := explain(err)
	fmt.Fprintf(stderr, "remlactl: %s\n", line)
	return code
}

// newDeployer builds a Deployer for namespace ns ("" = the default rule)
// from the persistent flags --kubeconfig, --context and --config, logging
// through log, acting as identity ("" = operator:<user>@<host>).
func newDeployer(cmd *cobra.Command, log *slog.Logger, ns, identity string) (*deployer.Deployer, error) {
	f := cmd.Flags()
	kubeconfig, _ := f.GetString("kubeconfig")
	kctx, _ := f.GetString("context")
	path, _ := f.GetString("config")
	var cfg *deployer.Config
	if path != "" {
		c, err := deployer.LoadConfig(path)
		if err != nil {
			return nil, usageError{err}
		}
		cfg = c
	}
	d, err := deployer.New(deployer.Options{
		Kubeconfig: kubeconfig,
		Context:    kctx,
		Namespace:  ns,
		Config:     cfg,
		Logger:     log,
		Identity:   identity,
	})
	if err != nil {
		return nil, err
	}
	if ctx := cmd.Context(); ctx != nil {
		track(ctx, d)
		if m, ok := ctx.Value(deployersKey{}).(*deployers); ok {
			m.add(d, log)
		}
	}
	return d, nil
}

// loggerFor is the logger of --log-format on stderr, debug lines only with
// -v: the one constructor of all three binaries (cmd/internal/logging).
func loggerFor(cmd *cobra.Command) (*slog.Logger, error) {
	level, _ := cmd.Flags().GetString("log-level")
	if v, _ := cmd.Flags().GetBool("verbose"); v {
		level = "debug"
	}
	format, _ := cmd.Flags().GetString("log-format")
	log, err := logging.New(cmd.ErrOrStderr(), level, format)
	if err != nil {
		return nil, usageError{err} // it names the flag
	}
	return log, nil
}

// setup is the start of every command that talks to the cluster: the
// logger and a Deployer from the common flags (-n/--namespace among them).
func setup(cmd *cobra.Command) (*deployer.Deployer, *slog.Logger, error) {
	log, err := loggerFor(cmd)
	if err != nil {
		return nil, nil, err
	}
	ns, _ := cmd.Flags().GetString("namespace")
	d, err := newDeployer(cmd, log, ns, "")
	if err != nil {
		return nil, nil, err
	}
	return d, log, nil
}

// withTimeout applies --timeout to the command's context.
func withTimeout(cmd *cobra.Command) (context.Context, context.CancelFunc, time.Duration) {
	t, _ := cmd.Flags().GetDuration("timeout")
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	if t <= 0 {
		c, cancel := context.WithCancel(ctx)
		return c, cancel, 0
	}
	c, cancel := context.WithTimeout(ctx, t)
	return c, cancel, t
}

// parseColor turns a bad color into a usage error.
func parseColor(s string) (deployer.Color, error) {
	c, err := deployer.ParseColor(s)
	if err != nil {
		return "", usageError{err}
	}
	return c, nil
}

// exactArgs is cobra.ExactArgs with a usage exit code and the expected form.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError{fmt.Errorf("%s needs %d argument(s), got %d: usage: %s", cmd.Name(), n, len(args), cmd.UseLine())}
		}
		return nil
	}
}

type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }

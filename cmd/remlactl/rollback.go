package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/remla/tagger/deployer"
)

func newRollbackCmd() *cobra.Command {
	var req deployer.RollbackRequest
	var to string
	cmd := &cobra.Command{
		Use:   "rollback",
		Short: "Move traffic back to the stable color, and mark the color left failed",
		Long: `rollback moves traffic from the active color to the other one, if that color is
stable at the version and pod template it runs now (it stayed active through a
bake window there, or is blue since init) and has a ready replica. The color
left is marked failed at its version. The decision is the alert actor's too:
one atomic update, recorded in the history and as a Kubernetes Event.

It refuses, changing no traffic, when the other color was never stable, is
failed, or was redeployed since it proved itself (it says which version it
runs), exit code 1; and when it has no ready replica, exit code 3. A refusal
is recorded too. A stable color that the standby policy scaled down (a cold
standby) is scaled back up first, and traffic moves once its replicas are
ready (within --timeout). --to names the target and overrides the stable check (not the
readiness check); the history marks the override. For a deliberate move that
is not a rollback, use switch.`,
		Example: `  remlactl rollback --reason "tags look worse in 1.1.0"
  remlactl rollback --dry-run            # say what it would do
  remlactl rollback --to blue            # even though blue is not stable`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if to != "" {
				c, err := parseColor(to)
				if err != nil {
					return err
				}
				req.To = c
			}
			d, log, err := setup(cmd)
			if err != nil {
				return err
			}
			ctx, cancel, _ := withTimeout(cmd)
			defer cancel()
			if req.Reason == "" {
				req.Reason = "manual rollback"
			}
			res, err := d.Rollback(ctx, req)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			switch res.Outcome {
			case deployer.OutcomeNotActive:
				fmt.Fprintln(out, res.Message+"; nothing changed")
			case deployer.OutcomeDryRun:
				if res.ScaleUp > 0 {
					fmt.Fprintf(out, "dry run: %s; %s would be marked failed\n", res.Message, res.From)
					break
				}
				fmt.Fprintf(out, "dry run: would move traffic from %s (%s) to %s (%s) and mark %s failed\n", res.From, res.FromVersion, res.To, res.ToVersion, res.From)
			default:
				for _, r := range res.Records {
					if r.Override {
						log.Warn("rolled back to a color that is not stable (--to): it bakes now", "color", r.To, "version", r.Version)
					}
				}
				fmt.Fprintln(out, res.Message)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.Reason, "reason", "", "why, recorded in the history (default \"manual rollback\")")
	f.StringVar(&to, "to", "", "roll back to this color even if it is not stable (recorded as an override)")
	f.BoolVar(&req.DryRun, "dry-run", false, "decide and say what would happen; change nothing")
	return cmd
}

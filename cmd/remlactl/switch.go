package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/remla/tagger/deployer"
)

func newSwitchCmd() *cobra.Command {
	var o deployer.SwitchOptions
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "switch <color>",
		Short: "Move traffic to a color, deliberately (the seed's switch-traffic.sh; after an incident use rollback)",
		Long: `switch points the active Service at <color> in one atomic update and records
the switch (time, from, to, reason, who) in the history. It refuses a color that
is not deployed or has no ready replica unless --force. If another switch
changed the state at the same time, it fails with exit code 4 and changes
nothing. Switching to the active color does nothing.

Standings move with the traffic: the color left is marked failed if it was still
baking (it did not prove itself); the target keeps a stable mark, else it bakes
for the bake window. To return to the last version that proved itself after an
incident, use rollback: it checks that the target is stable.`,
		Example: `  remlactl switch green
  remlactl switch blue --reason "latency regression in 1.2.0"
  remlactl switch green --force   # even with no ready replica`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			to, err := parseColor(args[0])
			if err != nil {
				return err
			}
			d, _, err := setup(cmd)
			if err != nil {
				return err
			}
			ctx, cancel, _ := withTimeout(cmd)
			defer cancel()
			if o.Reason == "" {
				o.Reason = "manual switch"
			}
			if dryRun {
				p, err := d.PlanSwitch(ctx, to, o)
				if err != nil {
					return err
				}
				printPlan(cmd.OutOrStdout(), p)
				return nil
			}
			rec, err := d.Switch(ctx, to, o)
			if err != nil {
				return err
			}
			if rec == nil {
				fmt.Fprintf(cmd.OutOrStdout(), "%s is already active; nothing changed\n", to)
				return nil
			}
			st, err := d.Status(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "traffic switched from %s to %s; %s is %s, %s is %s\n", orNone(rec.From), rec.To,
				rec.To, st.Colors[rec.To].Standing.Describe(time.Now()), orNone(rec.From), st.Colors[rec.From].Standing.Describe(time.Now()))
			return nil
		},
	}
	cmd.Flags().BoolVar(&o.Force, "force", false, "switch even if the color is absent or has no ready replica")
	cmd.Flags().StringVar(&o.Reason, "reason", "", "why, recorded in the history (default \"manual switch\")")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "make the same checks and print the switch and records it would make; change nothing")
	return cmd
}

func orNone(c deployer.Color) string {
	if c == "" {
		return "(none)"
	}
	return string(c)
}

package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newReconcileCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "reconcile",
		Short: "Record due promotions and apply the standby policy now (what the alert actor does every 15s)",
		Long: `reconcile does once what the alert actor does every --reconcile-interval: it
records as stable each color whose bake window has passed (a Promoted Event),
and applies the standby policy of remla.yaml (standby: {scaleDownAfter,
replicas}): a standby color whose scale-down is due is scaled down (a ScaledDown
Event). Where no actor runs, run it from a cron job; if nothing runs at the
deadline, the standby simply stays warm until something does. It prints what it
recorded, and nothing when nothing was due.`,
		Example: `  remlactl reconcile
  */5 * * * *  remlactl -n remla reconcile   # crontab, where no alert actor runs`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, _, err := setup(cmd)
			if err != nil {
				return err
			}
			ctx, cancel, _ := withTimeout(cmd)
			defer cancel()
			recs, err := d.Reconcile(ctx)
			for _, r := range recs {
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s %s: %s\n", r.Kind(), r.Color, r.Version, r.Reason)
			}
			return err
		},
	}
}

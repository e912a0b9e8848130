package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newUndeployCmd() *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "undeploy <color>",
		Short: "Uninstall a color's release; the active color is refused (the seed's undeploy.sh)",
		Long: `undeploy uninstalls the Helm release of <color>: its Deployment and preview
Service. The active color is refused (exit code 1): switch traffic away first.`,
		Example: `  remlactl undeploy green
  remlactl switch blue && remlactl undeploy green`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := parseColor(args[0])
			if err != nil {
				return err
			}
			d, _, err := setup(cmd)
			if err != nil {
				return err
			}
			ctx, cancel, _ := withTimeout(cmd)
			defer cancel()
			if dryRun {
				p, err := d.PlanUndeploy(ctx, c)
				if err != nil {
					return err
				}
				printPlan(cmd.OutOrStdout(), p)
				return nil
			}
			if err := d.Undeploy(ctx, c); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s undeployed\n", c)
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the objects the uninstall would remove, as a diff; change nothing")
	return cmd
}

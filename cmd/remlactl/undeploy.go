package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newUndeployCmd() *cobra.Command {
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
			if err := d.Undeploy(ctx, c); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s undeployed\n", c)
			return nil
		},
	}
	return cmd
}

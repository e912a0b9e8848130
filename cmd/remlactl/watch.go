package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/remla/tagger/deployer"
	"github.com/remla/tagger/deployer/analysis"
)

func newWatchCmd() *cobra.Command {
	var gates *analysisFlags
	cmd := &cobra.Command{
		Use:   "watch <color>",
		Short: "Watch a baking color through its bake window with the post-promotion checks; roll back if one fails",
		Long: `watch waits until <color>'s bake window has passed, running the
postPromotion metric checks of remla.yaml's analysis: block again and again
meanwhile. When a check fails, or cannot measure, it rolls traffic back to the
stable color through the one rollback decision, without waiting for
Alertmanager, and exits 5. It exits 0 when the window passes and the color is
stable, 1 if traffic left the color first. A check with no data is printed and
does not stop the color from becoming stable. It is what deploy --bake does
after the switch.`,
		Example: `  remlactl watch green
  remlactl watch green --prometheus http://prometheus.monitoring:9090`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := parseColor(args[0])
			if err != nil {
				return err
			}
			d, log, err := setup(cmd)
			if err != nil {
				return err
			}
			cfg, err := gates.config(cmd, d.Config().Analysis)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			s, err := d.Watch(cmd.Context(), c, deployer.WatchOptions{Config: cfg,
				Report: func(r analysis.Result) { printResult(out, r) },
				Progress: func(s deployer.Standing) {
					log.Debug("baking", "color", c, "version", s.Version, "standing", s.Describe(time.Now()))
				}})
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "%s is stable at %s\n", c, s.Version)
			return nil
		},
	}
	gates = addAnalysisFlags(cmd.Flags(), false)
	return cmd
}

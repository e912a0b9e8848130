package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/remla/tagger/deployer"
)

func newDeployCmd() *cobra.Command {
	var o deployer.DeployOptions
	var labels map[string]string
	cmd := &cobra.Command{
		Use:   "deploy <color> <version>",
		Short: "Install or upgrade a color, wait until it is ready, then switch traffic to it (the seed's deploy-bg.sh)",
		Long: `deploy installs or upgrades the Helm release of <color> with image tag
<version>, waits until the rollout is complete by the test of kubectl rollout
status (the controller saw the new spec, every replica updated, no old replica
left, every replica available), then switches traffic to <color>.

While it waits it shows a live line (ready x/y, elapsed) on a terminal and
plain log lines otherwise. If the rollout is not complete by --timeout, it
names the pods that are not ready and why, leaves traffic where it was and
exits with code 3. Deploying the active color is refused unless --in-place.`,
		Example: `  remlactl deploy green 1.1.0
  remlactl deploy green 1.1.0 --no-switch   # try it on the preview Service first
  remlactl deploy blue 1.2.0 --timeout 2m --replicas 3`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := parseColor(args[0])
			if err != nil {
				return err
			}
			if err := deployer.ValidateVersion(args[1]); err != nil {
				return usageError{err}
			}
			d, log, err := setup(cmd)
			if err != nil {
				return err
			}
			ctx, cancel, t := withTimeout(cmd)
			defer cancel()
			o.Timeout = t
			o.PodLabels = labels
			var end func()
			o.Progress, end = progressPrinter(cmd.ErrOrStderr(), log)
			defer end()
			if err := d.Deploy(ctx, c, args[1], o); err != nil {
				return err
			}
			if o.NoSwitch {
				fmt.Fprintf(cmd.OutOrStdout(), "%s runs %s and is ready; traffic unchanged (remlactl switch %s to move it)\n", c, args[1], c)
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "%s runs %s and has the traffic\n", c, args[1])
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.NoSwitch, "no-switch", false, "only deploy; leave traffic where it is")
	f.BoolVar(&o.InPlace, "in-place", false, "allow upgrading the active color under live traffic")
	f.IntVar(&o.Replicas, "replicas", 0, "replicas (default from remla.yaml, 2)")
	f.StringVar(&o.Reason, "reason", "", "why, recorded in the history (default \"deploy <version>\")")
	f.StringToStringVar(&labels, "pod-label", nil, "extra pod label key=value (repeatable)")
	return cmd
}

package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/remla/tagger/deployer"
)

func newDeployCmd() *cobra.Command {
	var o deployer.DeployOptions
	var labels map[string]string
	var gates *analysisFlags
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "deploy <color> <version>",
		Short: "Install or upgrade a color, wait until it is ready, then switch traffic to it; it bakes until stable (the seed's deploy-bg.sh)",
		Long: `deploy installs or upgrades the Helm release of <color> with image tag
<version>, waits until the rollout is complete by the test of kubectl rollout
status (the controller saw the new spec, every replica updated, no old replica
left, every replica available), then switches traffic to <color>.

A new version or pod template clears the color's standing. Once it has the
traffic it bakes: it becomes stable if it stays active, with no rollback, for
the bake window (bakeWindow in remla.yaml, default 10m). --bake <duration> sets
the window for this deploy and waits it out, exiting 0 once the color is
stable and 1 if traffic left it or it was marked failed first; Ctrl-C stops the
wait and leaves the color baking. Without --bake, deploy returns at the switch.

While it waits for the rollout it shows a live line (ready x/y, elapsed) on a
terminal and plain log lines otherwise. If the rollout is not complete by
--timeout, it names the pods that are not ready and why, leaves traffic where
it was, records the color failed at that version, and exits with code 3.
Deploying the active color is refused unless --in-place.

Before the switch it runs the promotion gates of the analysis: block of
remla.yaml, or of --smoke, --quality and --prometheus: smoke predictions and
the model-quality replay through the API server's service proxy, then the
pre-promotion metric checks. A failed gate leaves traffic where it was, marks
the color failed at that version, prints what failed and by how much, and
exits with code 5. --skip-analysis bypasses them, recorded in the history.
With --bake the post-promotion checks run during the window; when one fails
traffic is rolled back to the stable color and deploy exits 5.`,
		Example: `  remlactl deploy green 1.1.0
  remlactl deploy green 1.1.0 --dry-run     # the diff against the live release, the gates, the switch
  remlactl deploy green 1.1.0 --no-switch   # try it on the preview Service first
  remlactl deploy green 1.1.0 --bake 30m    # and wait until it is stable
  remlactl deploy green 1.1.0 --smoke 50 --quality data/validation.tsv.gz
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
			if cmd.Flags().Changed("bake") && o.Bake < time.Second {
				return usageError{fmt.Errorf("--bake %s: give a bake window of at least 1s, for example 10m", o.Bake)}
			}
			if o.NoSwitch && o.Bake > 0 {
				return usageError{errors.New("--bake with --no-switch: a color bakes only while it has the traffic")}
			}
			ctx, cancel, t := withTimeout(cmd)
			defer cancel()
			o.Timeout = t
			o.PodLabels = labels
			if o.Analysis, err = gates.options(cmd, d); err != nil {
				return err
			}
			if dryRun {
				p, err := d.PlanDeploy(ctx, c, args[1], o)
				if err != nil {
					return err
				}
				printPlan(cmd.OutOrStdout(), p)
				return nil
			}
			var end func()
			o.Progress, end = progressPrinter(cmd.ErrOrStderr(), log)
			defer end()
			if err := d.Deploy(ctx, c, args[1], o); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if o.NoSwitch {
				fmt.Fprintf(out, "%s runs %s and is ready; traffic unchanged (remlactl switch %s to move it)\n", c, args[1], c)
				return nil
			}
			st, err := d.Status(ctx)
			if err != nil {
				return err
			}
			s := st.Colors[c].Standing
			fmt.Fprintf(out, "%s runs %s and has the traffic; %s\n", c, args[1], s.Describe(time.Now()))
			if o.Bake == 0 || s.Phase != deployer.Baking {
				return nil
			}
			// The bake wait has no deadline of its own: --timeout bounds the rollout.
			// Watch is Bake with the post-promotion checks of analysis:.
			s, err = d.Watch(cmd.Context(), c, deployer.WatchOptions{Config: o.Analysis.Config, Report: o.Analysis.Report,
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
	f := cmd.Flags()
	f.BoolVar(&o.NoSwitch, "no-switch", false, "only deploy; leave traffic where it is")
	f.BoolVar(&o.InPlace, "in-place", false, "allow upgrading the active color under live traffic")
	f.IntVar(&o.Replicas, "replicas", 0, "replicas (default from remla.yaml, 2)")
	f.StringVar(&o.Reason, "reason", "", "why, recorded in the history (default \"deploy <version>\")")
	f.DurationVar(&o.Bake, "bake", 0, "bake window for this deploy (default bakeWindow of remla.yaml, 10m), and wait until it has passed")
	f.StringToStringVar(&labels, "pod-label", nil, "extra pod label key=value (repeatable)")
	gates = addAnalysisFlags(f, true)
	f.BoolVar(&dryRun, "dry-run", false, "print the manifests Helm would change (a diff against the live release), the gates and the switch; change nothing")
	return cmd
}

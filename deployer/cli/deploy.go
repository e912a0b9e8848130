package cli

import (
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/remla/tagger/deployer"
)

func newInitCmd() *cobra.Command {
	var o deployer.DeployOptions
	var withMonitoring bool
	var monitoringRepo string
	cmd := &cobra.Command{
		Use:   "init <version>",
		Short: "Install blue at a version, the active Service on blue, and the Ingress (the seed's deploy-simple.sh)",
		Long: `init installs the blue release at <version>, waits until every replica is
ready (the test of kubectl rollout status), then installs the shared release:
the active Service pointing at blue, the Ingress and, when the cluster serves
monitoring.coreos.com/v1, the ServiceMonitor, PrometheusRule and dashboard.
It records the first entry of the history. A namespace is initialized once;
afterwards use deploy (init --with-monitoring on an initialized namespace only
adds the monitoring and re-applies the shared release, traffic unchanged).

--with-monitoring first installs the kube-prometheus-stack chart from
https://prometheus-community.github.io/helm-charts (the cluster and this
machine must reach it), so the alert rules and the dashboard have a home.`,
		Example: `  remlactl init 1.0.0
  remlactl init 1.0.0 -n remla --timeout 10m
  remlactl init 1.0.0 --with-monitoring
  remlactl init 1.0.0 --with-monitoring --monitoring-repo https://charts.mirror.internal/prometheus-community`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := deployer.ValidateVersion(args[0]); err != nil {
				return usageError{err}
			}
			d, err := deployerFromFlags(cmd)
			if err != nil {
				return err
			}
			ctx, cancel, t := withTimeout(cmd)
			defer cancel()
			o.Timeout = t
			var end func()
			o.Progress, end = progressPrinter(cmd.ErrOrStderr(), loggerFor(cmd))
			defer end()
			if withMonitoring {
				d.SetMonitoringRepo(monitoringRepo)
				if err := d.InstallMonitoring(ctx); err != nil {
					return err
				}
				st, err := d.Status(ctx)
				if err != nil {
					return err
				}
				if st.Active != "" {
					// Already initialized: add the monitoring objects to the
					// shared release, traffic unchanged.
					if err := d.ApplyShared(ctx); err != nil {
						return err
					}
					fmt.Fprintf(cmd.OutOrStdout(), "monitoring installed; shared release re-applied, %s keeps the traffic\n", st.Active)
					return nil
				}
			}
			if err := d.Init(ctx, args[0], o); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "initialized %s: blue runs %s and has the traffic\n", d.Namespace(), args[0])
			return nil
		},
	}
	cmd.Flags().IntVar(&o.Replicas, "replicas", 0, "replicas of blue (default from remla.yaml, 2)")
	cmd.Flags().BoolVar(&withMonitoring, "with-monitoring", false, "also install kube-prometheus-stack from its chart repository")
	cmd.Flags().StringVar(&monitoringRepo, "monitoring-repo", deployer.MonitoringRepo, "chart repository (or mirror) holding kube-prometheus-stack")
	return cmd
}

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
			d, err := deployerFromFlags(cmd)
			if err != nil {
				return err
			}
			ctx, cancel, t := withTimeout(cmd)
			defer cancel()
			o.Timeout = t
			o.PodLabels = labels
			var end func()
			o.Progress, end = progressPrinter(cmd.ErrOrStderr(), loggerFor(cmd))
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
			d, err := deployerFromFlags(cmd)
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

// progressPrinter shows a rollout as one live line on a terminal, and as a
// log line per change of state otherwise.
// The second function ends an unfinished live line.
func progressPrinter(w io.Writer, log *slog.Logger) (func(deployer.Progress), func()) {
	tty := isTerminal(w)
	var last string
	open := false
	end := func() {
		if open {
			fmt.Fprintln(w)
			open = false
		}
	}
	return func(p deployer.Progress) {
		line := fmt.Sprintf("%s %s: ready %d/%d, updated %d, available %d", p.Color, p.Version, p.Ready, p.Desired, p.Updated, p.Available)
		if tty {
			fmt.Fprintf(w, "\r\033[K%s, %s (%s)", line, p.Elapsed.Round(time.Second), p.Message)
			open = true
			if p.Done {
				end()
			}
			return
		}
		if line != last {
			log.Info("rollout", "color", p.Color, "version", p.Version, "ready", p.Ready, "desired", p.Desired,
				"updated", p.Updated, "available", p.Available, "elapsed", p.Elapsed.Round(time.Millisecond), "status", p.Message)
			last = line
		}
	}, end
}

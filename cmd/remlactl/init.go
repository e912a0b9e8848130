package main

import (
	"fmt"

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
			d, log, err := setup(cmd)
			if err != nil {
				return err
			}
			ctx, cancel, t := withTimeout(cmd)
			defer cancel()
			o.Timeout = t
			var end func()
			o.Progress, end = progressPrinter(cmd.ErrOrStderr(), log)
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

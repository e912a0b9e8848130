package deployer

import (
	"context"
	"fmt"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/cli"
)

// The monitoring stack init --with-monitoring installs.
const (
	MonitoringRepo    = "https://prometheus-community.github.io/helm-charts"
	MonitoringChart   = "kube-prometheus-stack"
	MonitoringRelease = "kube-prometheus-stack"
)

// InstallMonitoring installs kube-prometheus-stack from its chart repository
// into the namespace, unless a release of that name exists. Its Prometheus
// selects every ServiceMonitor and PrometheusRule, and its Grafana loads the
// dashboards of ConfigMaps labelled grafana_dashboard=1, so the shared
// release's objects are picked up. It needs this machine to reach the chart
// repository and the cluster to pull the images.
func (d *Deployer) InstallMonitoring(ctx context.Context) error {
	if err := d.checkNamespace(ctx); err != nil {
		return err
	}
	exists, err := d.releaseExists(MonitoringRelease)
	if err != nil {
		return err
	}
	if exists {
		d.log.Info("monitoring already installed", "release", MonitoringRelease)
		return nil
	}
	cfg, err := d.helm()
	if err != nil {
		return err
	}
	in := action.NewInstall(cfg)
	in.RepoURL = d.monRepo
	in.ReleaseName, in.Namespace = MonitoringRelease, d.ns
	in.Wait, in.Timeout = true, 10*time.Minute
	d.log.Info("fetching chart", "chart", MonitoringChart, "repo", d.monRepo)
	path, err := in.LocateChart(MonitoringChart, cli.New())
	if err != nil {
		return fmt.Errorf("fetch %s from %s (does this machine reach it? --monitoring-repo names a mirror): %w", MonitoringChart, d.monRepo, err)
	}
	ch, err := loader.Load(path)
	if err != nil {
		return fmt.Errorf("load %s: %w", path, err)
	}
	vals := map[string]any{
		"prometheus": map[string]any{"prometheusSpec": map[string]any{
			"ruleSelectorNilUsesHelmValues":           false,
			"serviceMonitorSelectorNilUsesHelmValues": false,
		}},
	}
	d.log.Info("installing monitoring", "release", MonitoringRelease, "timeout", in.Timeout)
	if _, err := in.RunWithContext(ctx, ch, vals); err != nil {
		return fmt.Errorf("install %s: %w", MonitoringRelease, err)
	}
	// Helm caches the cluster's API versions per configuration: start a new
	// one so the shared release sees monitoring.coreos.com/v1.
	d.helmMu.Lock()
	d.actions = nil
	d.helmMu.Unlock()
	return nil
}

// SetMonitoringRepo sets the chart repository InstallMonitoring fetches
// kube-prometheus-stack from; empty keeps the current one.
func (d *Deployer) SetMonitoringRepo(url string) {
	if url != "" {
		d.monRepo = url
	}
}

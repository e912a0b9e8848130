package deployer

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"

	"github.com/remla/tagger/charts"
)

// helmDriver keeps releases in Secrets of the namespace, as the helm CLI
// does, so `helm list` shows what remlactl installed.
const helmDriver = "secret"

// helm returns the Helm action configuration, built once.
func (d *Deployer) helm() (*action.Configuration, error) {
	d.helmMu.Lock()
	defer d.helmMu.Unlock()
	if d.actions != nil {
		return d.actions, nil
	}
	cfg := new(action.Configuration)
	logf := func(format string, v ...any) { d.log.Debug(fmt.Sprintf(format, v...), "component", "helm") }
	if err := cfg.Init(d.getter, d.ns, helmDriver, logf); err != nil {
		return nil, fmt.Errorf("set up Helm: %w", err)
	}
	d.actions = cfg
	return cfg, nil
}

// chart loads the chart named in the config, or the built-in one.
func (d *Deployer) chart() (*chart.Chart, error) {
	if d.cfg.Chart == "" {
		return charts.App()
	}
	c, err := loader.Load(d.cfg.Chart)
	if err != nil {
		return nil, fmt.Errorf("load chart %s (remla.yaml: chart): %w", d.cfg.Chart, err)
	}
	return c, nil
}

// releaseExists says whether a release has any revision.
func (d *Deployer) releaseExists(name string) (bool, error) {
	cfg, err := d.helm()
	if err != nil {
		return false, err
	}
	last, err := cfg.Releases.Last(name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read Helm release %s: %w", name, err)
	}
	if last.Info.Status.IsPending() {
		return true, fmt.Errorf("Helm release %s is stuck in %q (an earlier operation was interrupted): run helm rollback %s -n %s, then retry", name, last.Info.Status, name, d.ns)
	}
	return true, nil
}

// installOrUpgrade applies the chart to release `name` without Helm's wait:
// the caller waits with the stricter rollout test.
func (d *Deployer) installOrUpgrade(ctx context.Context, name string, vals map[string]any, timeout time.Duration) (*release.Release, error) {
	cfg, err := d.helm()
	if err != nil {
		return nil, err
	}
	ch, err := d.chart()
	if err != nil {
		return nil, err
	}
	exists, err := d.releaseExists(name)
	if err != nil {
		return nil, err
	}
	var rel *release.Release
	defer d.inflight.helm(name)()
	if exists {
		up := action.NewUpgrade(cfg)
		up.Namespace, up.Timeout, up.MaxHistory = d.ns, timeout, 10
		rel, err = up.RunWithContext(ctx, name, ch, vals)
	} else {
		in := action.NewInstall(cfg)
		in.Namespace, in.ReleaseName, in.Timeout = d.ns, name, timeout
		rel, err = in.RunWithContext(ctx, ch, vals)
	}
	if err != nil {
		return nil, fmt.Errorf("helm %s %s: %w", map[bool]string{true: "upgrade", false: "install"}[exists], name, err)
	}
	d.log.Debug("helm release applied", "release", name, "revision", rel.Version)
	return rel, nil
}

// uninstall removes a release; ok is false when there was none.
func (d *Deployer) uninstall(name string, timeout time.Duration) (bool, error) {
	cfg, err := d.helm()
	if err != nil {
		return false, err
	}
	un := action.NewUninstall(cfg)
	un.Timeout = timeout
	if _, err := un.Run(name); err != nil {
		if errors.Is(err, driver.ErrReleaseNotFound) {
			return false, nil
		}
		return false, fmt.Errorf("helm uninstall %s: %w", name, err)
	}
	return true, nil
}

// colorValues are the chart values of one color's release: remla.yaml's
// values first, then what the deployer decides.
func (d *Deployer) colorValues(c Color, version string, o DeployOptions) map[string]any {
	vals := d.baseValues()
	replicas := d.cfg.Replicas
	if o.Replicas > 0 {
		replicas = o.Replicas
	}
	podLabels := map[string]any{}
	if pl, ok := vals["podLabels"].(map[string]any); ok {
		maps.Copy(podLabels, pl)
	}
	for k, v := range o.PodLabels {
		podLabels[k] = v
	}
	return merge(vals, map[string]any{
		"deployment": map[string]any{"enabled": true},
		"shared":     map[string]any{"enabled": false},
		"color":      string(c),
		"version":    version,
		"replicas":   replicas,
		"podLabels":  podLabels,
	})
}

// sharedValues are the chart values of the shared release.
func (d *Deployer) sharedValues(active Color) map[string]any {
	ingress := map[string]any{"className": d.cfg.IngressClass, "host": d.cfg.IngressHost}
	return merge(d.baseValues(), map[string]any{
		"deployment": map[string]any{"enabled": false},
		"shared":     map[string]any{"enabled": true, "activeColor": string(active), "serviceName": d.cfg.ActiveService},
		"ingress":    ingress,
	})
}

func (d *Deployer) baseValues() map[string]any {
	return merge(merge(map[string]any{}, d.cfg.Values), map[string]any{
		"app":         d.cfg.App,
		"labels":      map[string]any{"app": d.cfg.Labels.App, "color": d.cfg.Labels.Color, "version": d.cfg.Labels.Version},
		"image":       map[string]any{"repository": d.cfg.Image},
		"port":        d.cfg.ContainerPort,
		"servicePort": d.cfg.ServicePort,
		"shared":      map[string]any{"serviceName": d.cfg.ActiveService},
	})
}

// merge copies src over dst recursively and returns dst.
func merge(dst, src map[string]any) map[string]any {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			dm, ok := dst[k].(map[string]any)
			if !ok {
				dm = map[string]any{}
			}
			dst[k] = merge(maps.Clone(dm), sm)
			continue
		}
		dst[k] = v
	}
	return dst
}

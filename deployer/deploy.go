package deployer

import (
	"context"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// DefaultTimeout bounds the readiness wait of init and deploy when
// DeployOptions.Timeout is zero.
const DefaultTimeout = 5 * time.Minute

// DeployOptions say how to install a color.
type DeployOptions struct {
	// Timeout bounds the wait for the rollout; zero means DefaultTimeout.
	Timeout time.Duration
	// NoSwitch only deploys; traffic stays where it is.
	NoSwitch bool
	// InPlace allows upgrading the active color, which moves live traffic
	// onto pods as they roll; blue-green normally deploys the standby color.
	InPlace bool
	// Replicas overrides the config's replicas when positive.
	Replicas int
	// PodLabels are added to the pods (the tests mark never-ready pods).
	PodLabels map[string]string
	// Reason is recorded in the history; empty means "deploy <version>".
	Reason string
	// Progress, when set, is called at each observation of the rollout.
	Progress func(Progress)
}

func (o DeployOptions) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return DefaultTimeout
}

// ValidateVersion refuses a version that cannot be a label value or image tag.
func ValidateVersion(v string) error {
	if v == "" {
		return fmt.Errorf("empty version: give the image tag to run, for example 1.2.0")
	}
	if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
		return fmt.Errorf("bad version %q: %s", v, strings.Join(errs, "; "))
	}
	return nil
}

// Init installs the shared release (active Service on blue, Ingress,
// monitoring objects, the feedback store and signing key), then blue at
// version, waits until it is ready, and records the first switch. It is
// the seed's deploy-simple.sh. It refuses a namespace that is already
// initialized.
func (d *Deployer) Init(ctx context.Context, version string, o DeployOptions) error {
	if err := ValidateVersion(version); err != nil {
		return err
	}
	if err := d.checkNamespace(ctx); err != nil {
		return err
	}
	ctx, unlock, err := d.lock(ctx, "init "+version)
	if err != nil {
		return err
	}
	defer unlock()
	svcs := d.client.CoreV1().Services(d.ns)
	svc, err := svcs.Get(ctx, d.cfg.ActiveService, metav1.GetOptions{})
	switch {
	case err == nil && svc.Annotations[annoActive] != "":
		return fmt.Errorf("namespace %s is already initialized (%s is active): use remlactl deploy <color> <version>", d.ns, svc.Annotations[annoActive])
	case err != nil && !apierrors.IsNotFound(err):
		return fmt.Errorf("read active Service %s/%s: %w", d.ns, d.cfg.ActiveService, err)
	}
	// The shared release goes first: it holds what both colors need to
	// start (the prediction-id signing key, the feedback store's Secret and
	// Service), and its active Service simply has no endpoints until blue
	// is ready.
	if _, err := d.installOrUpgrade(ctx, d.cfg.SharedRelease, d.sharedValues(Blue), o.timeout()); err != nil {
		return err
	}
	if err := d.deployColor(ctx, Blue, version, o); err != nil {
		return err
	}
	svc, err = svcs.Get(ctx, d.cfg.ActiveService, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("read the active Service the shared release made: %w", err)
	}
	reason := o.Reason
	if reason == "" {
		reason = "init " + version
	}
	next, _ := stored{}.apply(Blue, SwitchOptions{Reason: reason}, now(), d.identity)
	if err := writeStored(svc, next, d.cfg.Labels.Color, d.cfg.HistoryLimit); err != nil {
		return err
	}
	if _, err := svcs.Update(ctx, svc, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsConflict(err) {
			return fmt.Errorf("%w: the active Service changed during init; run remlactl status", ErrConflict)
		}
		return fmt.Errorf("record the initial state on Service %s: %w", d.cfg.ActiveService, err)
	}
	d.log.Info("initialized", "active", Blue, "version", version, "namespace", d.ns)
	return nil
}

// Deploy installs or upgrades color c at version, waits until the rollout
// is complete by the test of `kubectl rollout status`, then switches traffic
// to c unless o.NoSwitch. On a timeout it returns a *RolloutError naming the
// unready pods, and traffic stays where it was. It refuses the active color
// unless o.InPlace.
func (d *Deployer) Deploy(ctx context.Context, c Color, version string, o DeployOptions) error {
	if _, err := ParseColor(string(c)); err != nil {
		return err
	}
	if err := ValidateVersion(version); err != nil {
		return err
	}
	if err := d.checkNamespace(ctx); err != nil {
		return err
	}
	ctx, unlock, err := d.lock(ctx, fmt.Sprintf("deploy %s %s", c, version))
	if err != nil {
		return err
	}
	defer unlock()
	svc, err := d.client.CoreV1().Services(d.ns).Get(ctx, d.cfg.ActiveService, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		if !o.NoSwitch {
			return fmt.Errorf("%w: Service %s/%s does not exist: run remlactl init <version> first, or deploy with --no-switch", ErrNotInitialized, d.ns, d.cfg.ActiveService)
		}
	case err != nil:
		return fmt.Errorf("read active Service %s/%s: %w", d.ns, d.cfg.ActiveService, err)
	default:
		st, err := readStored(svc, d.cfg.Labels.Color)
		if err != nil {
			return err
		}
		if st.Active == c && !o.InPlace {
			return fmt.Errorf("%w: %s serves traffic; deploy to %s and switch, or pass --in-place to upgrade %s under live traffic", ErrActiveColor, c, other(c), c)
		}
	}
	if err := d.deployColor(ctx, c, version, o); err != nil {
		return err
	}
	if o.NoSwitch {
		return nil
	}
	reason := o.Reason
	if reason == "" {
		reason = "deploy " + version
	}
	if _, err := d.Switch(ctx, c, SwitchOptions{Reason: reason}); err != nil {
		return fmt.Errorf("%s %s is ready but traffic was not switched: %w", c, version, err)
	}
	return nil
}

// deployColor applies the color's release and waits for its rollout.
func (d *Deployer) deployColor(ctx context.Context, c Color, version string, o DeployOptions) error {
	wctx, cancel := context.WithTimeout(ctx, o.timeout())
	defer cancel()
	d.log.Info("deploying", "color", c, "version", version, "release", d.cfg.Release(c), "timeout", o.timeout())
	if _, err := d.installOrUpgrade(wctx, d.cfg.Release(c), d.colorValues(c, version, o), o.timeout()); err != nil {
		return err
	}
	return d.waitRollout(wctx, c, version, o.Progress)
}

// Undeploy uninstalls color c's release. It refuses the active color
// (ErrActiveColor) and says so when c is not deployed.
func (d *Deployer) Undeploy(ctx context.Context, c Color) error {
	if _, err := ParseColor(string(c)); err != nil {
		return err
	}
	if err := d.checkNamespace(ctx); err != nil {
		return err
	}
	ctx, unlock, err := d.lock(ctx, "undeploy "+string(c))
	if err != nil {
		return err
	}
	defer unlock()
	svc, err := d.client.CoreV1().Services(d.ns).Get(ctx, d.cfg.ActiveService, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("read active Service %s/%s: %w", d.ns, d.cfg.ActiveService, err)
	}
	if err == nil {
		st, err := readStored(svc, d.cfg.Labels.Color)
		if err != nil {
			return err
		}
		if st.Active == c {
			return fmt.Errorf("%w: %s serves traffic; switch to %s first (remlactl switch %s)", ErrActiveColor, c, other(c), other(c))
		}
	}
	ok, err := d.uninstall(d.cfg.Release(c), time.Minute)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s is not deployed (no Helm release %s in %s): nothing to undeploy", c, d.cfg.Release(c), d.ns)
	}
	d.log.Info("undeployed", "color", c, "release", d.cfg.Release(c))
	return nil
}

// ApplyShared re-applies the shared release (active Service, Ingress and,
// when the cluster now serves monitoring.coreos.com/v1, the ServiceMonitor,
// PrometheusRule and dashboard) keeping the active color and the state.
func (d *Deployer) ApplyShared(ctx context.Context) error {
	if err := d.checkNamespace(ctx); err != nil {
		return err
	}
	ctx, unlock, err := d.lock(ctx, "apply shared release")
	if err != nil {
		return err
	}
	defer unlock()
	svcs := d.client.CoreV1().Services(d.ns)
	svc, err := svcs.Get(ctx, d.cfg.ActiveService, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("%w: Service %s/%s does not exist: run remlactl init first", ErrNotInitialized, d.ns, d.cfg.ActiveService)
	}
	if err != nil {
		return fmt.Errorf("read active Service %s/%s: %w", d.ns, d.cfg.ActiveService, err)
	}
	st, err := readStored(svc, d.cfg.Labels.Color)
	if err != nil {
		return err
	}
	if _, err := d.installOrUpgrade(ctx, d.cfg.SharedRelease, d.sharedValues(st.Active), time.Minute); err != nil {
		return err
	}
	// Helm patched the selector to the color read above; a switch since
	// then (the alert actor takes no Lease) would be undone. The annotations
	// Helm leaves alone are the truth: put the selector back in line.
	svc, err = svcs.Get(ctx, d.cfg.ActiveService, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("read active Service %s/%s: %w", d.ns, d.cfg.ActiveService, err)
	}
	if now, err := readStored(svc, d.cfg.Labels.Color); err == nil && svc.Spec.Selector[d.cfg.Labels.Color] != string(now.Active) {
		svc.Spec.Selector[d.cfg.Labels.Color] = string(now.Active)
		if _, err := svcs.Update(ctx, svc, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("restore the selector of %s to %s after the Helm upgrade: %w; run remlactl switch %s --force", d.cfg.ActiveService, now.Active, err, now.Active)
		}
	}
	return nil
}

func other(c Color) Color {
	if c == Blue {
		return Green
	}
	return Blue
}

package deployer

import (
	"context"
	"errors"
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
	// Bake is the bake window of the color once it takes traffic; zero
	// means the config's bakeWindow.
	Bake time.Duration
	// Progress, when set, is called at each observation of the rollout.
	Progress func(Progress)
	// Analysis says which promotion gates run before the switch (gate.go).
	Analysis AnalysisOptions
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
// version, waits until it is ready, and records blue as active and stable at
// once: there is nothing to compare it with. It is the seed's
// deploy-simple.sh. It refuses a namespace that is already initialized.
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
	svc, err := d.client.CoreV1().Services(d.ns).Get(ctx, d.cfg.ActiveService, metav1.GetOptions{})
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
	reason := o.Reason
	if reason == "" {
		reason = "init " + version
	}
	err = d.update(ctx, func(v *view) (stored, []Record, error) {
		if v.svc == nil || v.deps[Blue] == nil {
			return stored{}, nil, fmt.Errorf("the shared release made no Service %s, or blue has no Deployment %s", d.cfg.ActiveService, d.cfg.Release(Blue))
		}
		dep := v.deps[Blue]
		ver, tpl := d.versionOf(dep), v.template(Blue)
		stable := Standing{Phase: Stable, Version: ver, Template: tpl, Since: v.now, Reason: "init: nothing to compare it with", By: d.identity}
		next := stored{Active: Blue, Standing: map[Color]Standing{Blue: stable}}
		return next, []Record{
			{Time: v.now, Event: EventDeployed, Color: Blue, Version: ver, Standing: Unproven, Reason: reason, By: d.identity},
			{Time: v.now, Event: EventSwitched, Color: Blue, Version: ver, To: Blue, Reason: reason, By: d.identity},
			{Time: v.now, Event: EventPromoted, Color: Blue, Version: ver, Standing: Stable, Reason: stable.Reason, By: d.identity},
		}, nil
	})
	if err != nil {
		return fmt.Errorf("record the initial state on Service %s: %w", d.cfg.ActiveService, err)
	}
	d.log.Info("initialized", "active", Blue, "version", version, "namespace", d.ns)
	return nil
}

// Deploy installs or upgrades color c at version, waits until the rollout
// is complete by the test of `kubectl rollout status`, records it (a new pod
// template clears the color's standing), then switches traffic to c unless
// o.NoSwitch; c then bakes for o.Bake. On a timeout it returns a
// *RolloutError naming the unready pods, traffic stays where it was, and c
// is recorded failed at version. It refuses the active color unless
// o.InPlace (which makes it bake again under its traffic).
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
	// Until traffic moves, an interrupt at any step says so (interrupt.go).
	op, caller := fmt.Sprintf("deploy %s %s", c, version), ctx
	ctx, unlock, err := d.lock(ctx, op)
	if err != nil {
		return interrupted(caller, op, err)
	}
	defer unlock()
	v, err := d.read(ctx)
	if err != nil {
		return interrupted(caller, op, err)
	}
	if err := d.deployRefusal(v, c, o); err != nil {
		return err
	}
	if v.svc != nil {
		active := v.st.Active
		if active != c && d.standingOf(v, c).Phase == Stable && d.standingOf(v, active).Phase != Stable {
			d.log.Warn("deploying the only stable color: until "+string(active)+" becomes stable, a rollback has no target",
				"color", c, "active", active, "activeStanding", d.standingOf(v, active).Phase)
		}
	}
	if err := d.deployColor(ctx, c, version, o); err != nil {
		d.recordDeployFailed(c, version, err)
		return interrupted(caller, op, err)
	}
	_, verdict, err := d.gates(ctx, c, version, o)
	if err != nil {
		return interrupted(caller, op, err)
	}
	reason := o.Reason
	if reason == "" {
		reason = "deploy " + version
	}
	err = d.update(ctx, func(v *view) (stored, []Record, error) {
		if v.svc == nil {
			return stored{}, nil, nil // --no-switch before init: no state to record in
		}
		dep := v.deps[c]
		if dep == nil {
			return stored{}, nil, fmt.Errorf("Deployment %s disappeared after its rollout", d.cfg.Release(c))
		}
		next := v.st.clone()
		recs := d.promotions(v, &next)
		delete(next.Cold, c) // the release sets its full replicas again
		cur := d.standingOf(v, c)
		if cur.Phase == Unproven {
			cur = Standing{Phase: Unproven, Version: d.versionOf(dep), Template: v.template(c), Since: v.now,
				Reason: "deployed: " + reason, By: d.identity}
			if v.st.Active == c {
				cur = d.baking(v, c, d.bake(o.Bake), "upgraded in place under traffic: "+reason, d.identity)
			}
			next.Standing[c] = cur
		}
		recs = append(recs, Record{Time: v.now, Event: EventDeployed, Color: c, Version: d.versionOf(dep), Standing: cur.Phase, Reason: reason, By: d.identity})
		if !o.NoSwitch && v.st.Active != c {
			if err := d.checkReady(v, c); err != nil {
				return stored{}, nil, fmt.Errorf("%s %s is deployed but traffic was not switched: %w", c, version, err)
			}
			if verdict != nil {
				recs = append(recs, verdict(v)...)
			}
			recs = append(recs, d.switchTo(v, &next, c, SwitchOptions{Reason: reason, By: d.identity, Bake: o.Bake})...)
		}
		return next, recs, nil
	})
	if err != nil {
		return fmt.Errorf("%s %s is ready but recording it (and switching traffic) failed: %w", c, version, err)
	}
	return nil
}

// deployRefusal is why a deploy of c must not start: before init without
// --no-switch, or the active color without --in-place. Deploy and
// PlanDeploy (its dry run) share it.
func (d *Deployer) deployRefusal(v *view, c Color, o DeployOptions) error {
	if v.svc == nil && !o.NoSwitch {
		return fmt.Errorf("%w: Service %s/%s does not exist: run remlactl init <version> first, or deploy with --no-switch", ErrNotInitialized, d.ns, d.cfg.ActiveService)
	}
	if v.svc != nil && v.st.Active == c && !o.InPlace {
		return fmt.Errorf("%w: %s serves traffic; deploy to %s and switch, or pass --in-place to upgrade %s under live traffic", ErrActiveColor, c, other(c), c)
	}
	return nil
}

func (d *Deployer) bake(o time.Duration) time.Duration {
	if o > 0 {
		return o
	}
	return d.cfg.BakeWindow.Duration
}

// recordDeployFailed records a failed deploy of c at version with its
// cause: the color is failed at version (unproven when the deploy was only
// interrupted) if its Deployment now runs version. It has its own deadline:
// the operation's context may be what ended.
func (d *Deployer) recordDeployFailed(c Color, version string, cause error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	phase, reason := Failed, fmt.Sprintf("deploy %s failed: %v", version, cause)
	if errors.Is(cause, context.Canceled) {
		phase, reason = Unproven, fmt.Sprintf("deploy %s interrupted before its rollout completed", version)
	}
	err := d.update(ctx, func(v *view) (stored, []Record, error) {
		if v.svc == nil {
			return stored{}, nil, nil
		}
		next := v.st.clone()
		recs := d.promotions(v, &next)
		rec := Record{Time: v.now, Event: EventDeployFailed, Color: c, Version: version, Reason: reason, By: d.identity}
		if dep := v.deps[c]; dep != nil && d.versionOf(dep) == version {
			s := d.failed(v, c, reason, d.identity)
			s.Phase = phase
			next.Standing[c], rec.Standing = s, phase
		}
		return next, append(recs, rec), nil
	})
	if err != nil {
		d.log.Warn("could not record the failed deploy", "color", c, "version", version, "err", err)
	}
}

// deployColor applies the color's release and waits for its rollout.
func (d *Deployer) deployColor(ctx context.Context, c Color, version string, o DeployOptions) error {
	wctx, cancel := context.WithTimeout(ctx, o.timeout())
	defer cancel()
	d.log.Info("deploying", "color", c, "version", version, "release", d.cfg.Release(c), "timeout", o.timeout())
	if _, err := d.installOrUpgrade(wctx, d.cfg.Release(c), d.colorValues(c, version, o), o.timeout()); err != nil {
		return interrupted(ctx, "applying release "+d.cfg.Release(c), err)
	}
	return d.waitRollout(wctx, c, version, o.Progress)
}

// Undeploy uninstalls color c's release and forgets its standing. It
// refuses the active color (ErrActiveColor) and says so when c is not
// deployed.
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
	v, err := d.read(ctx)
	if err != nil {
		return err
	}
	if err := d.undeployRefusal(v, c); err != nil {
		return err
	}
	ok, err := d.uninstall(d.cfg.Release(c), time.Minute)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s is not deployed (no Helm release %s in %s): nothing to undeploy", c, d.cfg.Release(c), d.ns)
	}
	d.log.Info("undeployed", "color", c, "release", d.cfg.Release(c))
	was := ""
	if dep := v.deps[c]; dep != nil {
		was = d.versionOf(dep)
	}
	err = d.update(ctx, func(v *view) (stored, []Record, error) {
		if v.svc == nil {
			return stored{}, nil, nil
		}
		next := v.st.clone()
		recs := d.promotions(v, &next)
		delete(next.Standing, c)
		delete(next.Cold, c)
		return next, append(recs, Record{Time: v.now, Event: EventUndeployed, Color: c, Version: was, Reason: "undeploy", By: d.identity}), nil
	})
	if err != nil {
		return fmt.Errorf("%s is undeployed, but recording it failed: %w", c, err)
	}
	return nil
}

// undeployRefusal: the active color is not undeployed (Undeploy and PlanUndeploy).
func (d *Deployer) undeployRefusal(v *view, c Color) error {
	if v.svc != nil && v.st.Active == c {
		return fmt.Errorf("%w: %s serves traffic; switch to %s first (remlactl switch %s)", ErrActiveColor, c, other(c), other(c))
	}
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

package deployer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pmezard/go-difflib/difflib"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/releaseutil"
	"helm.sh/helm/v3/pkg/storage/driver"
	"sigs.k8s.io/yaml"
)

// Dry runs: what deploy, switch and undeploy would do, computed from the
// cluster as it is, changing nothing (no Lease, no Helm revision, no write
// of the active Service, no Event, no notification). Rollback's dry run is
// RollbackRequest.DryRun, in the one rollback decision.
//
// The manifests are Helm's own: an upgrade (or install) with DryRun and
// DryRunOption "server", so the chart renders as it would for real (lookup
// included), diffed object by object against the manifest of the release's
// last revision, in the manner of the helm-diff plugin. Scaling done outside
// Helm (the standby policy) is not in a release's manifest; the plan says
// so in its notes.

// Plan is what an operation would do.
type Plan struct {
	// Operation is the command planned ("deploy green 2.0.0").
	Operation string
	// Releases are the Helm releases it would install, upgrade or remove.
	Releases []ReleaseDiff
	// Gates are the checks it would run before traffic moves.
	Gates []string
	// Traffic says the move of traffic it would make ("" when none).
	Traffic string
	// Records are the history records it would write (each a Kubernetes
	// Event and a notification), as far as they can be known beforehand.
	Records []Record
	// Notes are what else the operator should know.
	Notes []string
}

// ReleaseDiff is the change of one Helm release.
type ReleaseDiff struct {
	Release string
	// Action is "install", "upgrade" or "uninstall".
	Action string
	// Revision is the live revision (0 when there is none).
	Revision int
	// Objects are the objects that change, as "Kind/name" with "+" (added),
	// "-" (removed) or "~" (changed) in front.
	Objects []string
	// Diff is the unified diff of the manifests, live to proposed.
	Diff string
}

// PlanDeploy is the dry run of Deploy(c, version, o).
func (d *Deployer) PlanDeploy(ctx context.Context, c Color, version string, o DeployOptions) (*Plan, error) {
	if _, err := ParseColor(string(c)); err != nil {
		return nil, err
	}
	if err := ValidateVersion(version); err != nil {
		return nil, err
	}
	v, err := d.read(ctx)
	if err != nil {
		return nil, err
	}
	if err := d.deployRefusal(v, c, o); err != nil {
		return nil, err
	}
	p := &Plan{Operation: fmt.Sprintf("deploy %s %s", c, version), Gates: d.plannedGates(c, version, o)}
	rd, err := d.diffRelease(ctx, d.cfg.Release(c), d.colorValues(c, version, o))
	if err != nil {
		return nil, err
	}
	p.Releases = []ReleaseDiff{rd}
	if cold, ok := v.st.Cold[c]; ok {
		p.Notes = append(p.Notes, fmt.Sprintf("%s is a cold standby (scaled to %d by the standby policy, outside Helm): the upgrade brings back its %d replicas", c, cold.Replicas, d.colorReplicas(o)))
	}
	reason := o.Reason
	if reason == "" {
		reason = "deploy " + version
	}
	p.Records = []Record{{Time: v.now, Event: EventDeployed, Color: c, Version: version, Reason: reason, By: d.identity}}
	active := v.st.Active
	switch {
	case v.svc == nil:
		p.Traffic = "none: not initialized (--no-switch)"
	case o.NoSwitch:
		p.Traffic = fmt.Sprintf("none (--no-switch): traffic stays on %s", active)
	case active == c:
		p.Traffic = fmt.Sprintf("none: %s keeps the traffic and its pods roll under it (--in-place); it bakes again for %s", c, d.bake(o.Bake))
	default:
		p.Traffic = fmt.Sprintf("from %s (%s) to %s (%s) once every replica of %s is ready; %s then bakes for %s",
			active, orDash(d.runs(v, active)), c, version, c, c, d.bake(o.Bake))
		if s := d.standingOf(v, active); s.Phase == Baking {
			p.Notes = append(p.Notes, fmt.Sprintf("%s is still baking: switching away marks it failed at %s", active, s.Version))
		}
		if sb := d.cfg.Standby.Replicas; sb != nil {
			p.Notes = append(p.Notes, fmt.Sprintf("standby policy: %s is scaled down to %d replicas %s after %s becomes stable", active, *sb, d.cfg.Standby.ScaleDownAfter.Duration, c))
		}
		p.Records = append(p.Records, Record{Time: v.now, Event: EventSwitched, Color: c, Version: version, Standing: Baking,
			From: active, To: c, Reason: reason, By: d.identity})
	}
	return p, nil
}

// plannedGates are the checks a deploy runs before it switches, in order.
// Readiness first, then the promotion gates of gate.go (PlannedGates).
func (d *Deployer) plannedGates(c Color, version string, o DeployOptions) []string {
	ready := fmt.Sprintf("readiness: every replica of %s runs %s and is available (the test of kubectl rollout status), within %s", c, version, o.timeout())
	return append([]string{ready}, d.PlannedGates(o)...)
}

// PlanSwitch is the dry run of Switch(to, o): the same checks and records.
func (d *Deployer) PlanSwitch(ctx context.Context, to Color, o SwitchOptions) (*Plan, error) {
	if _, err := ParseColor(string(to)); err != nil {
		return nil, err
	}
	v, err := d.read(ctx)
	if err != nil {
		return nil, err
	}
	next, recs, noop, err := d.planSwitch(v, to, o)
	if err != nil {
		return nil, err
	}
	p := &Plan{Operation: "switch " + string(to), Notes: []string{fmt.Sprintf("no Helm release changes: a switch is one update of Service %s (selector and annotations)", d.cfg.ActiveService)}}
	if noop {
		p.Traffic = fmt.Sprintf("none: %s is already active", to)
		return p, nil
	}
	p.Records = recs
	p.Traffic = fmt.Sprintf("from %s (%s) to %s (%s); %s is then %s", v.st.Active, orDash(d.runs(v, v.st.Active)), to, orDash(d.runs(v, to)),
		to, next.Standing[to].Phase)
	return p, nil
}

// PlanUndeploy is the dry run of Undeploy(c).
func (d *Deployer) PlanUndeploy(ctx context.Context, c Color) (*Plan, error) {
	if _, err := ParseColor(string(c)); err != nil {
		return nil, err
	}
	v, err := d.read(ctx)
	if err != nil {
		return nil, err
	}
	if err := d.undeployRefusal(v, c); err != nil {
		return nil, err
	}
	cfg, err := d.helm()
	if err != nil {
		return nil, err
	}
	name := d.cfg.Release(c)
	last, err := cfg.Releases.Last(name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil, fmt.Errorf("%s is not deployed (no Helm release %s in %s): nothing to undeploy", c, name, d.ns)
	}
	if err != nil {
		return nil, fmt.Errorf("read Helm release %s: %w", name, err)
	}
	rd := manifestDiff(name, last.Manifest, "")
	rd.Action, rd.Revision = "uninstall", last.Version
	p := &Plan{Operation: "undeploy " + string(c), Releases: []ReleaseDiff{rd}, Traffic: fmt.Sprintf("none: %s keeps the traffic", v.st.Active)}
	p.Records = []Record{{Time: v.now, Event: EventUndeployed, Color: c, Version: d.runs(v, c), Reason: "undeploy", By: d.identity}}
	if s := d.standingOf(v, c); s.Phase == Stable {
		p.Notes = append(p.Notes, fmt.Sprintf("%s is stable at %s: once it is gone, a rollback has no target until another color proves itself", c, s.Version))
	}
	return p, nil
}

// diffRelease renders the chart for release name with vals as an upgrade
// (or install) would, without applying it, and diffs it against the live
// revision.
func (d *Deployer) diffRelease(ctx context.Context, name string, vals map[string]any) (ReleaseDiff, error) {
	cfg, err := d.helm()
	if err != nil {
		return ReleaseDiff{}, err
	}
	ch, err := d.chart()
	if err != nil {
		return ReleaseDiff{}, err
	}
	exists, err := d.releaseExists(name)
	if err != nil {
		return ReleaseDiff{}, err
	}
	live, rev := "", 0
	var proposed string
	if exists {
		last, err := cfg.Releases.Last(name)
		if err != nil {
			return ReleaseDiff{}, fmt.Errorf("read Helm release %s: %w", name, err)
		}
		live, rev = last.Manifest, last.Version
		up := action.NewUpgrade(cfg)
		up.Namespace, up.DryRun, up.DryRunOption, up.Timeout = d.ns, true, "server", time.Minute
		rel, err := up.RunWithContext(ctx, name, ch, vals)
		if err != nil {
			return ReleaseDiff{}, fmt.Errorf("helm upgrade %s --dry-run: %w", name, err)
		}
		proposed = rel.Manifest
	} else {
		in := action.NewInstall(cfg)
		in.Namespace, in.ReleaseName, in.DryRun, in.DryRunOption = d.ns, name, true, "server"
		rel, err := in.RunWithContext(ctx, ch, vals)
		if err != nil {
			return ReleaseDiff{}, fmt.Errorf("helm install %s --dry-run: %w", name, err)
		}
		proposed = rel.Manifest
	}
	rd := manifestDiff(name, live, proposed)
	rd.Action, rd.Revision = map[bool]string{true: "upgrade", false: "install"}[exists], rev
	return rd, nil
}

// manifestDiff diffs two rendered manifests object by object (by kind and
// name, so Helm's order does not matter). Secrets show as changed or not,
// never their data.
func manifestDiff(release, live, proposed string) ReleaseDiff {
	from, to := objects(live), objects(proposed)
	keys := make([]string, 0, len(from)+len(to))
	for k := range from {
		keys = append(keys, k)
	}
	for k := range to {
		if _, ok := from[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	rd := ReleaseDiff{Release: release}
	var b strings.Builder
	for _, k := range keys {
		a, z := from[k], to[k]
		if a == z {
			continue
		}
		mark := "~"
		switch {
		case a == "":
			mark = "+"
		case z == "":
			mark = "-"
		}
		rd.Objects = append(rd.Objects, mark+" "+k)
		if strings.HasPrefix(k, "Secret/") {
			fmt.Fprintf(&b, "%s %s (a Secret: contents not shown)\n", mark, k)
			continue
		}
		diff, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
			A: difflib.SplitLines(a), B: difflib.SplitLines(z),
			FromFile: "live/" + k, ToFile: "proposed/" + k, Context: 3,
		})
		b.WriteString(diff)
	}
	rd.Diff = b.String()
	return rd
}

// objects splits a manifest into its objects by "Kind/name".
func objects(manifest string) map[string]string {
	out := map[string]string{}
	if strings.TrimSpace(manifest) == "" {
		return out
	}
	for _, doc := range releaseutil.SplitManifests(manifest) {
		var head struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil || head.Kind == "" {
			continue
		}
		body := strings.TrimSpace(doc) + "\n"
		// Helm's "# Source:" comment names the template, not the object.
		if i := strings.Index(body, "\n"); strings.HasPrefix(body, "# Source:") && i >= 0 {
			body = body[i+1:]
		}
		out[head.Kind+"/"+head.Metadata.Name] = body
	}
	return out
}

// runs is the version color c runs ("" when not deployed).
func (d *Deployer) runs(v *view, c Color) string {
	if dep := v.deps[c]; dep != nil {
		return d.versionOf(dep)
	}
	return ""
}

// colorReplicas are the replicas a deploy with o gives its color.
func (d *Deployer) colorReplicas(o DeployOptions) int {
	if o.Replicas > 0 {
		return o.Replicas
	}
	return d.cfg.Replicas
}

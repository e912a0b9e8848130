package deployer

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The standby policy keeps the color without traffic cheap once the active
// color has proven itself, as Argo Rollouts' scaleDownDelaySeconds does:
// standby: {scaleDownAfter, replicas} in remla.yaml. The default (no
// replicas) keeps today's behaviour: the standby keeps its full replicas,
// a warm standby, and a rollback is instant.
//
// When: the standby color is due to be scaled down scaleDownAfter after
// the active color became stable or took the traffic, or the standby was
// last deployed, whichever is latest
// (the deadline is derived from the standing and the history on the active
// Service, like a bake window's end; there is nothing else to keep in step).
// While the active color bakes, the standby stays warm: it is the rollback
// target.
//
// Who: Reconcile, which the alert actor runs every --reconcile-interval
// (15 s), `remlactl deploy --bake` when its color becomes stable, and
// `remlactl reconcile` (for a cron job where no actor runs). If nothing runs
// at the deadline, nothing happens then: the standby stays warm, costing its
// pods and keeping rollbacks instant, until the next of those runs and sees
// the deadline passed. Status shows the deadline, and "overdue" past it.
//
// How: one guarded update of the active Service records the color as cold
// (annotation remla.io/standby: the replicas it had, to restore), with a
// ScaledDown record and Event; then its Deployment is scaled. A rollback that
// read the Service before that update loses the race and decides again, so
// it sees the color cold. A rollback to a cold color scales it back to the
// replicas it had and waits until they are ready before it switches
// (Rollback); the alert actor does not wait, it answers 503 with Retry-After
// and Alertmanager's retry switches once the color is ready.

// Standby is the standby: block of remla.yaml.
type Standby struct {
	// ScaleDownAfter is the delay from the active color becoming stable (or
	// taking the traffic, if later) to scaling the standby down.
	ScaleDownAfter metav1.Duration `json:"scaleDownAfter,omitzero"`
	// Replicas the standby keeps; unset: all of them (no scale-down).
	Replicas *int32 `json:"replicas,omitempty"`
}

func (s Standby) validate() []string {
	var bad []string
	if s.ScaleDownAfter.Duration < 0 {
		bad = append(bad, "standby.scaleDownAfter must not be negative")
	}
	if s.Replicas != nil && *s.Replicas < 0 {
		bad = append(bad, "standby.replicas must be 0 or more")
	}
	return bad
}

// Cold is a standby color the policy scaled down: to Replicas, from
// Restore, which a rollback to it brings back. Warming is when a rollback
// started scaling it up (the policy leaves it alone from then on).
type Cold struct {
	Replicas int32     `json:"replicas"`
	Restore  int32     `json:"restore"`
	Since    time.Time `json:"since"`
	Warming  time.Time `json:"warming,omitzero"`
}

// cold says whether dep still lacks the replicas it had: fewer asked for
// (right after the scale-down its status may still count the old pods
// ready) or fewer ready.
func (c Cold) cold(dep *appsv1.Deployment) bool {
	return replicas(dep.Spec.Replicas) < c.Restore || dep.Status.ReadyReplicas < c.Restore
}

// StandbyStatus is how the color without traffic is kept, as status shows it.
type StandbyStatus struct {
	// Mode is "warm" (all its replicas: a rollback is instant), "cold"
	// (scaled down: a rollback scales it up first) or "warming" (a rollback
	// is scaling it up).
	Mode string `json:"mode"`
	// ScaleDownAt is when a warm standby is due to be scaled down to
	// Replicas by the policy (zero: it is not due).
	ScaleDownAt time.Time `json:"scaleDownAt,omitzero"`
	// Replicas are what the standby keeps (warm: all it has; cold: what the
	// policy left), Restore what a rollback to a cold one brings back.
	Replicas int32 `json:"replicas"`
	Restore  int32 `json:"restore,omitempty"`
}

// Describe is the standby as status shows it: "warm", "warm, scale-down to 0
// in 4m10s", "warm, scale-down to 0 overdue by 30s", "cold, 0 of 2 ready".
func (s StandbyStatus) Describe(at time.Time, cs ColorStatus) string {
	switch {
	case s.Mode != "warm":
		return fmt.Sprintf("%s, %d of %d ready", s.Mode, cs.Ready, s.Restore)
	case s.ScaleDownAt.IsZero():
		return "warm"
	case at.Before(s.ScaleDownAt):
		return fmt.Sprintf("warm, scale-down to %d in %s", s.Replicas, s.ScaleDownAt.Sub(at).Round(time.Second))
	}
	return fmt.Sprintf("warm, scale-down to %d overdue by %s", s.Replicas, at.Sub(s.ScaleDownAt).Round(time.Second))
}

// standbyOf is the standby status of color c, nil for the active color or
// one not deployed.
func (d *Deployer) standbyOf(v *view, c Color) *StandbyStatus {
	dep := v.deps[c]
	if dep == nil || c == v.st.Active || v.svc == nil {
		return nil
	}
	s := &StandbyStatus{Mode: "warm", Replicas: replicas(dep.Spec.Replicas)}
	if cold, ok := v.st.Cold[c]; ok {
		s.Replicas, s.Restore = cold.Replicas, cold.Restore
		if cold.cold(dep) {
			s.Mode = "cold"
			if !cold.Warming.IsZero() {
				s.Mode = "warming"
			}
		}
		return s
	}
	if b, at, ok := d.scaleDownDue(v); ok && b == c {
		s.ScaleDownAt, s.Replicas = at, *d.cfg.Standby.Replicas
	}
	return s
}

// scaleDownDue says which color the policy will scale down and when: the
// standby, once the active color is stable, if it runs more replicas than
// the policy keeps and is not cold already.
func (d *Deployer) scaleDownDue(v *view) (Color, time.Time, bool) {
	p := d.cfg.Standby.Replicas
	a := v.st.Active
	if p == nil || a == "" {
		return "", time.Time{}, false
	}
	b := other(a)
	dep := v.deps[b]
	if _, cold := v.st.Cold[b]; cold || dep == nil || replicas(dep.Spec.Replicas) <= *p {
		return "", time.Time{}, false
	}
	s := d.standingOf(v, a)
	if s.Phase != Stable {
		return "", time.Time{}, false
	}
	since := s.Since
	for _, t := range []time.Time{activeSince(v.st.History, a), lastDeployed(v.st.History, b)} {
		if t.After(since) {
			since = t
		}
	}
	return b, since.Add(d.cfg.Standby.ScaleDownAfter.Duration), true
}

// activeSince is when traffic last moved to c, by the history.
func activeSince(h []Record, c Color) time.Time {
	for _, r := range h {
		if r.To == c && (r.Kind() == EventSwitched || r.Kind() == EventRolledBack) {
			return r.Time
		}
	}
	return time.Time{}
}

// lastDeployed is when color c was last deployed, by the history: a
// standby deployed again (say with --no-switch, to try it on its preview
// Service) gets a full scaleDownAfter before it is scaled down.
func lastDeployed(h []Record, c Color) time.Time {
	for _, r := range h {
		if r.Color == c && r.Kind() == EventDeployed {
			return r.Time
		}
	}
	return time.Time{}
}

// reconcileStandby applies the policy: it scales the standby down when its
// deadline has passed, and repeats a scale-down whose Deployment update did
// not happen (the process stopped between the record and the scale). It
// returns the records written.
func (d *Deployer) reconcileStandby(ctx context.Context) ([]Record, error) {
	var out []Record
	var scale *appsv1.Deployment
	var to int32
	err := d.update(ctx, func(v *view) (stored, []Record, error) {
		out, scale = nil, nil
		if v.svc == nil {
			return stored{}, nil, nil
		}
		b := other(v.st.Active)
		if cold, ok := v.st.Cold[b]; ok {
			if dep := v.deps[b]; dep != nil && cold.Warming.IsZero() && replicas(dep.Spec.Replicas) > cold.Replicas {
				scale, to = dep, cold.Replicas
			}
			return stored{}, nil, nil
		}
		b, at, ok := d.scaleDownDue(v)
		if !ok || v.now.Before(at) {
			return stored{}, nil, nil
		}
		dep := v.deps[b]
		next := v.st.clone()
		recs := d.promotions(v, &next)
		to = *d.cfg.Standby.Replicas
		next.Cold[b] = Cold{Replicas: to, Restore: replicas(dep.Spec.Replicas), Since: v.now}
		a := v.st.Active
		rec := Record{Time: v.now, Event: EventScaledDown, Color: b, Version: d.versionOf(dep), Standing: d.standingOf(v, b).Phase,
			Reason: fmt.Sprintf("standby policy: %s is stable and active since %s; %s scaled from %d to %d replicas after %s (a rollback to it scales it up first)",
				a, at.Add(-d.cfg.Standby.ScaleDownAfter.Duration).Format(time.RFC3339), b, replicas(dep.Spec.Replicas), to, d.cfg.Standby.ScaleDownAfter.Duration),
			By: d.identity}
		out, scale = append(recs, rec), dep
		return next, out, nil
	})
	if err != nil || scale == nil {
		return out, err
	}
	if err := d.scaleTo(ctx, scale, to); err != nil {
		return out, fmt.Errorf("%s is recorded cold, but scaling its Deployment failed (the next reconcile retries): %w", scale.Name, err)
	}
	d.log.Info("standby scaled down", "deployment", scale.Name, "replicas", to)
	return out, nil
}

// scaleTo sets the replicas of dep as read (its resourceVersion guards the
// update: if anything changed it since, nothing is written and the caller,
// or the next reconcile, decides again).
func (d *Deployer) scaleTo(ctx context.Context, dep *appsv1.Deployment, n int32) error {
	dep = dep.DeepCopy()
	dep.Spec.Replicas = &n
	_, err := d.client.AppsV1().Deployments(d.ns).Update(ctx, dep, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) {
		return fmt.Errorf("%w: Deployment %s changed meanwhile", ErrConflict, dep.Name)
	}
	if err != nil {
		return fmt.Errorf("scale Deployment %s/%s to %d: %w", d.ns, dep.Name, n, err)
	}
	return nil
}

// errCold: the rollback target is a cold standby; Rollback scales it up.
var errCold = errors.New("the rollback target is a cold standby")

// warmUp scales cold color c back to restore replicas (unless a rollback
// did already) and, unless noWait, waits until that many are ready.
func (d *Deployer) warmUp(ctx context.Context, c Color, restore int32, noWait bool) error {
	name := d.cfg.Release(c)
	deps := d.client.AppsV1().Deployments(d.ns)
	for attempt := 0; ; attempt++ {
		dep, err := deps.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("read Deployment %s to scale it up: %w", name, err)
		}
		if replicas(dep.Spec.Replicas) >= restore {
			break
		}
		err = d.scaleTo(ctx, dep, restore)
		if err == nil {
			d.log.Info("cold standby scaling up for a rollback", "color", c, "replicas", restore)
			break
		}
		if !errors.Is(err, ErrConflict) || attempt >= conflictRetries {
			return err
		}
	}
	if noWait {
		return nil
	}
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		dep, err := deps.Get(ctx, name, metav1.GetOptions{})
		if err == nil && dep.Status.ReadyReplicas >= restore && replicas(dep.Spec.Replicas) >= restore {
			return nil
		}
		select {
		case <-ctx.Done():
			ready := int32(0)
			if dep != nil {
				ready = dep.Status.ReadyReplicas
			}
			return fmt.Errorf("%w: %s was scaled up from its cold standby but has %d of %d replicas ready; traffic did not move: %w",
				ErrNotReady, c, ready, restore, context.Cause(ctx))
		case <-t.C:
		}
	}
}

// checkWarm refuses a deliberate switch to a cold standby: it would put
// the traffic on fewer pods than it had. A rollback scales it up first.
func (d *Deployer) checkWarm(v *view, c Color) error {
	cold, ok := v.st.Cold[c]
	if dep := v.deps[c]; !ok || dep == nil || !cold.cold(dep) {
		return nil
	}
	return fmt.Errorf("%w: %s is a cold standby (%d of %d replicas ready): remlactl rollback --to %s scales it up and waits before switching, or deploy it again (or --force)",
		ErrNotReady, c, v.deps[c].Status.ReadyReplicas, cold.Restore, c)
}

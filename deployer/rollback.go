package deployer

import (
	"context"
	"errors"
	"fmt"
)

// RollbackRequest says why traffic should return to the stable color and
// on whose behalf. The operator's `remlactl rollback` and the alert actor
// both send one to Deployer.Rollback, the one place the decision is made.
type RollbackRequest struct {
	// Reason is recorded in the history (the alert's name for the actor).
	Reason string
	// By is who asks: empty means the Deployer's identity; the actor
	// passes "alert:<alertname>".
	By string
	// Incident identifies the alert occurrence (fingerprint@startsAt): an
	// incident moves traffic at most once, and a refusal of it is recorded once.
	Incident string
	// Color is the color the alert judges; when set and not active, nothing
	// happens (the alert is about a color without traffic). Empty: the
	// active color.
	Color Color
	// To overrides the target: roll back to this color even if it is not
	// stable (remlactl rollback --to). The history records the override.
	To Color
	// DryRun decides and returns the result without writing anything.
	DryRun bool
	// NoWait: when the target is a cold standby (standby.go), start scaling
	// it up and return ErrNotReady at once rather than wait until it is
	// ready. The alert actor sets it: it answers 503, and Alertmanager's
	// retry switches once the color is ready.
	NoWait bool
}

// RollbackOutcome says what a rollback did.
type RollbackOutcome string

// Outcomes of Rollback.
const (
	OutcomeRolledBack RollbackOutcome = "rolled_back" // traffic moved to the target
	OutcomeDryRun     RollbackOutcome = "dry_run"     // it would have moved
	OutcomeNotActive  RollbackOutcome = "not_active"  // the alert's color has no traffic: nothing to do
	OutcomeDuplicate  RollbackOutcome = "duplicate"   // the incident moved traffic before (ErrIncidentSeen)
	OutcomeRefused    RollbackOutcome = "refused"     // no stable target, or it is not ready (ErrNoStable, ErrNotReady)
	OutcomeScalingUp  RollbackOutcome = "scaling_up"  // the target is a cold standby, scaling up (ErrNotReady with NoWait)
)

// RollbackResult is what Rollback decided and recorded.
type RollbackResult struct {
	Outcome RollbackOutcome
	// From is the active color when decided; To the target (also when refused).
	From, To               Color
	FromVersion, ToVersion string
	// Message says in one line what happened and why.
	Message string
	// Records are the history records written (and recorded as Events).
	Records []Record
	// ScaleUp is the replicas a cold target was (or would be) scaled up to
	// before traffic moved; 0 when it was warm.
	ScaleUp int32
}

// Rollback moves traffic from the active color to the stable one. It reads
// the active Service once and each color's Deployment, and decides:
//   - the incident moved traffic before: OutcomeDuplicate, ErrIncidentSeen;
//   - the alert judges a color that is not active: OutcomeNotActive;
//   - the other color is not stable at what it runs now (never proven,
//     failed, or redeployed since it proved itself), unless req.To
//     overrides: OutcomeRefused, ErrNoStable;
//   - the target has no ready replica: OutcomeRefused, ErrNotReady
//     (retryable: the actor answers 503);
//   - the target is a cold standby (scaled down by the standby policy): it
//     is scaled back to the replicas it had (a ScaledUp record), and Rollback
//     waits until they are ready, then decides again; with req.NoWait it
//     returns OutcomeScalingUp and ErrNotReady at once instead;
//   - otherwise one resourceVersion-guarded update moves the selector and
//     marks the color left failed at its version.
//
// A refusal is recorded too (once per incident and reason), and a color
// still baking when its rollback is asked for is marked failed even if
// traffic cannot move: it did not prove itself. When another writer wins
// the race, Rollback reads and decides again by itself.
func (d *Deployer) Rollback(ctx context.Context, req RollbackRequest) (*RollbackResult, error) {
	if req.To != "" {
		if _, err := ParseColor(string(req.To)); err != nil {
			return nil, err
		}
	}
	if req.By == "" {
		req.By = d.identity
	}
	if req.Reason == "" {
		req.Reason = "rollback"
	}
	for warmed := false; ; warmed = true {
		var res *RollbackResult
		var refusal error
		err := d.update(ctx, func(v *view) (stored, []Record, error) {
			var next stored
			var recs []Record
			res, next, recs, refusal = d.decideRollback(v, req)
			if res == nil {
				return stored{}, nil, refusal
			}
			if req.DryRun {
				recs = nil
			}
			res.Records = recs
			return next, recs, nil
		})
		if err != nil {
			return nil, err
		}
		if !errors.Is(refusal, errCold) {
			return res, refusal
		}
		switch {
		case req.DryRun:
			return res, nil
		case warmed:
			// Scaled up and ready, yet cold on the next read: scaled down
			// again meanwhile. Say so rather than loop.
			return res, fmt.Errorf("%w: %s was scaled up for this rollback but is cold again (scaled down meanwhile?); traffic stays on %s", ErrNotReady, res.To, res.From)
		}
		if err := d.warmUp(ctx, res.To, res.ScaleUp, req.NoWait); err != nil {
			return res, err
		}
		if req.NoWait {
			return res, fmt.Errorf("%w: %s", ErrNotReady, res.Message)
		}
	}
}

// decideRollback is the rollback decision on one view: the result, the state
// to write with its records (none: write nothing), and the refusal, if any.
// A nil result comes with the error that kept it from deciding.
func (d *Deployer) decideRollback(v *view, req RollbackRequest) (*RollbackResult, stored, []Record, error) {
	if err := d.initialized(v); err != nil {
		return nil, stored{}, nil, err
	}
	from := v.st.Active
	res := &RollbackResult{From: from}
	if dep := v.deps[from]; dep != nil {
		res.FromVersion = d.versionOf(dep)
	}
	if v.st.seen(req.Incident) {
		res.Outcome = OutcomeDuplicate
		res.Message = fmt.Sprintf("incident %s moved traffic before; nothing changed", req.Incident)
		return res, stored{}, nil, fmt.Errorf("%w: %s", ErrIncidentSeen, res.Message)
	}
	if req.Color != "" && req.Color != from {
		res.Outcome = OutcomeNotActive
		res.Message = fmt.Sprintf("%s is not active (%s is): nothing to roll back", req.Color, from)
		return res, stored{}, nil, nil
	}
	next := v.st.clone()
	recs := d.promotions(v, &next)
	to, plan := d.rollbackTarget(v, req.To)
	res.To, res.ToVersion = to, plan.Version
	if to == from {
		res.Outcome = OutcomeNotActive
		res.Message = fmt.Sprintf("%s is already active: nothing to roll back", to)
		return res, next, recs, nil
	}
	leaving := d.standingOf(v, from)
	if plan.err != nil {
		res.Outcome = OutcomeRefused
		res.Message = plan.err.Error()
		if leaving.Phase == Baking {
			next.Standing[from] = d.failed(v, from, "a rollback was asked for while it baked ("+req.Reason+"), and refused", req.By)
			recs = append(recs, d.markedFailed(v, from, next.Standing[from]))
		}
		reason := req.Reason + ": " + plan.err.Error()
		if req.Incident == "" || !v.st.refused(req.Incident, reason) {
			recs = append(recs, Record{Time: v.now, Event: EventRollbackRefused, Color: to, Version: plan.Version,
				From: from, To: to, Reason: reason, By: req.By, Incident: req.Incident})
		}
		return res, next, recs, plan.err
	}
	if c := plan.cold; c != nil {
		s := d.standingOf(v, to)
		res.Outcome, res.ScaleUp = OutcomeScalingUp, c.Restore
		if req.DryRun {
			res.Outcome = OutcomeDryRun
		}
		res.Message = fmt.Sprintf("%s (%s at %s) is a cold standby (%d of %d replicas ready): scaling it up to %d, then traffic moves from %s (%s)",
			to, s.Phase, orDash(plan.Version), v.deps[to].Status.ReadyReplicas, c.Restore, c.Restore, from, orDash(res.FromVersion))
		if c.Warming.IsZero() {
			w := *c
			w.Warming = v.now
			next.Cold[to] = w
			recs = append(recs, Record{Time: v.now, Event: EventScaledUp, Color: to, Version: plan.Version, Standing: s.Phase,
				Reason: fmt.Sprintf("cold standby scaled from %d to %d replicas for a rollback: %s", replicas(v.deps[to].Spec.Replicas), c.Restore, req.Reason),
				By:     req.By, Incident: req.Incident})
		}
		if leaving.Phase == Baking {
			next.Standing[from] = d.failed(v, from, "a rollback was asked for while it baked ("+req.Reason+")", req.By)
			recs = append(recs, d.markedFailed(v, from, next.Standing[from]))
		}
		return res, next, recs, errCold
	}
	res.Outcome = OutcomeRolledBack
	if req.DryRun {
		res.Outcome = OutcomeDryRun
	}
	delete(next.Cold, to)
	target := d.standingOf(v, to)
	reason := req.Reason
	override := target.Phase != Stable
	if override {
		reason = fmt.Sprintf("%s (override: %s was %s at %s: %s)", req.Reason, to, target.Phase, plan.Version, target.Reason)
		next.Standing[to] = d.baking(v, to, d.cfg.BakeWindow.Duration, "rolled back to by override: "+req.Reason, req.By)
		target = next.Standing[to]
	} else {
		next.Standing[to] = target
	}
	next.Active = to
	recs = append(recs, Record{Time: v.now, Event: EventRolledBack, Color: to, Version: plan.Version, Standing: target.Phase,
		From: from, To: to, Reason: reason, By: req.By, Incident: req.Incident, Override: override})
	if leaving.Phase != Failed && v.deps[from] != nil {
		next.Standing[from] = d.failed(v, from, "rolled back: "+req.Reason, req.By)
		recs = append(recs, d.markedFailed(v, from, next.Standing[from]))
	}
	res.Message = fmt.Sprintf("traffic moved from %s (%s, now failed) to %s (%s at %s)", from, orDash(res.FromVersion), to, target.Phase, orDash(plan.Version))
	return res, next, recs, nil
}

func (d *Deployer) markedFailed(v *view, c Color, s Standing) Record {
	return Record{Time: v.now, Event: EventMarkedFailed, Color: c, Version: s.Version, Standing: Failed, Reason: s.Reason, By: s.By}
}

// target is a rollback target, or why there is none; cold is set when it
// is a cold standby a rollback must scale up first.
type target struct {
	Version string
	err     error
	cold    *Cold
}

// rollbackTarget picks where a rollback goes from the active color: the
// other color (or override), if it is stable at what it runs now and has a
// ready replica. With an override only readiness is checked. Status shows
// its answer, so the operator sees what a rollback would do.
func (d *Deployer) rollbackTarget(v *view, override Color) (Color, target) {
	from := v.st.Active
	to := other(from)
	if override != "" {
		to = override
	}
	dep := v.deps[to]
	if dep == nil {
		return to, target{err: fmt.Errorf("%w: %s is not deployed; traffic stays on %s", ErrNoStable, to, from)}
	}
	t := target{Version: d.versionOf(dep)}
	if to == from {
		return to, t
	}
	s := d.standingOf(v, to)
	if override == "" && s.Phase != Stable {
		stays := fmt.Sprintf("traffic stays on %s; to move it anyway: remlactl rollback --to %s, or remlactl switch %s", from, to, to)
		if was, ok := v.st.Standing[to]; ok && was.Phase == Stable && was.Template != s.Template {
			t.err = fmt.Errorf("%w: %s was stable at %s but now runs %s (pod template %s, not %s), which has not proven itself; %s",
				ErrNoStable, to, was.Version, s.Version, s.Template, was.Template, stays)
		} else {
			t.err = fmt.Errorf("%w: %s is %s at %s (%s); %s", ErrNoStable, to, s.Phase, orDash(s.Version), s.Reason, stays)
		}
		return to, t
	}
	if cold, ok := v.st.Cold[to]; ok && cold.cold(dep) {
		t.cold = &cold
		return to, t
	}
	if dep.Status.ReadyReplicas == 0 {
		t.err = fmt.Errorf("%w: %s (%s at %s) has no ready replica (0/%d); traffic stays on %s until it has one",
			ErrNotReady, to, s.Phase, t.Version, replicas(dep.Spec.Replicas), from)
	}
	return to, t
}

// Refusal reports whether err is a rollback refusal (no stable target, or
// the target not ready) rather than a failure to talk to the cluster.
func Refusal(err error) bool { return errors.Is(err, ErrNoStable) || errors.Is(err, ErrNotReady) }

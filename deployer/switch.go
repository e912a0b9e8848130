package deployer

import (
	"context"
	"fmt"
	"time"
)

// Switch moves the active Service to color `to` for a deliberate move (the
// operator's `remlactl switch`); a rollback after an incident is Rollback.
// It is one update carrying the resourceVersion it read, so of two
// concurrent switches exactly one wins and the other gets ErrConflict. It
// refuses a color that is absent or has no ready replica (ErrNotReady)
// unless o.Force. The standings move with it:
//   - the color left is marked failed if it was still baking;
//   - the target keeps a stable mark at what it runs, else it bakes for
//     o.Bake (default: the config's bakeWindow).
//
// Switching to the active color is a no-op returning (nil, nil).
func (d *Deployer) Switch(ctx context.Context, to Color, o SwitchOptions) (*Record, error) {
	if _, err := ParseColor(string(to)); err != nil {
		return nil, err
	}
	v, err := d.read(ctx)
	if err != nil {
		return nil, err
	}
	next, recs, noop, err := d.planSwitch(v, to, o)
	if err != nil || noop {
		return nil, err
	}
	if err := d.commit(ctx, v, next, recs); err != nil {
		return nil, err
	}
	for _, r := range recs {
		if r.Kind() == EventSwitched {
			return &r, nil
		}
	}
	return nil, nil
}

// planSwitch makes Switch's checks on v (initialised; unless o.Force, the
// target warm and ready) and returns the state and records of moving traffic
// to `to`, or noop when `to` is already active. Switch commits what it
// returns; PlanSwitch, the dry run, prints it.
func (d *Deployer) planSwitch(v *view, to Color, o SwitchOptions) (next stored, recs []Record, noop bool, err error) {
	if err := d.initialized(v); err != nil {
		return next, nil, false, err
	}
	if v.st.Active == to {
		return next, nil, true, nil
	}
	if !o.Force {
		if err := d.checkWarm(v, to); err != nil {
			return next, nil, false, err
		}
		if err := d.checkReady(v, to); err != nil {
			return next, nil, false, err
		}
	}
	if o.By == "" {
		o.By = d.identity
	}
	next = v.st.clone()
	recs = d.promotions(v, &next)
	recs = append(recs, d.switchTo(v, &next, to, o)...)
	return next, recs, false, nil
}

// switchTo moves next's traffic to `to` and returns the records: a color
// left while baking is marked failed; the target keeps its stable mark or
// starts baking. It is shared by Switch, Deploy and Init.
func (d *Deployer) switchTo(v *view, next *stored, to Color, o SwitchOptions) []Record {
	var recs []Record
	from := v.st.Active
	if from != "" && from != to {
		if left := d.standingOf(v, from); left.Phase == Baking {
			next.Standing[from] = d.failed(v, from, "switched away during its bake window: "+o.Reason, o.By)
			recs = append(recs, d.markedFailed(v, from, next.Standing[from]))
		}
	}
	next.Active = to
	delete(next.Cold, to)
	rec := Record{Time: v.now, Event: EventSwitched, Color: to, From: from, To: to, Reason: o.Reason, By: o.By}
	if dep := v.deps[to]; dep != nil {
		rec.Version = d.versionOf(dep)
		// Read with the new active color: a stable target stays stable.
		cur := d.standingOf(&view{st: *next, deps: v.deps, now: v.now, tpl: v.tpl}, to)
		if cur.Phase != Stable {
			bake := o.Bake
			if bake <= 0 {
				bake = d.cfg.BakeWindow.Duration
			}
			cur = d.baking(v, to, bake, fmt.Sprintf("active since %s (%s); stable after %s without a rollback", v.now.Format(time.RFC3339), o.Reason, bake), o.By)
		}
		next.Standing[to] = cur
		rec.Standing = cur.Phase
	}
	return append(recs, rec)
}

// checkReady refuses a color with no Deployment or no ready replica.
func (d *Deployer) checkReady(v *view, c Color) error {
	dep := v.deps[c]
	if dep == nil {
		return fmt.Errorf("%w: %s is not deployed: run remlactl deploy %s <version> first (or --force)", ErrNotReady, c, c)
	}
	if dep.Status.ReadyReplicas == 0 {
		return fmt.Errorf("%w: %s has no ready replica (0/%d): check remlactl status (or --force)", ErrNotReady, c, replicas(dep.Spec.Replicas))
	}
	return nil
}

func replicas(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

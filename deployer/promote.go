package deployer

import (
	"context"
	"fmt"
	"time"
)

// Who notices that a bake window passed: nobody has to be running at that
// moment. Every reader (Status, the decisions) derives "stable since Until"
// from the stored "baking until Until" (standingOf); every writer persists
// such promotions first, with a Promoted record and Event (promotions). The
// writers that exist for it are Reconcile, which the alert actor runs
// periodically, and Bake, which `remlactl deploy --bake` waits in.

// Reconcile persists the promotions that are due: each color still stored
// as baking whose bake window passed while it stayed active becomes stable,
// with a Promoted record and Event. Then it applies the standby policy
// (standby.go): a standby whose scale-down is due is scaled down, with a
// ScaledDown record. It returns the records written (none when nothing was
// due).
func (d *Deployer) Reconcile(ctx context.Context) ([]Record, error) {
	var out []Record
	err := d.update(ctx, func(v *view) (stored, []Record, error) {
		if v.svc == nil {
			return stored{}, nil, nil
		}
		next := v.st.clone()
		out = d.promotions(v, &next)
		return next, out, nil
	})
	if err != nil {
		return out, err
	}
	scaled, err := d.reconcileStandby(ctx)
	return append(out, scaled...), err
}

// BakeError says why a color did not become stable while Bake waited.
type BakeError struct {
	Color    Color
	Standing Standing
	Active   Color
}

func (e *BakeError) Error() string {
	return fmt.Sprintf("%s did not become stable: it is %s at %s (%s); traffic is on %s", e.Color, e.Standing.Phase,
		orDash(e.Standing.Version), e.Standing.Reason, e.Active)
}

// bakePoll is how often Bake looks at the state; it also wakes at the end
// of the window.
const bakePoll = 2 * time.Second

// Bake waits until color c's bake window has passed and persists its
// promotion, returning its stable standing. It returns a *BakeError as soon
// as c is no longer baking otherwise (switched away, rolled back, marked
// failed, redeployed), and the context's error when it ends first (the color
// stays baking; the next reader sees it promoted when the window passes).
func (d *Deployer) Bake(ctx context.Context, c Color, progress func(Standing)) (Standing, error) {
	for {
		st, err := d.Status(ctx)
		if err != nil {
			return Standing{}, err
		}
		s := st.Colors[c].Standing
		if progress != nil {
			progress(s)
		}
		switch s.Phase {
		case Stable:
			if _, err := d.Reconcile(ctx); err != nil {
				return s, fmt.Errorf("%s is stable, but recording its promotion failed: %w (the next writer records it)", c, err)
			}
			return s, nil
		case Baking:
		default:
			return s, &BakeError{Color: c, Standing: s, Active: st.Active}
		}
		wait := min(bakePoll, time.Until(s.Until)+50*time.Millisecond)
		select {
		case <-ctx.Done():
			return s, fmt.Errorf("stopped waiting for the bake window of %s (%s): %w", c, s.Describe(time.Now()), context.Cause(ctx))
		case <-time.After(max(wait, 0)):
		}
	}
}

// MarkFailed marks color c failed at version (when it still runs that
// version), for a gate or a watcher that judged it: the reason and who are
// recorded, with an Event. A color that runs another version is left alone
// and MarkFailed says so.
func (d *Deployer) MarkFailed(ctx context.Context, c Color, version, reason, by string) (*Record, error) {
	if _, err := ParseColor(string(c)); err != nil {
		return nil, err
	}
	if by == "" {
		by = d.identity
	}
	var rec *Record
	err := d.update(ctx, func(v *view) (stored, []Record, error) {
		if err := d.initialized(v); err != nil {
			return stored{}, nil, err
		}
		runs := "nothing"
		if dep := v.deps[c]; dep != nil {
			runs = d.versionOf(dep)
		}
		if runs != version {
			return stored{}, nil, fmt.Errorf("%s runs %s, not %s: not marked failed", c, runs, version)
		}
		next := v.st.clone()
		recs := d.promotions(v, &next)
		next.Standing[c] = d.failed(v, c, reason, by)
		r := d.markedFailed(v, c, next.Standing[c])
		rec = &r
		return next, append(recs, r), nil
	})
	return rec, err
}

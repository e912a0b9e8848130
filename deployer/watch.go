package deployer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/remla/tagger/deployer/analysis"
)

// WatchOptions say how a baking color is watched.
type WatchOptions struct {
	// Config replaces remla.yaml's analysis: block when set.
	Config *analysis.Config
	// Report, when set, is told each round's results.
	Report func(analysis.Result)
	// Progress, when set, is told the standing as Bake sees it.
	Progress func(Standing)
}

// Watch waits out color c's bake window (Bake) while it runs the
// post-promotion metric checks again and again. When a check fails (or
// cannot measure), it rolls back through Rollback, the one rollback
// decision, without waiting for Alertmanager, and returns a *GateError with
// what the rollback did. A check with no data is logged and does not stop
// the color from becoming stable. It returns c's stable standing once the
// window passes, as Bake does; with no post-promotion check it is Bake.
func (d *Deployer) Watch(ctx context.Context, c Color, o WatchOptions) (Standing, error) {
	cfg := o.Config
	if cfg == nil {
		cfg = d.cfg.Analysis
	}
	if cfg == nil || len(cfg.PostPromotion) == 0 {
		return d.Bake(ctx, c, o.Progress)
	}
	st, err := d.Status(ctx)
	if err != nil {
		return Standing{}, err
	}
	version := st.Colors[c].Version
	if s := st.Colors[c].Standing; s.Phase != Baking {
		return s, &BakeError{Color: c, Standing: s, Active: st.Active}
	}
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	failed := make(chan []analysis.Result, 1)
	go func() {
		p := &analysis.Prometheus{Address: cfg.Prometheus}
		for wctx.Err() == nil {
			var round []analysis.Result
			bad := false
			for _, m := range cfg.PostPromotion {
				r := analysis.Measure(wctx, p, m, d.args(c, version))
				if wctx.Err() != nil {
					return // the window ended (or the caller stopped) mid-measurement
				}
				round = append(round, r)
				if o.Report != nil {
					o.Report(r)
				}
				d.log.Info("post-promotion analysis", "check", r.Name, "phase", r.Phase, "color", c, "version", version, "message", r.Message)
				bad = bad || r.Phase == analysis.Failed || r.Phase == analysis.Error
			}
			if bad {
				failed <- round
				return
			}
			select { // a round of count-1 checks would otherwise ask Prometheus in a loop
			case <-wctx.Done():
			case <-time.After(roundPause(cfg.PostPromotion)):
			}
		}
	}()
	type baked struct {
		s   Standing
		err error
	}
	done := make(chan baked, 1)
	go func() {
		s, err := d.Bake(wctx, c, o.Progress)
		done <- baked{s, err}
	}()
	select {
	case b := <-done:
		return b.s, b.err
	case round := <-failed:
		stop()
		<-done
		return d.rollbackOnFailure(ctx, c, version, round)
	}
}

// rollbackOnFailure records the failed verdict and asks Rollback to move
// traffic off c.
func (d *Deployer) rollbackOnFailure(ctx context.Context, c Color, version string, round []analysis.Result) (Standing, error) {
	gerr := &GateError{Color: c, Version: version, Stage: "post-promotion", Results: round}
	var why []string
	for _, r := range round {
		if r.Phase != analysis.Successful {
			why = append(why, r.Name)
		}
	}
	err := d.update(ctx, func(v *view) (stored, []Record, error) {
		if err := d.initialized(v); err != nil {
			return stored{}, nil, err
		}
		next := v.st.clone()
		return next, append(d.promotions(v, &next), d.verdictRecord(v, c, version, "post-promotion", round)), nil
	})
	if err != nil {
		d.log.Warn("could not record the failed post-promotion analysis", "color", c, "err", err)
	}
	res, err := d.Rollback(ctx, RollbackRequest{Reason: "post-promotion analysis failed: " + strings.Join(why, ", "), Color: c})
	gerr.RolledBack = res
	if err != nil && res == nil {
		return Standing{}, fmt.Errorf("%v; and the rollback failed: %w", gerr, err)
	}
	if err != nil {
		return Standing{}, errors.Join(gerr, err)
	}
	return Standing{Phase: Failed, Version: version}, gerr
}

// roundPause is the shortest interval of the checks (30s by default).
func roundPause(ms []analysis.MetricConfig) time.Duration {
	p := 30 * time.Second
	for _, m := range ms {
		if m.Interval.Duration > 0 {
			p = min(p, m.Interval.Duration)
		}
	}
	return p
}

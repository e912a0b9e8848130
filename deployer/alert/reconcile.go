package alert

import (
	"context"
	"time"
)

// reconcile runs Deployer.Reconcile for every guarded namespace each
// ReconcileInterval until ctx ends: the actor is the long-running process
// that records a color as stable (with its Promoted Event) once its bake
// window has passed, even when no operator command runs then. Readers see
// the promotion before it is recorded, so a missed pass delays only the
// record, never the standing.
func (s *Server) reconcile(ctx context.Context) {
	t := time.NewTicker(s.opts.ReconcileInterval)
	defer t.Stop()
	for {
		s.ReconcileOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ReconcileOnce persists the due promotions of every guarded namespace.
// Failures are logged: the next pass retries.
func (s *Server) ReconcileOnce(ctx context.Context) {
	if s.opts.DryRun {
		return
	}
	for _, ns := range s.order {
		rctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
		recs, err := s.targets[ns].Reconcile(rctx)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("could not record due promotions; retrying at the next pass", "namespace", ns, "err", err, "next", s.opts.ReconcileInterval)
			}
			continue
		}
		for _, r := range recs {
			s.metrics.promotions.Inc()
			s.log.Info("promoted: the bake window passed", "namespace", ns, "color", r.Color, "version", r.Version, "reason", r.Reason)
		}
	}
}

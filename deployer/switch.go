package deployer

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Switch moves the active Service to color `to` in one update carrying the
// resourceVersion it read, so of two concurrent switches exactly one wins and
// the other gets ErrConflict. It refuses a color that is absent or has no
// ready replica (ErrNotReady) unless o.Force, refuses an incident already in
// the history (ErrIncidentSeen, nothing changes), and records the switch.
// Switching to the active color is a no-op returning (nil, nil).
func (d *Deployer) Switch(ctx context.Context, to Color, o SwitchOptions) (*SwitchRecord, error) {
	if _, err := ParseColor(string(to)); err != nil {
		return nil, err
	}
	if err := d.checkNamespace(ctx); err != nil {
		return nil, err
	}
	svcs := d.client.CoreV1().Services(d.ns)
	svc, err := svcs.Get(ctx, d.cfg.ActiveService, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("%w: Service %s/%s does not exist: run remlactl init first", ErrNotInitialized, d.ns, d.cfg.ActiveService)
	}
	if err != nil {
		return nil, fmt.Errorf("read active Service %s/%s: %w", d.ns, d.cfg.ActiveService, err)
	}
	st, err := readStored(svc, d.cfg.Labels.Color)
	if err != nil {
		return nil, err
	}
	if st.seen(o.Incident) {
		return nil, fmt.Errorf("%w: incident %s already caused a switch", ErrIncidentSeen, o.Incident)
	}
	if st.Active == to {
		return nil, nil
	}
	if !o.Force {
		if err := d.checkReady(ctx, to); err != nil {
			return nil, err
		}
	}
	next, rec := st.apply(to, o, now(), d.identity)
	if err := writeStored(svc, next, d.cfg.Labels.Color, d.cfg.HistoryLimit); err != nil {
		return nil, err
	}
	// svc still carries the resourceVersion read above: the API server
	// rejects the update if anyone changed the Service since.
	if _, err := svcs.Update(ctx, svc, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsConflict(err) {
			return nil, fmt.Errorf("%w: the active Service changed while switching to %s; run remlactl status and retry", ErrConflict, to)
		}
		return nil, fmt.Errorf("update active Service %s/%s: %w", d.ns, d.cfg.ActiveService, err)
	}
	d.log.Info("traffic switched", "from", rec.From, "to", rec.To, "reason", rec.Reason, "by", rec.By)
	return &rec, nil
}

// checkReady refuses a color with no Deployment or no ready replica.
func (d *Deployer) checkReady(ctx context.Context, c Color) error {
	dep, err := d.client.AppsV1().Deployments(d.ns).Get(ctx, d.cfg.Release(c), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("%w: %s is not deployed: run remlactl deploy %s <version> first (or --force)", ErrNotReady, c, c)
	}
	if err != nil {
		return fmt.Errorf("read Deployment %s/%s: %w", d.ns, d.cfg.Release(c), err)
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

package deployer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	coordv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// leaseDuration is how long a Lease stays held without renewal: a crashed
// remlactl blocks others for at most this long.
const leaseDuration = 30 * time.Second

const annoOperation = annoPrefix + "operation"

// lock takes the deployer's Lease for a long operation (init, deploy,
// undeploy), so two operators cannot deploy at once. It renews the Lease
// until unlock; if the Lease is lost, the returned context is cancelled.
func (d *Deployer) lock(ctx context.Context, op string) (context.Context, func(), error) {
	holder := fmt.Sprintf("%s pid %d", d.identity, os.Getpid())
	leases := d.client.CoordinationV1().Leases(d.ns)
	for attempt := 0; ; attempt++ {
		err := d.tryLock(ctx, holder, op)
		if err == nil {
			break
		}
		// A lost create or update race: read again once, the winner's
		// record makes the error say who holds it.
		if (apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err)) && attempt < 2 {
			continue
		}
		return nil, nil, err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(leaseDuration / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if err := d.renew(ctx, holder); err != nil {
					cancel(fmt.Errorf("%w: lost Lease %s: %v", ErrLocked, d.cfg.Lease, err))
					return
				}
			}
		}
	}()
	unlock := func() {
		close(done)
		cancel(nil)
		rctx, rcancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer rcancel()
		l, err := leases.Get(rctx, d.cfg.Lease, metav1.GetOptions{})
		if err != nil || l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity != holder {
			return
		}
		l.Spec.HolderIdentity = nil
		l.Spec.AcquireTime, l.Spec.RenewTime = nil, nil
		delete(l.Annotations, annoOperation)
		if _, err := leases.Update(rctx, l, metav1.UpdateOptions{}); err != nil {
			d.log.Warn("could not release the Lease; it expires by itself", "lease", d.cfg.Lease, "after", leaseDuration, "err", err)
		}
	}
	return ctx, unlock, nil
}

func (d *Deployer) tryLock(ctx context.Context, holder, op string) error {
	leases := d.client.CoordinationV1().Leases(d.ns)
	t := metav1.NewMicroTime(time.Now())
	secs := int32(leaseDuration / time.Second)
	l, err := leases.Get(ctx, d.cfg.Lease, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		l = &coordv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: d.cfg.Lease, Annotations: map[string]string{annoOperation: op}},
			Spec:       coordv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &secs, AcquireTime: &t, RenewTime: &t},
		}
		_, err = leases.Create(ctx, l, metav1.CreateOptions{})
		return d.leaseErr(err)
	}
	if err != nil {
		return d.leaseErr(err)
	}
	if h := l.Spec.HolderIdentity; h != nil && *h != "" && l.Spec.RenewTime != nil {
		dur := leaseDuration
		if l.Spec.LeaseDurationSeconds != nil {
			dur = time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second
		}
		expires := l.Spec.RenewTime.Add(dur)
		if time.Now().Before(expires) {
			since := l.Spec.RenewTime.Time
			if l.Spec.AcquireTime != nil {
				since = l.Spec.AcquireTime.Time
			}
			return fmt.Errorf("%w: Lease %s/%s is held by %s since %s (%s); wait for it to finish, or if that process died, retry after %s",
				ErrLocked, d.ns, d.cfg.Lease, *h, since.UTC().Format(time.RFC3339), l.Annotations[annoOperation], expires.UTC().Format(time.RFC3339))
		}
	}
	if l.Annotations == nil {
		l.Annotations = map[string]string{}
	}
	l.Annotations[annoOperation] = op
	l.Spec.HolderIdentity, l.Spec.LeaseDurationSeconds, l.Spec.AcquireTime, l.Spec.RenewTime = &holder, &secs, &t, &t
	_, err = leases.Update(ctx, l, metav1.UpdateOptions{})
	return d.leaseErr(err)
}

func (d *Deployer) renew(ctx context.Context, holder string) error {
	leases := d.client.CoordinationV1().Leases(d.ns)
	l, err := leases.Get(ctx, d.cfg.Lease, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity != holder {
		return errors.New("another holder took it")
	}
	t := metav1.NewMicroTime(time.Now())
	l.Spec.RenewTime = &t
	_, err = leases.Update(ctx, l, metav1.UpdateOptions{})
	return err
}

func (d *Deployer) leaseErr(err error) error {
	if err == nil || apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) {
		return err
	}
	return fmt.Errorf("take Lease %s/%s: %w", d.ns, d.cfg.Lease, err)
}

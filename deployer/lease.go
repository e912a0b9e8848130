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

// The Lease follows client-go's leader election (tools/leaderelection):
// the holder renews every renewPeriod; a failed renewal is retried until
// the Lease would really expire; and another holder's Lease is judged by
// observedTime, the moment this process last saw its record change, plus
// its duration, never by comparing the holder's RenewTime with the local
// clock, so clock skew between machines cannot steal a live Lease.
const (
	// leaseDuration is how long a Lease stays held without renewal: a
	// crashed remlactl blocks others for at most this long after they
	// first look at it.
	leaseDuration = 30 * time.Second
	// renewPeriod is how often the holder renews, and so how soon an
	// observer sees that the holder is alive.
	renewPeriod = 2 * time.Second
	// observePoll is how often an observer reads another holder's record.
	observePoll = 500 * time.Millisecond
)

const annoOperation = annoPrefix + "operation"

// leaseTiming holds the Lease's periods; zero fields take the constants
// above (unit tests shorten them).
type leaseTiming struct{ duration, renew, poll time.Duration }

func (t leaseTiming) or() leaseTiming {
	if t.duration == 0 {
		t.duration = leaseDuration
	}
	if t.renew == 0 {
		t.renew = renewPeriod
	}
	if t.poll == 0 {
		t.poll = observePoll
	}
	return t
}

// lock takes the deployer's Lease for a long operation (init, deploy,
// undeploy), so two operators cannot deploy at once. It renews the Lease
// until unlock; if the Lease is lost (another holder took it, or renewals
// failed until it would expire), the returned context is cancelled.
func (d *Deployer) lock(ctx context.Context, op string) (context.Context, func(), error) {
	holder := fmt.Sprintf("%s pid %d", d.identity, os.Getpid())
	lt := d.leaseTiming.or()
	if err := d.acquire(ctx, holder, op); err != nil {
		return nil, nil, err
	}
	renewed := time.Now()
	d.inflight.leased(true, renewed, lt.duration)
	ctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(lt.renew)
		defer t.Stop()
		// The operation stops one renewal period before the Lease would
		// expire, on a timer of its own: a renewal that hangs until its
		// timeout must not carry the holder past the expiry.
		margin := lt.duration - lt.renew
		expiry := time.NewTimer(margin)
		defer expiry.Stop()
		var lastErr error
		for {
			select {
			case <-done:
				return
			case <-expiry.C:
				cancel(fmt.Errorf("%w: could not renew Lease %s for %s (last error: %v); stopped before it expires", ErrLocked, d.cfg.Lease, time.Since(renewed).Round(time.Second), lastErr))
				return
			case <-t.C:
			}
			// A renewal gives up at the stop time, so it cannot carry
			// the holder past it either.
			deadline := time.Now().Add(lt.renew)
			if stop := renewed.Add(margin); stop.Before(deadline) {
				deadline = stop
			}
			err := d.renew(ctx, holder, deadline)
			switch {
			case err == nil:
				renewed = time.Now()
				d.inflight.leased(true, renewed, lt.duration)
				expiry.Reset(margin)
			case errors.Is(err, errLeaseTaken):
				cancel(fmt.Errorf("%w: lost Lease %s: %v", ErrLocked, d.cfg.Lease, err))
				return
			default:
				lastErr = err
				d.log.Warn("renewing the Lease failed; retrying until it would expire", "lease", d.cfg.Lease,
					"expiresIn", (lt.duration - time.Since(renewed)).Round(time.Second), "err", err)
			}
		}
	}()
	unlock := func() {
		close(done)
		<-stopped
		cancel(nil)
		rctx, rcancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer rcancel()
		leases := d.client.CoordinationV1().Leases(d.ns)
		cur, err := leases.Get(rctx, d.cfg.Lease, metav1.GetOptions{})
		if err == nil && cur.Spec.HolderIdentity != nil && *cur.Spec.HolderIdentity == holder {
			cur.Spec.HolderIdentity = nil
			cur.Spec.AcquireTime, cur.Spec.RenewTime = nil, nil
			delete(cur.Annotations, annoOperation)
			_, err = leases.Update(rctx, cur, metav1.UpdateOptions{})
		}
		if err != nil {
			d.log.Warn("could not release the Lease; it expires by itself", "lease", d.cfg.Lease, "after", lt.duration, "err", err)
			return
		}
		d.inflight.leased(false, time.Time{}, 0)
	}
	return ctx, unlock, nil
}

var errLeaseTaken = errors.New("another holder took it")

// acquire takes the Lease: at once when it is free, released or ours;
// after watching it unchanged for its whole duration when another holder
// has it (that holder died); and with ErrLocked as soon as the record is
// seen changing (the holder renews it).
func (d *Deployer) acquire(ctx context.Context, holder, op string) error {
	leases := d.client.CoordinationV1().Leases(d.ns)
	var observed *coordv1.Lease // another holder's record as first seen
	var observedTime time.Time
	for {
		l, err := leases.Get(ctx, d.cfg.Lease, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			_, err := leases.Create(ctx, d.leaseRecord(&coordv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: d.cfg.Lease}}, holder, op), metav1.CreateOptions{})
			if apierrors.IsAlreadyExists(err) {
				continue
			}
			return d.leaseErr(err)
		}
		if err != nil {
			return d.leaseErr(err)
		}
		if h := l.Spec.HolderIdentity; h != nil && *h != "" && *h != holder {
			switch {
			case observed != nil && observed.ResourceVersion != l.ResourceVersion:
				return d.heldErr(l, "it was renewed while this process watched")
			case observed == nil:
				d.log.Info("the Lease is held by another process; watching whether it is renewed", "lease", d.cfg.Lease,
					"holder", *h, "operation", l.Annotations[annoOperation], "takeOverAfter", d.duration(l))
				observed, observedTime = l, time.Now()
				continue
			case time.Since(observedTime) < d.duration(l):
				select {
				case <-ctx.Done():
					return d.heldErr(l, fmt.Sprintf("gave up watching it after %s", time.Since(observedTime).Round(time.Second)))
				case <-time.After(d.leaseTiming.or().poll):
				}
				continue
			}
			d.log.Warn("taking over a Lease its holder stopped renewing", "lease", d.cfg.Lease, "holder", *h,
				"unchangedFor", time.Since(observedTime).Round(time.Second))
		}
		// The update carries the resourceVersion read: of two takers, one
		// wins; the loser then watches the winner's record.
		_, err = leases.Update(ctx, d.leaseRecord(l, holder, op), metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			observed = nil
			continue
		}
		return d.leaseErr(err)
	}
}

// leaseRecord makes l held by holder for op, from now.
func (d *Deployer) leaseRecord(l *coordv1.Lease, holder, op string) *coordv1.Lease {
	l = l.DeepCopy()
	t := metav1.NewMicroTime(time.Now())
	secs := int32(max(d.leaseTiming.or().duration/time.Second, 1))
	if l.Annotations == nil {
		l.Annotations = map[string]string{}
	}
	l.Annotations[annoOperation] = op
	l.Spec.HolderIdentity, l.Spec.LeaseDurationSeconds, l.Spec.AcquireTime, l.Spec.RenewTime = &holder, &secs, &t, &t
	return l
}

// duration is the holder's lease duration, as its record says.
func (d *Deployer) duration(l *coordv1.Lease) time.Duration {
	if l.Spec.LeaseDurationSeconds != nil && *l.Spec.LeaseDurationSeconds > 0 {
		return time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second
	}
	return d.leaseTiming.or().duration
}

func (d *Deployer) heldErr(l *coordv1.Lease, seen string) error {
	since := "an unknown time"
	if l.Spec.AcquireTime != nil {
		since = l.Spec.AcquireTime.UTC().Format(time.RFC3339)
	}
	return fmt.Errorf("%w: Lease %s/%s is held by %s since %s (%s), and %s; wait for it to finish, or if that process died, retry: its Lease is taken over once unrenewed for %s",
		ErrLocked, d.ns, d.cfg.Lease, *l.Spec.HolderIdentity, since, l.Annotations[annoOperation], seen, d.duration(l))
}

// renew renews the Lease held by holder: errLeaseTaken when someone else
// holds it now. It gives up at deadline.
func (d *Deployer) renew(ctx context.Context, holder string, deadline time.Time) error {
	leases := d.client.CoordinationV1().Leases(d.ns)
	rctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	l, err := leases.Get(rctx, d.cfg.Lease, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity != holder {
		return errLeaseTaken
	}
	t := metav1.NewMicroTime(time.Now())
	l.Spec.RenewTime = &t
	_, err = leases.Update(rctx, l, metav1.UpdateOptions{})
	return err
}

func (d *Deployer) leaseErr(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("take Lease %s/%s: %w", d.ns, d.cfg.Lease, err)
}

package deployer

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/remla/tagger/deployer/notify"
)

// Notifications: every record commit writes is also posted to the
// receivers of remla.yaml's notify: block, after its Kubernetes Event. That
// is the one hook, so each kind (Deployed, DeployFailed, Promoted,
// Switched, RolledBack, RollbackRefused, MarkedFailed, Undeployed,
// ScaledDown, ScaledUp, and the gates' verdicts once they are records) is
// posted once, by whichever process wrote it. Delivery is asynchronous
// (deployer/notify.Dispatcher): it never slows or fails the write.

// newNotifier builds the Dispatcher of the config; URLs from Secrets are
// read from the Deployer's namespace when a post needs them.
func (d *Deployer) newNotifier() (*notify.Dispatcher, error) {
	read := func(ctx context.Context, name, key string) ([]byte, error) {
		s, err := d.client.CoreV1().Secrets(d.ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		v, ok := s.Data[key]
		if !ok {
			return nil, fmt.Errorf("Secret %s/%s has no key %s", d.ns, name, key)
		}
		return v, nil
	}
	return notify.New(d.cfg.Notify, read, nil, d.log.With("component", "notify"), eventSource)
}

// Notify posts e to the configured receivers, filling in the namespace,
// app, time, who and severity when e leaves them empty. It is for what is
// not a history record (a gate's measurements before its verdict is
// recorded, say); records are posted by commit already.
func (d *Deployer) Notify(ctx context.Context, e notify.Event) {
	if e.Namespace == "" {
		e.Namespace = d.ns
	}
	if e.App == "" {
		e.App = d.cfg.App
	}
	if e.Time.IsZero() {
		e.Time = d.now()
	}
	if e.By == "" {
		e.By = d.identity
	}
	if e.Severity == "" {
		e.Severity = notify.SeverityInfo
		if warning[EventReason(e.Kind)] {
			e.Severity = notify.SeverityWarning
		}
	}
	if e.Message == "" {
		e.Message = e.Kind + " " + e.Color + " " + e.Version + ": " + e.Reason
	}
	d.notifier.Notify(ctx, e)
}

// NotifyEvent is the notification of record r: the same message as its
// Kubernetes Event.
func (d *Deployer) NotifyEvent(r Record) notify.Event {
	sev := notify.SeverityInfo
	if warning[r.Kind()] {
		sev = notify.SeverityWarning
	}
	return notify.Event{Kind: string(r.Kind()), Severity: sev, Time: r.Time, Namespace: d.ns, App: d.cfg.App,
		Color: string(r.Color), Version: r.Version, Standing: string(r.Standing), From: string(r.From), To: string(r.To),
		Reason: r.Reason, By: r.By, Incident: r.Incident, Override: r.Override, Message: r.message()}
}

// announce posts the records one write made.
func (d *Deployer) announce(recs []Record) {
	for _, r := range recs {
		d.notifier.Notify(context.Background(), d.NotifyEvent(r))
	}
}

// NotificationCounts are what each receiver did since the Deployer was
// made: sent, failed, dropped (the alert actor exports them as metrics).
func (d *Deployer) NotificationCounts() map[string]notify.Counts { return d.notifier.Counts() }

// Close delivers the notifications still queued, until ctx ends, and
// stops the notifier. A process calls it before it exits; the Deployer's
// operations work on after it, with notifications dropped (and counted).
func (d *Deployer) Close(ctx context.Context) error {
	if err := d.notifier.Close(ctx); err != nil {
		return fmt.Errorf("notifications not all delivered before exit: %w", err)
	}
	return nil
}

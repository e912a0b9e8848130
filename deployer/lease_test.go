package deployer

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// TestLeaseRenewalToleratesTransientErrors: failed renewals are retried
// until the Lease would really expire; only then is the operation stopped.
// The timings are shortened (duration 3 s, renewal every 100 ms); the
// cluster test TestLease covers taking and refusing on the API server.
func TestLeaseRenewalToleratesTransientErrors(t *testing.T) {
	cs := fake.NewClientset()
	var failing atomic.Bool
	cs.PrependReactor("update", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
		if failing.Load() {
			return true, nil, errors.New("etcdserver: request timed out")
		}
		return false, nil, nil
	})
	d := &Deployer{cfg: DefaultConfig(), ns: "ns", client: cs, log: slog.New(slog.NewTextHandler(io.Discard, nil)), identity: "operator:test",
		leaseTiming: leaseTiming{duration: 3 * time.Second, renew: 100 * time.Millisecond, poll: 50 * time.Millisecond}}
	ctx, unlock, err := d.lock(context.Background(), "deploy green 1")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if p := strings.Join(d.Pending(), "; "); !strings.Contains(p, "Lease ns/remla-deployer stays held until it expires in") {
		t.Errorf("Pending while holding the Lease: %q", p)
	}

	// A second of failures (10 renewals) is less than the Lease's 3 s.
	failing.Store(true)
	time.Sleep(time.Second)
	failing.Store(false)
	time.Sleep(300 * time.Millisecond)
	if err := context.Cause(ctx); err != nil {
		t.Fatalf("a second of failed renewals stopped the operation: %v", err)
	}

	// Failing until the Lease would expire stops it, before the expiry.
	failing.Store(true)
	start := time.Now()
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("renewals failing for 5 s did not stop the operation")
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("stopped after %s: later than the Lease's expiry", took)
	}
	if err := context.Cause(ctx); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "could not renew") {
		t.Errorf("cause %v, want ErrLocked saying the renewals failed", err)
	}
}

// TestLeaseTakenOverStopsAtOnce: when another holder took the Lease, the
// operation stops at the next renewal instead of waiting for expiry.
func TestLeaseTakenOverStopsAtOnce(t *testing.T) {
	cs := fake.NewClientset()
	d := &Deployer{cfg: DefaultConfig(), ns: "ns", client: cs, log: slog.New(slog.NewTextHandler(io.Discard, nil)), identity: "operator:test",
		leaseTiming: leaseTiming{duration: 30 * time.Second, renew: 100 * time.Millisecond}}
	ctx, unlock, err := d.lock(context.Background(), "deploy green 1")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	leases := cs.CoordinationV1().Leases("ns")
	l, err := leases.Get(ctx, "remla-deployer", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	thief := "operator:other pid 2"
	l.Spec.HolderIdentity = &thief
	if _, err := leases.Update(ctx, l, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("a Lease taken by another holder did not stop the operation")
	}
	if err := context.Cause(ctx); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "another holder took it") {
		t.Errorf("cause %v", err)
	}
}

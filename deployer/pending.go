package deployer

import (
	"fmt"
	"sync"
	"time"
)

// inflight tracks what an operation has started and not finished, so a
// process that must exit at once (a second Ctrl-C) can say what it leaves.
type inflight struct {
	mu sync.Mutex
	// release is the Helm release being installed or upgraded.
	release string
	// lease is held since renewed, for duration.
	lease    bool
	renewed  time.Time
	duration time.Duration
}

func (f *inflight) helm(release string) func() {
	f.mu.Lock()
	f.release = release
	f.mu.Unlock()
	return func() {
		f.mu.Lock()
		f.release = ""
		f.mu.Unlock()
	}
}

func (f *inflight) leased(held bool, renewed time.Time, duration time.Duration) {
	f.mu.Lock()
	f.lease, f.renewed, f.duration = held, renewed, duration
	f.mu.Unlock()
}

// Pending says what would be left behind if the process exited now: a Helm
// release in the middle of an install or upgrade, and the Lease still held
// until it expires. Empty when nothing is in flight.
func (d *Deployer) Pending() []string {
	f := &d.inflight
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	if f.release != "" {
		out = append(out, fmt.Sprintf("Helm release %s may stay pending-install or pending-upgrade: check with helm history %s -n %s, then helm rollback %s -n %s or deploy again",
			f.release, f.release, d.ns, f.release, d.ns))
	}
	if f.lease {
		left := max(time.Until(f.renewed.Add(f.duration)), 0).Round(time.Second)
		out = append(out, fmt.Sprintf("the Lease %s/%s stays held until it expires in %s; other operators wait until then", d.ns, d.cfg.Lease, left))
	}
	return out
}

package app

import (
	"context"
	"sync"
	"time"

	"github.com/remla/tagger/feedback"
)

// storeHealth is the feedback store's last known state, for /readyz and
// the feedback_store_up metric. A probe reads the cached state and never
// waits for the database: when the state is older than the interval, one
// Ping starts in the background, whatever the probe rate, and saves
// refresh the state for free. So a flood of probes costs the database
// nothing, no probe ever writes to it, and a slow database cannot make a
// probe time out.
type storeHealth struct {
	store    feedback.Store
	interval time.Duration
	timeout  time.Duration

	mu      sync.Mutex
	checked time.Time
	err     error
	running bool
}

func newStoreHealth(s feedback.Store) *storeHealth {
	return &storeHealth{store: s, interval: 5 * time.Second, timeout: 2 * time.Second}
}

// status returns the cached state, and starts a check when the cache is
// older than the interval and no check is running.
func (h *storeHealth) status() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.running && time.Since(h.checked) >= h.interval {
		h.running = true
		go h.check()
	}
	return h.err
}

// check pings the store once and records the result.
func (h *storeHealth) check() {
	ctx, cancel := context.WithTimeout(context.Background(), h.timeout)
	err := h.store.Ping(ctx)
	cancel()
	h.mu.Lock()
	h.running, h.checked, h.err = false, time.Now(), err
	h.mu.Unlock()
}

// observe records what a save just learnt about the store.
func (h *storeHealth) observe(err error) {
	h.mu.Lock()
	h.checked, h.err = time.Now(), err
	h.mu.Unlock()
}

// up is status as a gauge value.
func (h *storeHealth) up() float64 {
	if h.status() != nil {
		return 0
	}
	return 1
}

package app

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/remla/tagger/feedback"
)

// countingStore counts Pings and can fail them, slowly, like a database
// that went away.
type countingStore struct {
	feedback.Store
	pings atomic.Int64
	down  atomic.Bool
}

func (c *countingStore) Ping(ctx context.Context) error {
	c.pings.Add(1)
	if c.down.Load() {
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
		return feedback.ErrUnavailable
	}
	return c.Store.Ping(ctx)
}

// TestReadinessProbeFlood: 4,000 probes, many at once, cost the store a
// Ping or two and are all answered 200 at once, with the store up or down.
func TestReadinessProbeFlood(t *testing.T) {
	ts := startServer(t, newFake())
	cs := &countingStore{Store: ts.store}
	ts.cfg.Store = cs
	ts.health = newStoreHealth(cs)
	flood := func() (codes map[int]int, slowest time.Duration) {
		codes = map[int]int{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 250 {
					start := time.Now()
					rec := httptest.NewRecorder()
					ts.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
					d := time.Since(start)
					mu.Lock()
					codes[rec.Code]++
					slowest = max(slowest, d)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		return codes, slowest
	}
	codes, _ := flood()
	if codes[http.StatusOK] != 2000 || cs.pings.Load() > 2 {
		t.Fatalf("store up: codes %v after 2,000 probes, %d pings; want all 200 and at most 2 pings", codes, cs.pings.Load())
	}

	cs.down.Store(true)
	ts.health.mu.Lock()
	ts.health.checked = time.Time{} // stale: the next probe starts a check
	ts.health.mu.Unlock()
	before := cs.pings.Load()
	codes, slowest := flood()
	if codes[http.StatusOK] != 2000 || cs.pings.Load()-before > 1 {
		t.Fatalf("store down: codes %v, %d pings; want all 200 (a store outage does not unready the server) and one ping", codes, cs.pings.Load()-before)
	}
	// No probe waited for the slow ping (500 ms): kubelet's 1 s probe
	// timeout can never be hit because of the database.
	if slowest >= 500*time.Millisecond {
		t.Fatalf("a probe waited %v for the store", slowest)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		rec := httptest.NewRecorder()
		ts.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		if strings.Contains(rec.Body.String(), `"feedback_store":"unavailable`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the failed check was never reported: %s", rec.Body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A save that works marks the store up again, without waiting.
	ts.health.observe(nil)
	if err := ts.health.status(); err != nil {
		t.Fatal(err)
	}
	ts.health.observe(errors.New("x"))
	if ts.health.up() != 0 {
		t.Fatal("a failed save did not mark the store down")
	}
}

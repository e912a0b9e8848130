package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/remla/tagger/deployer"
	"github.com/remla/tagger/deployer/notify"
)

// deployers are the Deployers one run made: before remlactl exits, each
// delivers the notifications its operation queued (deployer.Close), for at
// most one post timeout, so a slow receiver delays the exit by that much
// at most and fails nothing.
type deployers struct {
	mu   sync.Mutex
	ds   []*deployer.Deployer
	logs []*slog.Logger
}

type deployersKey struct{}

func (m *deployers) add(d *deployer.Deployer, log *slog.Logger) {
	m.mu.Lock()
	m.ds, m.logs = append(m.ds, d), append(m.logs, log)
	m.mu.Unlock()
}

func (m *deployers) close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, d := range m.ds {
		wait := d.Config().Notify.Timeout.Duration
		if wait <= 0 {
			wait = notify.DefaultTimeout
		}
		ctx, cancel := context.WithTimeout(context.Background(), wait+time.Second)
		if err := d.Close(ctx); err != nil {
			m.logs[i].Warn("exiting with notifications undelivered", "err", err, "counts", d.NotificationCounts())
		}
		cancel()
	}
}

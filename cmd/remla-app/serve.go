package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/remla/tagger/app"
	"github.com/remla/tagger/cmd/internal/logging"
	"github.com/remla/tagger/feedback"
	"github.com/remla/tagger/model"
)

// minMemoryLimit is the least soft memory limit the server sets for the Go
// runtime (unless GOMEMLIMIT is set): twice the heap left after loading
// the model, but at least this. docs/BENCHMARKS.md has the resident memory
// with it.
const minMemoryLimit = 40 << 20

// serve wires the program: logger, model, feedback store, memory limit and
// listener, then serves until ctx ends.
func serve(ctx context.Context, c *config, getenv func(string) string, stderr io.Writer) error {
	log, err := logging.New(stderr, c.logLevel, c.logFormat)
	if err != nil {
		return err // it names the flag
	}
	m, err := model.Load(c.modelPath) // its errors say how to get a model
	if err != nil {
		return err
	}
	keys, keySource, err := signingKeys(c, getenv)
	if err != nil {
		return err
	}
	store, where, err := openStore(ctx, c, log)
	if err != nil {
		return err
	}
	// Decoding the model leaves garbage behind; hand it back to the OS now
	// so the resident size reflects what serving needs.
	debug.FreeOSMemory()
	if getenv("GOMEMLIMIT") == "" {
		// A soft limit keeps the heap from growing to twice its live size
		// under load. It scales with the model, so a bigger model does not
		// make the collector run all the time; GOMEMLIMIT overrides it.
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		limit := max(int64(minMemoryLimit), 2*int64(ms.HeapAlloc))
		debug.SetMemoryLimit(limit)
		log.Debug("soft memory limit", "bytes", limit, "heap_after_load", ms.HeapAlloc)
	}
	srv, err := app.New(app.Config{Predictor: m, Store: store, Color: c.color, CodeVersion: model.CodeVersion,
		Release: c.release, Logger: log, SigningKeys: keys, Retention: c.retention, RateLimit: c.rateLimit,
		TrustedProxies: c.proxies, TrustedOrigins: c.origins})
	if err != nil {
		store.Close()
		return err
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		store.Close()
		return fmt.Errorf("listen on %s: %w; pick a free port with -addr", c.addr, err)
	}
	log.Info("model loaded", "path", c.modelPath, "version", m.Version(), "tags", len(m.Tags()),
		"feedback_store", where, "signing_keys", len(keys), "signing_key_source", keySource, "retention", c.retention.String())
	return srv.Serve(ctx, ln, c.grace)
}

// storeConnectWait bounds how long start waits for a shared store before it
// serves without it (predictions need no store; answers get 503 until it
// answers).
const storeConnectWait = 10 * time.Second

// openStore opens the feedback store the settings name and says which it
// is. A PostgreSQL that does not answer yet is not fatal: the server starts,
// and the store migrates when it comes. A schema newer than this binary
// is.
func openStore(ctx context.Context, c *config, log *slog.Logger) (feedback.Store, string, error) {
	if c.dsn == "" {
		s, err := feedback.OpenSQLite(ctx, c.dbPath)
		return s, "sqlite " + c.dbPath, err
	}
	octx, cancel := context.WithTimeout(ctx, storeConnectWait)
	defer cancel()
	s, err := feedback.OpenPostgres(octx, c.dsn, false)
	switch {
	case err == nil:
		return s, s.Name(), nil
	case s != nil && errors.Is(err, feedback.ErrUnavailable):
		log.Warn("feedback store not reachable yet; serving predictions, answers get 503 until it is", "store", s.Name(), "err", err)
		return s, s.Name(), nil
	}
	return nil, "", err
}

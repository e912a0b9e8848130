package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"runtime"
	"runtime/debug"

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
		return fmt.Errorf("-log-level/-log-format: %w", err)
	}
	m, err := model.Load(c.modelPath) // its errors say how to get a model
	if err != nil {
		return err
	}
	store, err := feedback.OpenSQLite(ctx, c.dbPath)
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
		Release: c.release, Logger: log})
	if err != nil {
		store.Close()
		return err
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		store.Close()
		return fmt.Errorf("listen on %s: %w; pick a free port with -addr", c.addr, err)
	}
	log.Info("model loaded", "path", c.modelPath, "version", m.Version(), "tags", len(m.Tags()), "feedback_db", c.dbPath)
	return srv.Serve(ctx, ln, c.grace)
}

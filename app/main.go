package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"regexp"
	"runtime"
	"runtime/debug"
	"time"

	"golang.org/x/term"

	"github.com/remla/tagger/feedback"
	"github.com/remla/tagger/model"
)

// minMemoryLimit is the least soft memory limit the server sets for the Go
// runtime (unless GOMEMLIMIT is set): twice the heap left after loading
// the model, but at least this. docs/BENCHMARKS.md has the resident memory
// with it.
const minMemoryLimit = 40 << 20

var colorPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// Main is remla-app's whole program: it reads flags (each with an
// environment fallback), loads the model, opens the feedback store and
// serves until ctx is done. getenv is os.Getenv outside tests.
func Main(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	env := func(key, def string) string {
		if v := getenv(key); v != "" {
			return v
		}
		return def
	}
	fs := flag.NewFlagSet("remla-app", flag.ContinueOnError)
	fs.SetOutput(stderr)
	modelPath := fs.String("model", env("REMLA_MODEL", "models/latest.model"), "model file to serve (env REMLA_MODEL)")
	addr := fs.String("addr", env("REMLA_ADDR", ":8080"), "address to listen on, host:port (env REMLA_ADDR)")
	color := fs.String("color", env("REMLA_COLOR", "blue"), "deployment color this server runs as, e.g. blue or green (env REMLA_COLOR)")
	dbPath := fs.String("feedback-db", env("REMLA_FEEDBACK_DB", "feedback.db"), "SQLite file that keeps user feedback (env REMLA_FEEDBACK_DB)")
	logLevel := fs.String("log-level", env("REMLA_LOG_LEVEL", "info"), "debug, info, warn or error (env REMLA_LOG_LEVEL); debug logs every request")
	logFormat := fs.String("log-format", env("REMLA_LOG_FORMAT", "auto"), "text, json, or auto: text on a terminal, JSON otherwise (env REMLA_LOG_FORMAT)")
	grace := fs.Duration("shutdown-grace", 20*time.Second, "how long in-flight requests may take to finish on SIGTERM")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q; all settings are flags, see remla-app -h", fs.Arg(0))
	}
	log, err := newLogger(stderr, *logLevel, *logFormat)
	if err != nil {
		return err
	}
	if !colorPattern.MatchString(*color) {
		return fmt.Errorf("-color %q: use a short lower-case name such as blue or green", *color)
	}

	m, err := model.Load(*modelPath) // its errors say how to get a model
	if err != nil {
		return err
	}
	store, err := feedback.OpenSQLite(ctx, *dbPath)
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
	srv, err := New(Config{Predictor: m, Store: store, Color: *color, CodeVersion: model.CodeVersion,
		Release: getenv("REMLA_VERSION"), Logger: log})
	if err != nil {
		store.Close()
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		store.Close()
		return fmt.Errorf("listen on %s: %w; pick a free port with -addr", *addr, err)
	}
	log.Info("model loaded", "path", *modelPath, "version", m.Version(), "tags", len(m.Tags()), "feedback_db", *dbPath)
	return srv.Serve(ctx, ln, *grace)
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("-log-level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "auto":
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			return slog.New(slog.NewTextHandler(w, opts)), nil
		}
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("-log-format %q: use text, json or auto", format)
}

package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/remla/tagger/app"
)

// config is remla-app's settings: each flag has an environment variable,
// and a flag given on the command line wins over its variable.
type config struct {
	modelPath string
	addr      string
	color     string
	dbPath    string
	logLevel  string
	logFormat string
	grace     time.Duration
	// release is the deployment's version label (REMLA_VERSION, set by the
	// Helm chart), reported as "release" by /version.
	release string
}

func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	env := func(key, def string) string {
		if v := getenv(key); v != "" {
			return v
		}
		return def
	}
	var c config
	fs := flag.NewFlagSet("remla-app", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.modelPath, "model", env("REMLA_MODEL", "models/latest.model"), "model file to serve (env REMLA_MODEL)")
	fs.StringVar(&c.addr, "addr", env("REMLA_ADDR", ":8080"), "address to listen on, host:port (env REMLA_ADDR)")
	fs.StringVar(&c.color, "color", env("REMLA_COLOR", "blue"), "deployment color this server runs as, e.g. blue or green (env REMLA_COLOR)")
	fs.StringVar(&c.dbPath, "feedback-db", env("REMLA_FEEDBACK_DB", "feedback.db"), "SQLite file that keeps user feedback (env REMLA_FEEDBACK_DB)")
	fs.StringVar(&c.logLevel, "log-level", env("REMLA_LOG_LEVEL", "info"), "debug, info, warn or error (env REMLA_LOG_LEVEL); debug logs every request")
	fs.StringVar(&c.logFormat, "log-format", env("REMLA_LOG_FORMAT", "auto"), "text, json, or auto: text on a terminal, JSON otherwise (env REMLA_LOG_FORMAT)")
	fs.DurationVar(&c.grace, "shutdown-grace", 20*time.Second, "how long in-flight requests may take to finish on SIGTERM")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q; all settings are flags, see remla-app -h", fs.Arg(0))
	}
	if err := app.CheckColor(c.color); err != nil {
		return nil, fmt.Errorf("-color: %w", err)
	}
	c.release = getenv("REMLA_VERSION")
	return &c, nil
}

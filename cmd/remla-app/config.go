package main

import (
	"errors"
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
	// dsn selects the shared PostgreSQL store instead of the SQLite file.
	dsn string
	// keyFile holds the prediction-id signing keys (signingkey.go).
	keyFile   string
	retention time.Duration
	logLevel  string
	logFormat string
	grace     time.Duration
	// release is the deployment's version label (REMLA_VERSION, set by the
	// Helm chart), reported as "release" by /version.
	release string
}

func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	var envErrs []error
	env := func(key, def string) string {
		if v := getenv(key); v != "" {
			return v
		}
		return def
	}
	envDuration := func(key string, def time.Duration) time.Duration {
		v, err := time.ParseDuration(env(key, def.String()))
		if err != nil {
			envErrs = append(envErrs, fmt.Errorf("%s: want a duration such as 720h: %w", key, err))
		}
		return v
	}
	var c config
	fs := flag.NewFlagSet("remla-app", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.modelPath, "model", env("REMLA_MODEL", "models/latest.model"), "model file to serve (env REMLA_MODEL)")
	fs.StringVar(&c.addr, "addr", env("REMLA_ADDR", ":8080"), "address to listen on, host:port (env REMLA_ADDR)")
	fs.StringVar(&c.color, "color", env("REMLA_COLOR", "blue"), "deployment color this server runs as, e.g. blue or green (env REMLA_COLOR)")
	fs.StringVar(&c.dbPath, "feedback-db", env("REMLA_FEEDBACK_DB", "feedback.db"), "SQLite file that keeps user feedback, when -feedback-dsn is not set (env REMLA_FEEDBACK_DB)")
	fs.StringVar(&c.dsn, "feedback-dsn", env("REMLA_FEEDBACK_DSN", ""), "PostgreSQL that keeps user feedback, shared by every replica: postgres://user:password@host:5432/db?sslmode=... (env REMLA_FEEDBACK_DSN)")
	fs.StringVar(&c.keyFile, "signing-key-file", env("REMLA_SIGNING_KEY_FILE", ""), "file of prediction-id signing keys, one a line, the first signs; every replica needs the same (env REMLA_SIGNING_KEY_FILE, or the keys themselves in REMLA_SIGNING_KEY); with SQLite and neither, one is generated beside the database")
	fs.DurationVar(&c.retention, "feedback-retention", envDuration("REMLA_FEEDBACK_RETENTION", app.DefaultRetention), "how long after a prediction its answer is taken (env REMLA_FEEDBACK_RETENTION)")
	fs.StringVar(&c.logLevel, "log-level", env("REMLA_LOG_LEVEL", "info"), "debug, info, warn or error (env REMLA_LOG_LEVEL); debug logs every request")
	fs.StringVar(&c.logFormat, "log-format", env("REMLA_LOG_FORMAT", "auto"), "text, json, or auto: text on a terminal, JSON otherwise (env REMLA_LOG_FORMAT)")
	fs.DurationVar(&c.grace, "shutdown-grace", 20*time.Second, "how long in-flight requests may take to finish on SIGTERM")
	if err := errors.Join(envErrs...); err != nil {
		return nil, err
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q; all settings are flags, see remla-app -h", fs.Arg(0))
	}
	if err := app.CheckColor(c.color); err != nil {
		return nil, fmt.Errorf("-color: %w", err)
	}
	if c.retention < time.Hour {
		return nil, fmt.Errorf("-feedback-retention %s: give at least 1h (the default is %s, 30 days)", c.retention, app.DefaultRetention)
	}
	c.release = getenv("REMLA_VERSION")
	return &c, nil
}

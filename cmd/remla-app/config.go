package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
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
	rateLimit app.RateLimit
	proxies   []string
	origins   []string
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
	envFloat := func(key string, def float64) float64 {
		v, err := strconv.ParseFloat(env(key, fmt.Sprint(def)), 64)
		if err != nil {
			envErrs = append(envErrs, fmt.Errorf("%s: want a number: %w", key, err))
		}
		return v
	}
	envInt := func(key string, def int) int {
		v, err := strconv.Atoi(env(key, strconv.Itoa(def)))
		if err != nil {
			envErrs = append(envErrs, fmt.Errorf("%s: want a whole number: %w", key, err))
		}
		return v
	}
	envDuration := func(key string, def time.Duration) time.Duration {
		v, err := time.ParseDuration(env(key, def.String()))
		if err != nil {
			envErrs = append(envErrs, fmt.Errorf("%s: want a duration such as 720h: %w", key, err))
		}
		return v
	}
	envBool := func(key string) bool {
		v, err := strconv.ParseBool(env(key, "false"))
		if err != nil {
			envErrs = append(envErrs, fmt.Errorf("%s: want true or false: %w", key, err))
		}
		return v
	}
	var c config
	var proxies, origins string
	rl := app.DefaultRateLimit
	fs := flag.NewFlagSet("remla-app", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.modelPath, "model", env("REMLA_MODEL", "models/latest.model"), "model file to serve (env REMLA_MODEL)")
	fs.StringVar(&c.addr, "addr", env("REMLA_ADDR", ":8080"), "address to listen on, host:port (env REMLA_ADDR)")
	fs.StringVar(&c.color, "color", env("REMLA_COLOR", "blue"), "deployment color this server runs as, e.g. blue or green (env REMLA_COLOR)")
	fs.StringVar(&c.dbPath, "feedback-db", env("REMLA_FEEDBACK_DB", "feedback.db"), "SQLite file that keeps user feedback, when -feedback-dsn is not set (env REMLA_FEEDBACK_DB)")
	fs.StringVar(&c.dsn, "feedback-dsn", env("REMLA_FEEDBACK_DSN", ""), "PostgreSQL that keeps user feedback, shared by every replica: postgres://user:password@host:5432/db?sslmode=... (env REMLA_FEEDBACK_DSN)")
	fs.StringVar(&c.keyFile, "signing-key-file", env("REMLA_SIGNING_KEY_FILE", ""), "file of prediction-id signing keys, one a line, the first signs; every replica needs the same (env REMLA_SIGNING_KEY_FILE, or the keys themselves in REMLA_SIGNING_KEY); with SQLite and neither, one is generated beside the database")
	fs.DurationVar(&c.retention, "feedback-retention", envDuration("REMLA_FEEDBACK_RETENTION", app.DefaultRetention), "how long after a prediction its answer is taken (env REMLA_FEEDBACK_RETENTION)")
	fs.Float64Var(&rl.Predict.Rate, "rate-limit-predict", envFloat("REMLA_RATE_LIMIT_PREDICT", rl.Predict.Rate), "predictions a second one client may make on average, 0 for no limit (env REMLA_RATE_LIMIT_PREDICT)")
	fs.IntVar(&rl.Predict.Burst, "rate-limit-predict-burst", envInt("REMLA_RATE_LIMIT_PREDICT_BURST", rl.Predict.Burst), "predictions one client may make at once (env REMLA_RATE_LIMIT_PREDICT_BURST)")
	fs.Float64Var(&rl.Feedback.Rate, "rate-limit-feedback", envFloat("REMLA_RATE_LIMIT_FEEDBACK", rl.Feedback.Rate), "answers a second one client may give on average, 0 for no limit (env REMLA_RATE_LIMIT_FEEDBACK)")
	fs.IntVar(&rl.Feedback.Burst, "rate-limit-feedback-burst", envInt("REMLA_RATE_LIMIT_FEEDBACK_BURST", rl.Feedback.Burst), "answers one client may give at once (env REMLA_RATE_LIMIT_FEEDBACK_BURST)")
	fs.BoolVar(&rl.Loopback, "rate-limit-loopback", envBool("REMLA_RATE_LIMIT_LOOPBACK"), "limit clients on loopback too; they are exempt by default (env REMLA_RATE_LIMIT_LOOPBACK)")
	fs.StringVar(&proxies, "trusted-proxies", env("REMLA_TRUSTED_PROXIES", ""), "comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For names the client (env REMLA_TRUSTED_PROXIES)")
	fs.StringVar(&origins, "trusted-origins", env("REMLA_TRUSTED_ORIGINS", ""), "comma-separated origins (scheme://host[:port]) whose pages may post the forms besides this server's own (env REMLA_TRUSTED_ORIGINS)")
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
	if rl.Predict.Rate < 0 || rl.Feedback.Rate < 0 || rl.Predict.Burst < 1 || rl.Feedback.Burst < 1 {
		return nil, errors.New("-rate-limit-*: rates must be 0 (no limit) or more, bursts 1 or more")
	}
	c.rateLimit = rl
	c.proxies, c.origins = list(proxies), list(origins)
	c.release = getenv("REMLA_VERSION")
	return &c, nil
}

// list splits a comma-separated setting.
func list(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

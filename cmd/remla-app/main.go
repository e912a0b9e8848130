// Command remla-app serves the tagging page, the JSON API and /metrics.
//
//	remla-app -model models/latest.model -addr localhost:8080 -color blue -feedback-db .run/feedback.db
//
// Every flag can also be set from the environment: REMLA_MODEL, REMLA_ADDR,
// REMLA_COLOR, REMLA_FEEDBACK_DB, REMLA_LOG_LEVEL, REMLA_LOG_FORMAT. A flag
// wins over its variable. REMLA_VERSION (set by the Helm chart) is reported
// as "release" by /version. SIGTERM or SIGINT shuts the server down
// gracefully: in-flight requests finish, the feedback store is flushed, and
// the exit code is 0.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/remla/tagger/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := app.Main(ctx, os.Args[1:], os.Getenv, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "remla-app: %v\n", err)
		os.Exit(1)
	}
}

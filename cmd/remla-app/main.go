// Command remla-app serves the tagging page, the JSON API and /metrics.
//
//	remla-app -model models/latest.model -addr localhost:8080 -color blue -feedback-db .run/feedback.db
//
// Every flag can also be set from the environment (config.go lists them); a
// flag wins over its variable. SIGTERM or SIGINT shuts the server down
// gracefully: in-flight requests finish, the feedback store is flushed, and
// the exit code is 0.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(os.Stderr, "remla-app: %v\n", err)
		os.Exit(1)
	}
}

// run is the whole program: settings (config.go), then the server they
// describe (serve.go), until ctx ends.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	return serve(ctx, cfg, getenv, stderr)
}

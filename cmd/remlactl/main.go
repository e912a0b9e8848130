// Command remlactl deploys the REMLA tag predictor blue-green on Kubernetes:
// init, deploy, switch, rollback, undeploy, status, history and the alert
// actor. See docs/operations.md. Each verb is one file of this package;
// root.go holds the common flags and exit codes, explain.go the error
// lines, interrupt.go what Ctrl-C does.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	ctx, stop := interruptible(context.Background(), sigs, os.Stderr, os.Exit)
	code := execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

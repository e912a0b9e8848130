// Command remlactl deploys the REMLA tag predictor blue-green on Kubernetes:
// init, deploy, switch, undeploy, status, history and the alert actor. See
// docs/operations.md. Each verb is one file of this package; root.go holds
// the common flags, exit codes and error explanation.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

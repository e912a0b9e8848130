// Command remlactl deploys the REMLA tag predictor blue-green on Kubernetes:
// init, deploy, switch, undeploy, status and history. See docs/operations.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/remla/tagger/deployer/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

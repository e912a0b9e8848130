// Command remla-cluster starts and stops the Kubernetes cluster of the
// end-to-end tests. test/cluster/cluster.sh runs it; see docs/testing.md.
//
//	remla-cluster up -bin BIN_DIR [-kwok] DIR
//	remla-cluster down DIR
//	remla-cluster status DIR
//	remla-cluster check DIR
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/remla/tagger/test/cluster/controlplane"
)

const usage = `usage:
  remla-cluster up -bin BIN_DIR [-kwok] DIR   start a cluster in DIR with the machine's real node
                                              (kwok's fake node with -kwok), or reuse the healthy one there
  remla-cluster down DIR                      stop the cluster in DIR and remove what its node left
  remla-cluster status DIR                    exit 0 when the cluster in DIR is healthy
  remla-cluster check DIR                     exit 0 when the real node of DIR left nothing on the machine`

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "remla-cluster:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 1 {
		return fmt.Errorf("missing command\n%s", usage)
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	bin := fs.String("bin", "", "directory holding the binaries built by test/cluster/build.sh")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up starting after this long")
	kwok := fs.Bool("kwok", false, "run kwok's fake node instead of the machine's real node (no container runs)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("want exactly one run directory\n%s", usage)
	}
	dir, err := filepath.Abs(fs.Arg(0))
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch args[0] {
	case "up":
		if *bin == "" {
			return fmt.Errorf("up needs -bin (test/cluster/build.sh prints it)\n%s", usage)
		}
		ctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		if _, err := controlplane.Up(ctx, controlplane.Options{Dir: dir, BinDir: *bin, RealNode: !*kwok, Log: os.Stderr}); err != nil {
			return err
		}
		fmt.Printf("export REMLA_TEST_KUBECONFIG=%s\n", controlplane.KubeconfigPath(dir))
		return nil
	case "down":
		return controlplane.Down(ctx, dir, os.Stderr)
	case "check":
		left, err := controlplane.Leftovers(ctx, dir)
		if err != nil {
			return err
		}
		if len(left) > 0 {
			return fmt.Errorf("the real node of %s left on this machine:\n  %s", dir, strings.Join(left, "\n  "))
		}
		fmt.Println("nothing left on the machine by the node of", dir)
		return nil
	case "status":
		st, err := controlplane.Status(ctx, dir)
		if st != nil {
			fmt.Printf("server %s, started %s\n", st.Server, st.Started.Format(time.RFC3339))
			for _, p := range st.Processes {
				fmt.Printf("  %-24s pid %d\n", p.Name, p.PID)
			}
		}
		if err != nil {
			return fmt.Errorf("not healthy: %w", err)
		}
		fmt.Println("healthy; kubeconfig", controlplane.KubeconfigPath(dir))
		return nil
	default:
		return fmt.Errorf("unknown command %q\n%s", args[0], usage)
	}
}

// Command pause is the sandbox ("pause") process of the test cluster's real
// node: containerd starts one per pod to hold its namespaces. It does what
// Kubernetes' pause does: sleep until SIGINT or SIGTERM, and reap the zombies
// of a pod that shares its process namespace. test/cluster/build.sh builds it
// statically and packs it as the node's sandbox image; no registry is needed.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range sigs {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var ws syscall.WaitStatus
			if pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil); pid <= 0 || err != nil {
				break
			}
		}
	}
}

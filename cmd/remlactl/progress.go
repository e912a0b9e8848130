package main

import (
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/remla/tagger/cmd/internal/logging"
	"github.com/remla/tagger/deployer"
)

// progressPrinter shows a rollout as one live line on a terminal, and as a
// log line per change of state otherwise.
// The second function ends an unfinished live line.
func progressPrinter(w io.Writer, log *slog.Logger) (func(deployer.Progress), func()) {
	tty := logging.IsTerminal(w)
	var last string
	open := false
	end := func() {
		if open {
			fmt.Fprintln(w)
			open = false
		}
	}
	return func(p deployer.Progress) {
		line := fmt.Sprintf("%s %s: ready %d/%d, updated %d, available %d", p.Color, p.Version, p.Ready, p.Desired, p.Updated, p.Available)
		if tty {
			fmt.Fprintf(w, "\r\033[K%s, %s (%s)", line, p.Elapsed.Round(time.Second), p.Message)
			open = true
			if p.Done {
				end()
			}
			return
		}
		if line != last {
			log.Info("rollout", "color", p.Color, "version", p.Version, "ready", p.Ready, "desired", p.Desired,
				"updated", p.Updated, "available", p.Available, "elapsed", p.Elapsed.Round(time.Millisecond), "status", p.Message)
			last = line
		}
	}, end
}

package main

import (
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/remla/tagger/cmd/internal/progress"
	"github.com/remla/tagger/deployer"
)

// progressPrinter shows a rollout as one live line on a terminal, and as a
// log line per change of state otherwise.
// The second function ends an unfinished live line.
func progressPrinter(w io.Writer, log *slog.Logger) (func(deployer.Progress), func()) {
	line := progress.New(w)
	var last string
	return func(p deployer.Progress) {
		counts := fmt.Sprintf("%s %s: ready %d/%d, updated %d, available %d", p.Color, p.Version, p.Ready, p.Desired, p.Updated, p.Available)
		if line.Live() {
			line.Draw("%s, %s (%s)", counts, p.Elapsed.Round(time.Second), p.Message)
			if p.Done {
				line.End()
			}
			return
		}
		if counts != last {
			log.Info("rollout", "color", p.Color, "version", p.Version, "ready", p.Ready, "desired", p.Desired,
				"updated", p.Updated, "available", p.Available, "elapsed", p.Elapsed.Round(time.Millisecond), "status", p.Message)
			last = counts
		}
	}, line.End
}

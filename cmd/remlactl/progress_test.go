package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/remla/tagger/deployer"
)

// TestProgressOffTerminal: off a terminal, progress is one log line per
// change, with no carriage returns or escape codes.
func TestProgressOffTerminal(t *testing.T) {
	var out bytes.Buffer
	p, end := progressPrinter(&out, slog.New(slog.NewTextHandler(&out, nil)))
	steps := []deployer.Progress{
		{Color: deployer.Green, Version: "2", Desired: 2, Message: "waiting"},
		{Color: deployer.Green, Version: "2", Desired: 2, Message: "waiting", Elapsed: time.Second},
		{Color: deployer.Green, Version: "2", Ready: 1, Updated: 2, Available: 1, Desired: 2, Message: "1 of 2 updated replicas are available"},
		{Color: deployer.Green, Version: "2", Ready: 2, Updated: 2, Available: 2, Desired: 2, Message: "successfully rolled out", Done: true},
	}
	for _, s := range steps {
		p(s)
	}
	end()
	got := out.String()
	if n := strings.Count(got, "msg=rollout"); n != 3 {
		t.Errorf("%d log lines, want 3 (one per change):\n%s", n, got)
	}
	if strings.ContainsAny(got, "\r\x1b") {
		t.Errorf("terminal control characters off a terminal: %q", got)
	}
	if !strings.Contains(got, "ready=2 desired=2") {
		t.Errorf("last line lacks the final counts:\n%s", got)
	}
}

package main

import (
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/remla/tagger/cmd/internal/progress"
	"github.com/remla/tagger/training"
)

// fitProgress shows the fit of each stage as a bar on a terminal and as a
// log line per tenth of the tags otherwise.
type fitProgress struct {
	line *progress.Line
	log  *slog.Logger

	mu     sync.Mutex
	stage  string
	start  time.Time
	decile int
}

func newFitProgress(line *progress.Line, log *slog.Logger) *fitProgress {
	return &fitProgress{line: line, log: log}
}

// update is training.Options.Progress.
func (p *fitProgress) update(s training.Stage) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s.Name != p.stage {
		p.line.End()
		p.stage, p.start, p.decile = s.Name, time.Now(), -1
	}
	el := time.Since(p.start)
	var eta time.Duration
	if s.Done > 0 {
		eta = time.Duration(float64(el) * float64(s.Total-s.Done) / float64(s.Done))
	}
	label := stageLabel(s.Name)
	if p.line.Live() {
		const width = 30
		n := width * s.Done / s.Total
		p.line.Draw("%-15s [%s%s] %3d/%d tags  elapsed %5.1fs  ETA %5.1fs", label,
			strings.Repeat("█", n), strings.Repeat("░", width-n), s.Done, s.Total, el.Seconds(), eta.Seconds())
		return
	}
	if d := 10 * s.Done / s.Total; d != p.decile {
		p.decile = d
		p.log.Info("tags fitted", "stage", label, "done", s.Done, "total", s.Total,
			"elapsed", el.Round(time.Millisecond), "eta", eta.Round(time.Millisecond))
	}
}

// stageLabel names a stage of training.Train for a person.
func stageLabel(name string) string {
	switch {
	case name == "fit":
		return "final fit"
	case strings.HasPrefix(name, "tune"):
		return "fit to tune" + strings.TrimPrefix(name, "tune")
	}
	return name
}

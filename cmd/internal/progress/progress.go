// Package progress is the live status line of the REMLA command-line tools:
// remlactl's rollout line and remla-train's fitting bar. On a terminal a
// line is redrawn in place; off a terminal (a CI job, a pipe, a pod) a Line
// draws nothing and its caller logs one line per change instead, so the
// output is the same structured log the rest of the run writes.
package progress

import (
	"fmt"
	"io"
	"sync"

	"github.com/remla/tagger/cmd/internal/logging"
)

// Line is one status line redrawn in place on a terminal. It is safe for
// concurrent use: training reports progress from its worker goroutines.
type Line struct {
	w    io.Writer
	live bool

	mu   sync.Mutex
	open bool
}

// New returns the line for w, live if w is a terminal.
func New(w io.Writer) *Line {
	return &Line{w: w, live: logging.IsTerminal(w)}
}

// Live tells whether the line is drawn; when it is not, the caller logs.
func (l *Line) Live() bool { return l.live }

// Draw replaces the line with the formatted text; off a terminal it does
// nothing.
func (l *Line) Draw(format string, args ...any) {
	if !l.live {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "\r\033[K"+format, args...)
	l.open = true
}

// End finishes a drawn line, so that what is written next starts on a line
// of its own. It may be called any number of times.
func (l *Line) End() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open {
		fmt.Fprintln(l.w)
		l.open = false
	}
}

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/remla/tagger/deployer"
)

// ExitInterrupted is the exit code of a second interrupt (128 + SIGINT).
const ExitInterrupted = 130

// inflight collects the Deployers a run made, so a second interrupt can
// say what each leaves behind.
type inflight struct {
	mu sync.Mutex
	ds []*deployer.Deployer
}

type inflightKey struct{}

// track registers d with the run's inflight set, if the context has one.
func track(ctx context.Context, d *deployer.Deployer) {
	if f, ok := ctx.Value(inflightKey{}).(*inflight); ok {
		f.mu.Lock()
		f.ds = append(f.ds, d)
		f.mu.Unlock()
	}
}

func (f *inflight) pending() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, d := range f.ds {
		out = append(out, d.Pending()...)
	}
	return out
}

// interruptible returns a context that the first signal on sigs cancels,
// so the command stops cleanly (traffic untouched, the Lease released). A
// second signal exits at once with ExitInterrupted, saying what may be left
// behind. stop ends the watch.
func interruptible(parent context.Context, sigs <-chan os.Signal, stderr io.Writer, exit func(int)) (context.Context, func()) {
	f := &inflight{}
	ctx, cancel := context.WithCancelCause(context.WithValue(parent, inflightKey{}, f))
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			fmt.Fprintf(stderr, "\nremlactl: %s: stopping (interrupt again to exit at once)\n", s)
			cancel(fmt.Errorf("interrupted by %s", s))
		case <-done:
			return
		}
		select {
		case <-sigs:
			left := f.pending()
			if len(left) == 0 {
				fmt.Fprintln(stderr, "remlactl: interrupted again: exiting now; nothing was in flight")
			} else {
				fmt.Fprintf(stderr, "remlactl: interrupted again: exiting now; left behind: %s\n", strings.Join(left, "; "))
			}
			exit(ExitInterrupted)
		case <-done:
		}
	}()
	return ctx, func() { close(done); cancel(nil) }
}

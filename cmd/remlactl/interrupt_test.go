package main

import (
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// lines is a writer that hands each write to the test.
type lines chan string

func (l lines) Write(p []byte) (int, error) {
	l <- string(p)
	return len(p), nil
}

func (l lines) next(t *testing.T) string {
	t.Helper()
	select {
	case s := <-l:
		return s
	case <-time.After(5 * time.Second):
		t.Fatal("nothing written in 5 s")
		return ""
	}
}

// TestInterruptTwice: the first signal cancels the run's context; the
// second exits at once with 130 and says that nothing was in flight. The
// binary test on the cluster (TestSecondInterruptSaysWhatIsLeft) covers a
// held Lease.
func TestInterruptTwice(t *testing.T) {
	sigs := make(chan os.Signal, 2)
	stderr := make(lines, 4)
	exited := make(chan int, 1)
	ctx, stop := interruptible(context.Background(), sigs, stderr, func(code int) { exited <- code })
	defer stop()
	sigs <- syscall.SIGINT
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the first signal did not cancel the context")
	}
	if l := stderr.next(t); !strings.Contains(l, "interrupt again to exit at once") {
		t.Errorf("stderr after the first signal: %q", l)
	}
	sigs <- syscall.SIGINT
	select {
	case code := <-exited:
		if l := stderr.next(t); code != ExitInterrupted || !strings.Contains(l, "exiting now; nothing was in flight") {
			t.Errorf("exit %d, stderr %q", code, l)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the second signal did not exit")
	}
}

// TestStopEndsTheWatch: after stop, signals are not acted on.
func TestStopEndsTheWatch(t *testing.T) {
	sigs := make(chan os.Signal, 2)
	ctx, stop := interruptible(context.Background(), sigs, make(lines, 4), func(int) { t.Error("exited after stop") })
	stop()
	sigs <- syscall.SIGTERM
	time.Sleep(50 * time.Millisecond)
	if context.Cause(ctx) != context.Canceled {
		t.Errorf("cause %v, want a plain cancel from stop", context.Cause(ctx))
	}
}

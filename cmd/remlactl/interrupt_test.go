package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the signal goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestInterruptTwice: the first signal cancels the run's context; the
// second exits at once with 130 and says that nothing was in flight. The
// binary test on the cluster (TestSecondInterruptSaysWhatIsLeft) covers a
// held Lease.
func TestInterruptTwice(t *testing.T) {
	sigs := make(chan os.Signal, 2)
	var stderr syncBuffer
	exited := make(chan int, 1)
	ctx, stop := interruptible(context.Background(), sigs, &stderr, func(code int) { exited <- code })
	defer stop()
	sigs <- syscall.SIGINT
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the first signal did not cancel the context")
	}
	if !strings.Contains(stderr.String(), "interrupt again to exit at once") {
		t.Errorf("stderr after the first signal: %q", stderr.String())
	}
	sigs <- syscall.SIGINT
	select {
	case code := <-exited:
		if code != ExitInterrupted || !strings.Contains(stderr.String(), "exiting now; nothing was in flight") {
			t.Errorf("exit %d, stderr %q", code, stderr.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the second signal did not exit")
	}
}

// TestStopEndsTheWatch: after stop, signals are not acted on.
func TestStopEndsTheWatch(t *testing.T) {
	sigs := make(chan os.Signal, 2)
	ctx, stop := interruptible(context.Background(), sigs, &syncBuffer{}, func(int) { t.Error("exited after stop") })
	stop()
	sigs <- syscall.SIGTERM
	time.Sleep(50 * time.Millisecond)
	if context.Cause(ctx) != context.Canceled {
		t.Errorf("cause %v, want a plain cancel from stop", context.Cause(ctx))
	}
}

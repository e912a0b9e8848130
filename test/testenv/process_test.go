package testenv

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestProcessExitCodeAndLogs(t *testing.T) {
	p := Start(t, "shell", exec.Command("sh", "-c", "echo out; echo err >&2; exit 3"))
	if code := p.Wait(t, 10*time.Second); code != 3 {
		t.Fatalf("exit code %d, want 3", code)
	}
	if !p.Exited() {
		t.Error("Exited is false after Wait")
	}
	var ee *exec.ExitError
	if !errors.As(p.Err(), &ee) {
		t.Errorf("Err = %v, want an exit error", p.Err())
	}
	if logs := p.Logs(); logs != "out\nerr\n" {
		t.Errorf("logs %q, want stdout and stderr in order", logs)
	}
	if tail := p.Tail(1); tail != "err" {
		t.Errorf("Tail(1) = %q, want the last line", tail)
	}
}

func TestProcessOutputElsewhere(t *testing.T) {
	cmd := exec.Command("sh", "-c", "echo out; echo err >&2")
	var out strings.Builder
	cmd.Stdout = &out
	p := Start(t, "split", cmd)
	if code := p.Wait(t, 10*time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if out.String() != "out\n" || p.Logs() != "err\n" {
		t.Fatalf("stdout %q, log %q; want out in the caller's writer and only err in the log", out.String(), p.Logs())
	}
}

func TestProcessStop(t *testing.T) {
	t.Run("SIGTERM", func(t *testing.T) {
		p := Start(t, "sleeper", exec.Command("sleep", "60"))
		p.Stop()
		var ee *exec.ExitError
		if !errors.As(p.Err(), &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM {
			t.Fatalf("Err = %v, want death by SIGTERM", p.Err())
		}
	})
	t.Run("SIGKILL when SIGTERM is ignored", func(t *testing.T) {
		defer func(g time.Duration) { stopGrace = g }(stopGrace)
		stopGrace = 300 * time.Millisecond
		p := Start(t, "stubborn", exec.Command("sh", "-c", `trap "" TERM; echo trapped; while :; do sleep 0.1; done`))
		WaitFor(t, "the trap", 10*time.Second, 10*time.Millisecond, []*Process{p}, func() (bool, error) {
			return strings.Contains(p.Logs(), "trapped"), nil
		})
		start := time.Now()
		p.Stop()
		var ee *exec.ExitError
		if !errors.As(p.Err(), &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("Err = %v, want death by SIGKILL", p.Err())
		}
		if d := time.Since(start); d < stopGrace {
			t.Errorf("killed after %s, before the grace of %s", d, stopGrace)
		}
	})
}

func TestWaitFor(t *testing.T) {
	t.Run("holds", func(t *testing.T) {
		n := 0
		r := run(t, func(tb testing.TB) {
			WaitFor(tb, "the third call", 10*time.Second, time.Millisecond, nil, func() (bool, error) { n++; return n == 3, nil })
		})
		if r.fatal || n != 3 {
			t.Fatalf("fatal %v (%q) after %d calls, want success on the third", r.fatal, r.errors, n)
		}
	})
	t.Run("times out with the last error", func(t *testing.T) {
		r := run(t, func(tb testing.TB) {
			WaitFor(tb, "never", 50*time.Millisecond, 5*time.Millisecond, nil, func() (bool, error) { return false, errors.New("not yet") })
		})
		if !r.fatal || !strings.Contains(strings.Join(r.errors, ""), "not yet") {
			t.Fatalf("fatal %v, %q; want a failure quoting the last error", r.fatal, r.errors)
		}
	})
	t.Run("what a process did before it exited counts", func(t *testing.T) {
		p := Start(t, "sayer", exec.Command("sh", "-c", "echo done"))
		<-p.Done()
		r := run(t, func(tb testing.TB) {
			WaitFor(tb, "its word", time.Second, 5*time.Millisecond, []*Process{p}, func() (bool, error) {
				return strings.Contains(p.Logs(), "done"), nil
			})
		})
		if r.fatal {
			t.Fatalf("failed: %q; the output came before the exit", r.errors)
		}
	})
	t.Run("a watched process exits", func(t *testing.T) {
		p := Start(t, "quitter", exec.Command("sh", "-c", "echo bye; exit 1"))
		r := run(t, func(tb testing.TB) {
			WaitFor(tb, "never", time.Minute, 5*time.Millisecond, []*Process{p}, func() (bool, error) { return false, nil })
		})
		msg := strings.Join(r.errors, "")
		if !r.fatal || !strings.Contains(msg, "quitter exited") || !strings.Contains(msg, "bye") {
			t.Fatalf("fatal %v, %q; want a failure naming the process and its log", r.fatal, r.errors)
		}
	})
}

func TestHTTPOK(t *testing.T) {
	var healthy atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !healthy.Load() {
			http.Error(w, "starting", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	ok, err := HTTPOK(srv.URL)()
	if ok || err == nil || !strings.Contains(err.Error(), "starting") {
		t.Fatalf("on 503: %v, %v; want false and an error quoting the body", ok, err)
	}
	healthy.Store(true)
	if ok, err := HTTPOK(srv.URL)(); !ok || err != nil {
		t.Fatalf("on 200: %v, %v", ok, err)
	}
}

func TestFreeAddr(t *testing.T) {
	addr := FreeAddr(t)
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("%s is not on loopback", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("the free address cannot be listened on: %v", err)
	}
	ln.Close()
}

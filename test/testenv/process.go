package testenv

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// stopGrace is how long Stop waits after SIGTERM before it kills (a
// variable so that its test need not wait that long).
var stopGrace = 10 * time.Second

// Process is a program a test started, its output in a log file. It is
// stopped, by its PID, when the test ends; when the test failed, the log's
// last lines are printed.
type Process struct {
	// Name names the process in messages and its log file.
	Name string
	// LogPath is the file that holds its standard output and error.
	LogPath string

	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// Start starts cmd, which the caller has set up (path, arguments, Env,
// Dir, SysProcAttr). Its standard output and error go to the log, each
// unless the caller sent it elsewhere.
func Start(t testing.TB, name string, cmd *exec.Cmd) *Process {
	t.Helper()
	p := &Process{Name: name, LogPath: filepath.Join(t.TempDir(), name+".log"), cmd: cmd, done: make(chan struct{})}
	f, err := os.Create(p.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	if cmd.Stdout == nil {
		cmd.Stdout = f
	}
	if cmd.Stderr == nil {
		cmd.Stderr = f
	}
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	t.Logf("started %s (pid %d): %s", name, cmd.Process.Pid, strings.Join(cmd.Args, " "))
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("--- last lines of %s (%s) ---\n%s", name, p.LogPath, p.Tail(40))
		}
	})
	return p
}

// Pid is the process's ID.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Signal sends sig to the process.
func (p *Process) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited says whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Err is what waiting for the process returned (nil for exit code 0); it
// is meaningful once Done is closed.
func (p *Process) Err() error {
	<-p.done
	return p.err
}

// Wait waits up to timeout for the process to exit and returns its exit
// code (-1 when a signal ended it); it fails the test if the process is
// still running then.
func (p *Process) Wait(t testing.TB, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(timeout):
		t.Fatalf("%s did not exit within %s; last lines:\n%s", p.Name, timeout, p.Tail(30))
		return -1
	}
}

// Stop sends SIGTERM, and SIGKILL if the process has not exited
// stopGrace later, and waits for it.
func (p *Process) Stop() {
	if p.Exited() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopGrace):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// Logs is all the process has written so far.
func (p *Process) Logs() string {
	b, err := os.ReadFile(p.LogPath)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// Tail is the last n lines of the log.
func (p *Process) Tail(n int) string {
	lines := strings.Split(strings.TrimRight(p.Logs(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// WaitFor polls cond every interval until it holds, and fails the test
// when timeout passes first or one of the watched processes exits; cond's
// last error is in the message.
func WaitFor(t testing.TB, what string, timeout, interval time.Duration, watch []*Process, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for {
		// Which process exited is read before cond, so that what a process
		// did just before it exited still counts.
		var exited *Process
		for _, p := range watch {
			if p.Exited() {
				exited = p
				break
			}
		}
		ok, err := cond()
		if ok {
			return
		}
		if exited != nil {
			t.Fatalf("waiting for %s: %s exited (%v); last lines:\n%s", what, exited.Name, exited.err, exited.Tail(30))
		}
		if err != nil {
			last = err
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: not after %s (last error: %v)", what, timeout, last)
		}
		time.Sleep(interval)
	}
}

// FreeAddr returns 127.0.0.1:<a port free right now>.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

var httpClient = &http.Client{Timeout: 5 * time.Second}

// Get returns the body of a 200 answer to GET url; any other status is an
// error that quotes the body.
func Get(ctx context.Context, url string) ([]byte, error) {
	return get(ctx, httpClient, url)
}

func get(ctx context.Context, client *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return b, fmt.Errorf("GET %s: %s: %s", url, resp.Status, bytes.TrimSpace(b))
	}
	return b, nil
}

// HTTPOK is a WaitFor condition: GET url answers 200.
func HTTPOK(url string) func() (bool, error) {
	return func() (bool, error) {
		_, err := Get(context.Background(), url)
		return err == nil, err
	}
}

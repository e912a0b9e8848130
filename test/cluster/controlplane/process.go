package controlplane

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Proc is a component process as recorded in the run directory's state.
type Proc struct {
	Name string `json:"name"`
	PID  int    `json:"pid"`
	// StartTicks is the process start time from /proc/PID/stat, so that a PID
	// reused by another process is never taken for ours.
	StartTicks uint64   `json:"startTicks"`
	Log        string   `json:"log"`
	Args       []string `json:"args"`
}

// running is a component started by this process: it can be waited for.
type running struct {
	Proc
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited and been reaped
	err  error         // the exit status, once done is closed
}

// start launches bin with args as a detached process (its own session, stdin
// from /dev/null, stdout and stderr appended to logPath), so that it outlives
// the command that started it and no terminal signal reaches it.
func start(name, bin string, args []string, logPath string) (*running, error) {
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("%s binary: %w; build it with test/cluster/build.sh (make cluster-build)", name, err)
	}
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open %s log: %w", name, err)
	}
	defer logf.Close() // the child has its own descriptor
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	r := &running{
		Proc: Proc{Name: name, PID: cmd.Process.Pid, Log: logPath, Args: append([]string{bin}, args...)},
		cmd:  cmd,
		done: make(chan struct{}),
	}
	if st, err := readStat(r.PID); err == nil {
		r.StartTicks = st.startTicks
	}
	go func() {
		r.err = cmd.Wait()
		close(r.done)
	}()
	return r, nil
}

// exited reports whether the process has ended, with a message holding the
// tail of its log.
func (r *running) exited() error {
	select {
	case <-r.done:
		return fmt.Errorf("%s exited (%v); last lines of %s:\n%s", r.Name, r.err, r.Log, tail(r.Log, 25))
	default:
		return nil
	}
}

// procStat is what we need of /proc/PID/stat.
type procStat struct {
	state      byte
	startTicks uint64
}

func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return procStat{}, err
	}
	return parseStat(b)
}

// parseStat reads the state (field 3) and start time (field 22) from the text
// of /proc/PID/stat. The command name (field 2) is in parentheses and may
// itself contain spaces and parentheses, so fields are counted from the last ')'.
func parseStat(b []byte) (procStat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("malformed /proc stat %q", b)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 || len(f[0]) != 1 {
		return procStat{}, fmt.Errorf("malformed /proc stat %q", b)
	}
	ticks, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return procStat{}, fmt.Errorf("malformed start time in /proc stat %q: %w", b, err)
	}
	return procStat{state: f[0][0], startTicks: ticks}, nil
}

// alive reports whether p is still the process that was started and has not
// exited. A zombie (state Z, or X) has exited: it only waits to be reaped by
// its parent, which after the starting command exits is PID 1 or a
// subreaper that may never do it.
func alive(p Proc) bool {
	st, err := readStat(p.PID)
	if err != nil {
		return false
	}
	if p.StartTicks != 0 && st.startTicks != p.StartTicks {
		return false // the PID now belongs to another process
	}
	return st.state != 'Z' && st.state != 'X'
}

// stop sends SIGTERM to p, waits up to grace for it to end, then sends SIGKILL
// and waits again. It signals only the recorded PID, and only while that PID
// is still the process that was started.
func stop(p Proc, grace time.Duration) error {
	if !alive(p) {
		return nil
	}
	if err := syscall.Kill(p.PID, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop %s (pid %d): %w", p.Name, p.PID, err)
	}
	if waitDead(p, grace) {
		return nil
	}
	if !alive(p) {
		return nil
	}
	if err := syscall.Kill(p.PID, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill %s (pid %d): %w", p.Name, p.PID, err)
	}
	if waitDead(p, 5*time.Second) {
		return nil
	}
	return fmt.Errorf("%s (pid %d) is still running after SIGKILL", p.Name, p.PID)
}

func waitDead(p Proc, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if !alive(p) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return !alive(p)
}

// tail returns the last n lines of the file at path.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "    " + strings.Join(lines, "\n    ")
}

// liveProcs lists the live (non-zombie) processes whose arguments match,
// named by their first argument, with every argument in Args.
func liveProcs(match func(args []string) bool) []Proc {
	entries, _ := os.ReadDir("/proc")
	var found []Proc
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(b) == 0 {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if !match(args) {
			continue
		}
		if st, err := readStat(pid); err == nil && st.state != 'Z' && st.state != 'X' {
			found = append(found, Proc{Name: filepath.Base(args[0]), PID: pid, StartTicks: st.startTicks, Args: args})
		}
	}
	return found
}

// processesMentioning lists, as "PID command line", the live processes
// whose command line contains s.
func processesMentioning(s string) []string {
	var found []string
	for _, p := range liveProcs(func(args []string) bool { return strings.Contains(strings.Join(args, " "), s) }) {
		found = append(found, strconv.Itoa(p.PID)+" "+strings.Join(p.Args, " "))
	}
	return found
}

package controlplane

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	tail := " 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 987654 20 21"
	tests := []struct {
		name      string
		stat      string
		wantState byte
		wantTicks uint64
		wantErr   bool
	}{
		{"plain", "42 (etcd) S" + tail, 'S', 987654, false},
		{"zombie", "42 (kwok) Z" + tail, 'Z', 987654, false},
		{"name with spaces and parens", "42 (kube (x) y) R" + tail, 'R', 987654, false},
		{"no parenthesis", "42 etcd S" + tail, 0, 0, true},
		{"truncated", "42 (etcd) S 1 2 3", 0, 0, true},
		{"bad start time", "42 (etcd) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 x 20", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat([]byte(tt.stat))
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseStat error = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && (got.state != tt.wantState || got.startTicks != tt.wantTicks) {
				t.Errorf("parseStat = state %c ticks %d, want %c %d", got.state, got.startTicks, tt.wantState, tt.wantTicks)
			}
		})
	}
}

func TestAliveTreatsZombieAsDead(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := Proc{Name: "true", PID: cmd.Process.Pid}
	// Not reaped yet: once it has exited it is a zombie.
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := readStat(p.PID)
		if err != nil {
			t.Fatalf("read stat of the unreaped child: %v", err)
		}
		if st.state == 'Z' {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("child still in state %c after 5s", st.state)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if alive(p) {
		t.Errorf("alive(zombie) = true, want false")
	}
	if err := stop(p, time.Second); err != nil {
		t.Errorf("stop(zombie) = %v, want nil", err)
	}
	_ = cmd.Wait()
}

func TestStop(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name   string
		script string
	}{
		{"ends on SIGTERM", "exec sleep 60"},
		{"ignores SIGTERM, gets SIGKILL", "trap '' TERM; while :; do :; done"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := start("sh", "/bin/sh", []string{"-c", tt.script}, filepath.Join(dir, "sh.log"))
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond) // let the shell set its trap
			if !alive(r.Proc) {
				t.Fatalf("process %d is not alive after start", r.PID)
			}
			if other := (Proc{PID: r.PID, StartTicks: r.StartTicks + 1}); alive(other) {
				t.Errorf("alive with another start time = true; a reused PID must not count as ours")
			}
			if err := stop(r.Proc, 300*time.Millisecond); err != nil {
				t.Fatalf("stop: %v", err)
			}
			select {
			case <-r.done:
			case <-time.After(5 * time.Second):
				t.Fatalf("process %d did not end", r.PID)
			}
			if alive(r.Proc) {
				t.Errorf("process %d alive after stop", r.PID)
			}
			if err := r.exited(); err == nil {
				t.Errorf("exited() = nil after the process ended")
			}
		})
	}
}

func TestStartMissingBinary(t *testing.T) {
	_, err := start("etcd", filepath.Join(t.TempDir(), "etcd"), nil, os.DevNull)
	if err == nil {
		t.Fatal("start of a missing binary succeeded")
	}
}

func TestTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(path, []byte("a\nb\nc\nd\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, want := tail(path, 2), "    c\n    d"; got != want {
		t.Errorf("tail = %q, want %q", got, want)
	}
}

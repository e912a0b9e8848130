package controlplane

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// binDir returns the directory of the built binaries, skipping the test when
// they have not been built, except under CI.
func binDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("bash", "../build.sh", "--bin-dir").Output()
	if err != nil {
		msg := "the cluster binaries are not built (" + strings.TrimSpace(string(out)) + "); run `make cluster-build` (about 15-30 minutes once)"
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true: " + msg)
		}
		t.Skip(msg)
	}
	return strings.TrimSpace(string(out))
}

// processesIn returns the live (non-zombie) processes whose command line
// mentions dir.
func processesIn(t *testing.T, dir string) []string {
	t.Helper()
	return processesMentioning(dir)
}

// kwokBin returns the bin directory when kwok has been built into it
// (`test/cluster/build.sh --kwok`, or `cluster.sh up --kwok`), and skips the
// test otherwise, also under CI: kwok's fake node is an option of the
// harness that no test of the project needs, so `make test` does not build it.
func kwokBin(t *testing.T) string {
	t.Helper()
	bin := binDir(t)
	if _, err := os.Stat(filepath.Join(bin, Kwok)); err != nil {
		t.Skip("kwok is not built (it is optional): run test/cluster/build.sh --kwok to test the fake node")
	}
	return bin
}

// TestUpReuseRestartDown: up, a second up reuses the cluster, a dead
// component makes it unhealthy and the next up starts afresh, down stops
// everything; with the machine's real node, and with kwok's fake one when
// kwok is built.
func TestUpReuseRestartDown(t *testing.T) {
	t.Run("real node", func(t *testing.T) {
		bin := binDir(t)
		realNodeFree(t)
		upReuseRestartDown(t, bin, true)
	})
	t.Run("kwok", func(t *testing.T) { upReuseRestartDown(t, kwokBin(t), false) })
}

func upReuseRestartDown(t *testing.T, bin string, real bool) {
	dir := t.TempDir()
	var log bytes.Buffer
	o := Options{Dir: dir, BinDir: bin, RealNode: real, Log: &log}
	t.Cleanup(func() {
		if err := Down(context.Background(), dir, nil); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()

	st, err := Up(ctx, o)
	if err != nil {
		t.Fatalf("up: %v\n%s", err, log.String())
	}
	want := components(real)
	if len(st.Processes) != len(want) {
		t.Fatalf("state lists %d processes, want %d", len(st.Processes), len(want))
	}
	for i, p := range st.Processes {
		if p.Name != want[i] || !alive(p) {
			t.Errorf("process %d: %s pid %d alive %v; want %s alive", i, p.Name, p.PID, alive(p), want[i])
		}
	}
	c, err := newClient(KubeconfigPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.usable(ctx, real); err != nil {
		t.Fatalf("cluster not usable after up: %v", err)
	}
	if !strings.HasPrefix(st.Server, "https://127.0.0.1:") || !strings.HasPrefix(st.EtcdURL, "http://127.0.0.1:") {
		t.Errorf("server %s, etcd %s; want both on 127.0.0.1", st.Server, st.EtcdURL)
	}

	again, err := Up(ctx, o)
	if err != nil {
		t.Fatalf("second up: %v", err)
	}
	for i := range st.Processes {
		if again.Processes[i].PID != st.Processes[i].PID {
			t.Errorf("second up started %s anew (pid %d, was %d); want the running cluster reused",
				again.Processes[i].Name, again.Processes[i].PID, st.Processes[i].PID)
		}
	}

	// A component that died (the last: kube-proxy or kwok) makes the
	// cluster unhealthy; up then starts afresh.
	last := st.Processes[len(st.Processes)-1]
	if err := syscall.Kill(last.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if !waitDead(last, 5*time.Second) {
		t.Fatalf("%s did not die", last.Name)
	}
	if _, err := Status(ctx, dir); err == nil {
		t.Errorf("status is healthy with %s dead", last.Name)
	}
	fresh, err := Up(ctx, o)
	if err != nil {
		t.Fatalf("up after %s died: %v\n%s", last.Name, err, log.String())
	}
	for _, p := range st.Processes {
		if alive(p) {
			t.Errorf("%s (pid %d) of the broken cluster still runs after the fresh start", p.Name, p.PID)
		}
	}

	if err := Down(context.Background(), dir, nil); err != nil {
		t.Fatalf("down: %v", err)
	}
	for _, p := range fresh.Processes {
		if alive(p) {
			t.Errorf("%s (pid %d) alive after down", p.Name, p.PID)
		}
	}
	if left := processesIn(t, dir); len(left) > 0 {
		t.Errorf("processes left after down:\n%s", strings.Join(left, "\n"))
	}
	if _, err := os.Stat(filepath.Join(dir, stateFile)); !os.IsNotExist(err) {
		t.Errorf("state file still there after down (%v)", err)
	}
	if err := Down(context.Background(), dir, nil); err != nil {
		t.Errorf("second down: %v; want nothing to do", err)
	}
}

func TestUpFailsFastWithLogTail(t *testing.T) {
	bin := binDir(t)
	realNodeFree(t)
	dir := t.TempDir()
	o := Options{Dir: dir, BinDir: bin, RealNode: true, ExtraArgs: map[string][]string{APIServer: {"--no-such-flag"}}}
	t.Cleanup(func() { _ = Down(context.Background(), dir, nil) })
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	_, err := Up(ctx, o)
	if err == nil {
		t.Fatal("up with a bad apiserver flag succeeded")
	}
	for _, want := range []string{"kube-apiserver exited", "unknown flag: --no-such-flag"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if left := processesIn(t, dir); len(left) > 0 {
		t.Errorf("processes left after a failed up:\n%s", strings.Join(left, "\n"))
	}
}

func TestUpRejectsUnknownComponent(t *testing.T) {
	bin := binDir(t)
	realNodeFree(t)
	dir := t.TempDir()
	// kwok is a component of the fake node only.
	_, err := Up(t.Context(), Options{Dir: dir, BinDir: bin, RealNode: true, ExtraArgs: map[string][]string{Kwok: {"-v=2"}}})
	if err == nil || !strings.Contains(err.Error(), "unknown component") {
		t.Fatalf("up = %v, want an unknown component error", err)
	}
}

func TestUpRetriesWhenAPortIsTaken(t *testing.T) {
	bin := binDir(t)
	realNodeFree(t)
	dir := t.TempDir()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	// etcd's metrics listener on a port that stays taken: every attempt fails
	// the way a port stolen between choosing and binding does.
	var log bytes.Buffer
	o := Options{Dir: dir, BinDir: bin, RealNode: true, Log: &log, ExtraArgs: map[string][]string{
		Etcd: {"--listen-metrics-urls=http://" + busy.Addr().String()},
	}}
	t.Cleanup(func() { _ = Down(context.Background(), dir, nil) })
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	_, err = Up(ctx, o)
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("up = %v; want etcd's address already in use", err)
	}
	if n := strings.Count(log.String(), "starting again on other ports"); n != 2 {
		t.Errorf("up started again %d times, want 2 (three attempts); log:\n%s", n, log.String())
	}
	if left := processesIn(t, dir); len(left) > 0 {
		t.Errorf("processes left after a failed up:\n%s", strings.Join(left, "\n"))
	}
}

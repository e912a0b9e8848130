package main

// The remlactl binary's rollback, standing and interrupt paths on the test
// cluster: what an operator reads, and the exit codes a script branches on.

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/remla/tagger/deployer"
	"github.com/remla/tagger/test/clustertest"
	"github.com/remla/tagger/test/testenv"
)

func TestRollbackCommand(t *testing.T) {
	t.Parallel()
	kc := clustertest.Kubeconfig(t)
	ns := clustertest.Namespace(t)
	clustertest.AppImage(t, clustertest.Good, "1.0.0", "2.0.0", "3.0.0")
	if r := run(t, kc, ns, "init", "1.0.0", "--timeout", "3m"); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	// No stable target yet other than the active blue: refused, exit 1.
	if r := run(t, kc, ns, "rollback"); r.code != 1 || !strings.Contains(r.stderr, "green is not deployed") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("rollback with only blue: %+v", r)
	}

	// deploy --bake waits until green is stable.
	r := run(t, kc, ns, "deploy", "green", "2.0.0", "--bake", "2s", "--timeout", "3m")
	if r.code != 0 || !strings.Contains(r.stdout, "green runs 2.0.0 and has the traffic; baking (") || !strings.Contains(r.stdout, "green is stable at 2.0.0") {
		t.Fatalf("deploy --bake: %+v", r)
	}
	r = run(t, kc, ns, "status")
	if r.code != 0 || !strings.Contains(r.stdout, "green active, stable") || !strings.Contains(r.stdout, "rollback: to blue (stable at 1.0.0)") {
		t.Errorf("status after the bake: %+v", r)
	}

	// Blue redeployed: no stable target; status and rollback say why.
	if r := run(t, kc, ns, "deploy", "blue", "3.0.0", "--no-switch", "--timeout", "3m"); r.code != 0 {
		t.Fatalf("deploy blue --no-switch: %+v", r)
	}
	r = run(t, kc, ns, "status")
	if !strings.Contains(r.stdout, "rollback: refused now: no stable color to roll back to: blue is unproven at 3.0.0") {
		t.Errorf("status with blue redeployed: %q", r.stdout)
	}
	if r := run(t, kc, ns, "rollback", "--reason", "2.0.0 hurts"); r.code != 1 || !strings.Contains(r.stderr, "blue is unproven at 3.0.0") ||
		!strings.Contains(r.stderr, "remlactl rollback --to blue") {
		t.Errorf("rollback to a redeployed blue: %+v", r)
	}

	// --dry-run says what it would do; --to overrides, with a warning.
	if r := run(t, kc, ns, "rollback", "--to", "blue", "--dry-run"); r.code != 0 || !strings.Contains(r.stdout, "dry run: would move traffic from green (2.0.0) to blue (3.0.0)") {
		t.Errorf("rollback --to --dry-run: %+v", r)
	}
	r = run(t, kc, ns, "rollback", "--to", "blue", "--reason", "3.0.0 is the fix")
	if r.code != 0 || !strings.Contains(r.stdout, "traffic moved from green (2.0.0, now failed) to blue (baking at 3.0.0)") || !strings.Contains(r.stderr, "not stable (--to)") {
		t.Errorf("rollback --to blue: %+v", r)
	}
	r = run(t, kc, ns, "history")
	if !strings.Contains(r.stdout, "RolledBack(override)") || !strings.Contains(r.stdout, "MarkedFailed") || !strings.Contains(r.stdout, "RollbackRefused") {
		t.Errorf("history: %s", r.stdout)
	}
	r = run(t, kc, ns, "status", "-o", "json")
	var st deployer.State
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatal(err)
	}
	if st.Active != deployer.Blue || st.Colors[deployer.Blue].Standing.Phase != deployer.Baking || st.Colors[deployer.Green].Standing.Phase != deployer.Failed ||
		st.Colors[deployer.Green].Template == "" || !strings.Contains(st.Rollback.Refused, "green is failed at 2.0.0") {
		t.Errorf("status -o json: %+v", st)
	}
	if r := run(t, kc, ns, "rollback", "--to", "purple"); r.code != 2 {
		t.Errorf("rollback --to purple: %+v", r)
	}
}

// TestSecondInterruptSaysWhatIsLeft: Ctrl-C during a deploy stops it and
// cleans up; when the cleanup hangs (here the API server stops answering,
// through a proxy the test freezes), a second Ctrl-C exits at once (130),
// saying the Lease is still held and when it expires.
func TestSecondInterruptSaysWhatIsLeft(t *testing.T) {
	t.Parallel()
	kc := clustertest.Kubeconfig(t)
	ns := clustertest.Namespace(t)
	// 8.8.8 is never imported (9.9.9 is the deployer tests' broken model): its pull fails for real, so the deploy waits.
	clustertest.AppImage(t, clustertest.Good, "1.0.0")
	if r := run(t, kc, ns, "init", "1.0.0", "--timeout", "3m"); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	proxied, freeze := freezableProxy(t, kc)
	cmd := exec.Command(testenv.Binary(t, "remlactl"), "--kubeconfig", proxied, "-n", ns, "--log-format", "text",
		"deploy", "green", "8.8.8", "--pod-label", clustertest.NeverReadyLabel+"=true", "--replicas", "1", "--timeout", "3m")
	cmd.Env = append(os.Environ(), "REMLA_CONFIG="+clustertest.ConfigFile(t))
	cmd.Stdout = io.Discard // the log is stderr's alone
	p := testenv.Start(t, "remlactl", cmd)
	seen := 0 // each line is looked for after the one before
	waitLine := func(want string) {
		t.Helper()
		testenv.WaitFor(t, fmt.Sprintf("%q from remlactl", want), 30*time.Second, 20*time.Millisecond, []*testenv.Process{p}, func() (bool, error) {
			i := strings.Index(p.Logs()[seen:], want)
			if i < 0 {
				return false, nil
			}
			seen += i + len(want)
			return true, nil
		})
	}
	waitLine("msg=rollout")
	freeze()
	p.Signal(syscall.SIGINT)
	waitLine("interrupt again to exit at once")
	p.Signal(syscall.SIGINT)
	waitLine("interrupted again")
	if code := p.Wait(t, 10*time.Second); code != ExitInterrupted {
		t.Fatalf("exit %d, want %d\n%s", code, ExitInterrupted, p.Logs())
	}
	all := p.Logs()
	if !strings.Contains(all, "exiting now; left behind:") || !strings.Contains(all, "Lease "+ns+"/remla-deployer stays held until it expires in") {
		t.Errorf("stderr does not say what is left:\n%s", all)
	}
}

// freezableProxy forwards TCP to the test cluster's API server and returns a
// kubeconfig that goes through it, and a function that stops all traffic
// through it (connections hang, as with an unreachable API server) until
// the test ends.
func freezableProxy(t *testing.T, kubeconfig string) (string, func()) {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	var target string
	for _, c := range cfg.Clusters {
		u, err := url.Parse(c.Server)
		if err != nil {
			t.Fatal(err)
		}
		target = u.Host
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var gate sync.RWMutex // write-locked while frozen
	var mu sync.Mutex
	frozen := false
	pipe := func(dst, src net.Conn) {
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				gate.RLock()
				gate.RUnlock()
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				dst.Close()
				return
			}
		}
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			go pipe(up, c)
			go pipe(c, up)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		if frozen {
			gate.Unlock()
			frozen = false
		}
	})
	for _, c := range cfg.Clusters {
		c.Server = "https://" + ln.Addr().String()
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path, func() {
		mu.Lock()
		defer mu.Unlock()
		if !frozen {
			gate.Lock()
			frozen = true
		}
	}
}

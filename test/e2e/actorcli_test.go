package e2e_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/remla/tagger/test/testenv"
)

// unreachableKubeconfig points at a port where no API server listens: the
// actor starts (the deployer connects lazily) and every cluster call fails.
func unreachableKubeconfig(t *testing.T, dir string) string {
	t.Helper()
	addr := testenv.FreeAddr(t)
	kc := `apiVersion: v1
kind: Config
clusters:
- name: nowhere
  cluster:
    server: https://` + addr + `
    insecure-skip-tls-verify: true
users:
- name: nobody
  user:
    token: nothing
contexts:
- name: nowhere
  context: {cluster: nowhere, user: nobody, namespace: remla}
current-context: nowhere
`
	p := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(p, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAlertActorCommandRefusesBadUsage runs `remlactl alert-actor` with bad
// flags: each is a usage error (exit code 2) with a line saying what to fix.
func TestAlertActorCommandRefusesBadUsage(t *testing.T) {
	t.Setenv("REMLA_ALERT_TOKEN", "")
	ctl := testenv.Binary(t, "remlactl")
	dir := t.TempDir()
	kc := unreachableKubeconfig(t, dir)
	empty := filepath.Join(dir, "empty-token")
	os.WriteFile(empty, []byte("\n"), 0o600)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"an argument", []string{"now"}, "argument"},
		{"unknown log format", []string{"--log-format", "xml"}, "--log-format"},
		{"missing token file", []string{"--token-file", filepath.Join(dir, "nope")}, "--token-file"},
		{"empty token file", []string{"--token-file", empty}, "is empty"},
		{"certificate without key", []string{"--tls-cert", "tls.crt"}, "--tls-key"},
		{"path without slash", []string{"--path", "webhook"}, "--path"},
		{"no token, listening on every interface", []string{"--listen", testenv.FreeAddr(t)[len("127.0.0.1"):]}, "no bearer token: anyone who can reach"},
		{"no token, listening on a non-loopback address", []string{"--listen", "0.0.0.0:0"}, "--insecure-no-auth"},
		{"the same namespace twice", []string{"-n", "remla", "-n", "remla"}, "given twice"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, ctl, append([]string{"alert-actor", "--kubeconfig", kc, "--listen", testenv.FreeAddr(t)}, c.args...)...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 2 {
				t.Fatalf("exit %v, want code 2; stderr:\n%s", err, stderr.String())
			}
			if !strings.Contains(stderr.String(), c.want) {
				t.Fatalf("stderr %q does not mention %q", stderr.String(), c.want)
			}
		})
	}
}

// TestAlertActorCommandServesTLS runs the real binary with a token from the
// environment and a certificate: HTTPS answers, a forged request gets 401, an
// unreachable cluster gives 503 (so Alertmanager retries), /metrics says the
// state is unreadable, and SIGTERM stops it with exit code 0.
func TestAlertActorCommandServesTLS(t *testing.T) {
	ctl := testenv.Binary(t, "remlactl")
	dir := t.TempDir()
	kc := unreachableKubeconfig(t, dir)
	cert, key, pool := testenv.SelfSignedCert(t, dir)
	addr := testenv.FreeAddr(t)
	const token = "env-token-0123456789"
	t.Setenv("REMLA_ALERT_TOKEN", token)
	p := testenv.Start(t, "alert-actor", exec.Command(ctl, "alert-actor", "--kubeconfig", kc, "--listen", addr,
		"--path", "/hooks/am", "--tls-cert", cert, "--tls-key", key, "--log-format", "json", "--cluster-timeout", "2s"))
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	base := "https://" + addr
	testenv.WaitFor(t, "the actor over HTTPS", 30*time.Second, 50*time.Millisecond, []*testenv.Process{p}, func() (bool, error) {
		resp, err := client.Get(base + "/healthz")
		if err != nil {
			return false, err
		}
		resp.Body.Close()
		return resp.StatusCode == 200, nil
	})
	body, err := os.ReadFile(filepath.Join(repoRoot(t), "deployer/alert/testdata/firing.json"))
	if err != nil {
		t.Fatal(err)
	}
	send := func(auth string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, base+"/hooks/am", bytes.NewReader(body))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var a struct{ Result string }
		json.NewDecoder(resp.Body).Decode(&a)
		return resp.StatusCode, a.Result
	}
	if code, res := send("Bearer not-" + token); code != 401 || res != "unauthorized" {
		t.Fatalf("forged: %d %s, want 401 unauthorized", code, res)
	}
	if code, res := send("Bearer " + token); code != 503 || res != "error" {
		t.Fatalf("cluster unreachable: %d %s, want 503 error", code, res)
	}
	mf, err := testenv.ScrapeWith(context.Background(), client, base+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := mf.Value("remla_alert_actor_state_up", "namespace", "remla"); !ok || v != 0 {
		t.Errorf("/metrics: remla_alert_actor_state_up{namespace=\"remla\"} = %v (present %v), want 0: the cluster is unreadable", v, ok)
	}
	p.Stop()
	if p.Err() != nil {
		t.Fatalf("after SIGTERM: %v, want exit code 0\n%s", p.Err(), p.Tail(10))
	}
}

// TestAlertActorCommandTokenRules: without a token the actor serves on
// loopback, or anywhere with --insecure-no-auth (warning); a token file
// others can read is warned about.
func TestAlertActorCommandTokenRules(t *testing.T) {
	ctl := testenv.Binary(t, "remlactl")
	dir := t.TempDir()
	kc := unreachableKubeconfig(t, dir)
	loose := filepath.Join(dir, "loose-token")
	if err := os.WriteFile(loose, []byte("a-token\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("REMLA_ALERT_TOKEN", "")
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"loopback without a token", nil, "alert actor listening"},
		{"every interface with --insecure-no-auth", []string{"--insecure-no-auth"}, "--insecure-no-auth"},
		{"a token file others can read", []string{"--token-file", loose}, "chmod 600 " + loose},
	} {
		t.Run(c.name, func(t *testing.T) {
			addr := testenv.FreeAddr(t)
			listen := addr
			if c.name == "every interface with --insecure-no-auth" {
				listen = addr[len("127.0.0.1"):] // ":port": every interface
			}
			p := testenv.Start(t, "alert-actor-"+strings.ReplaceAll(c.name, " ", "-"), exec.Command(ctl,
				append([]string{"alert-actor", "--kubeconfig", kc, "--listen", listen, "--log-format", "json", "--cluster-timeout", "1s"}, c.args...)...))
			testenv.WaitFor(t, "the actor", 30*time.Second, 50*time.Millisecond, []*testenv.Process{p}, testenv.HTTPOK("http://"+addr+"/healthz"))
			p.Stop()
			if log := p.Tail(50); !strings.Contains(log, c.want) {
				t.Errorf("log does not mention %q:\n%s", c.want, log)
			}
		})
	}
}

package clustertest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

func TestNamespaceName(t *testing.T) {
	valid := regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	tests := []struct {
		testName string
		prefix   string
	}{
		{"TestRollout", "testrollout-"},
		{"TestDeploy/blue_to_green", "testdeploy-blue-to-green-"},
		{"Test__Odd--Name__", "test-odd-name-"},
		{"//", "test-"},
		{strings.Repeat("TestVeryLong", 10), strings.Repeat("testverylong", 10)[:57] + "-"},
	}
	for _, tt := range tests {
		t.Run(tt.testName, func(t *testing.T) {
			got := NamespaceName(tt.testName)
			if !strings.HasPrefix(got, tt.prefix) || len(got) != len(tt.prefix)+5 {
				t.Errorf("NamespaceName(%q) = %q, want %q and 5 random characters", tt.testName, got, tt.prefix)
			}
			if len(got) > 63 || !valid.MatchString(got) {
				t.Errorf("NamespaceName(%q) = %q is not a valid namespace name", tt.testName, got)
			}
		})
	}
	if a, b := NamespaceName("TestX"), NamespaceName("TestX"); a == b {
		t.Errorf("two calls gave the same name %q; want a random suffix", a)
	}
}

// recorder stands in for the test passed to Kubeconfig, to see whether it
// skips or fails.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper()           {}
func (r *recorder) Skip(args ...any)  { r.skipped = fmt.Sprint(args...); runtime.Goexit() }
func (r *recorder) Fatal(args ...any) { r.failed = fmt.Sprint(args...); runtime.Goexit() }
func (r *recorder) Fatalf(f string, args ...any) {
	r.failed = fmt.Sprintf(f, args...)
	runtime.Goexit()
}

func TestKubeconfigWithoutCluster(t *testing.T) {
	dir := t.TempDir()
	// A kubeconfig that points at a port nothing listens on (port 1 needs root
	// to bind and no test binds it).
	dead := filepath.Join(dir, "dead-kubeconfig")
	kc := `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`
	if err := os.WriteFile(dead, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, env, ci string
		wantSkip      bool
		wantIn        string
	}{
		{"unset, not CI", "", "", true, "make cluster-up"},
		{"unset, CI", "", "true", false, "CI=true"},
		{"missing file, not CI", filepath.Join(dir, "absent"), "", true, "does not answer"},
		{"dead cluster, not CI", dead, "false", true, "does not answer"},
		{"dead cluster, CI", dead, "true", false, "does not answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvKubeconfig, tt.env)
			t.Setenv("CI", tt.ci)
			r := &recorder{TB: t}
			done := make(chan string)
			go func() {
				defer close(done)
				path := Kubeconfig(r)
				done <- path
			}()
			if path, ok := <-done; ok {
				t.Fatalf("Kubeconfig returned %q; want it to skip or fail", path)
			}
			msg := r.failed
			if tt.wantSkip {
				msg = r.skipped
				if r.failed != "" {
					t.Fatalf("failed with %q; want a skip", r.failed)
				}
			} else if r.skipped != "" {
				t.Fatalf("skipped with %q; want a failure under CI", r.skipped)
			}
			if !strings.Contains(msg, tt.wantIn) {
				t.Errorf("message %q does not contain %q", msg, tt.wantIn)
			}
		})
	}
}

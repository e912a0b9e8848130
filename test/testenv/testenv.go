// Package testenv gives tests what the test environment provides: the
// project's binaries, the trained model, Debian's tools, and the rule that a
// missing dependency skips a test on a developer's machine but fails it under
// CI (CI=true), where test/run-all.sh has provided everything.
//
// It also holds, once, the helpers every package's tests share: golden.go
// (golden files and the -update flag), process.go (programs a test runs, and
// waiting for them), prometheus.go (a real Prometheus and the PromQL client),
// metrics.go (a program's /metrics read over HTTP), dashboard.go (Grafana
// dashboards), postgres.go (a throwaway PostgreSQL) and cert.go (a TLS
// certificate).
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// Need skips the test with msg, or fails it when CI=true.
func Need(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Tool returns the path of a program from a Debian package, or Needs it.
func Tool(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Need(t, fmt.Sprintf("%s not found: install it with `apt-get install %s` (test/deps.sh does)", name, pkg))
	}
	return p
}

// Model returns the absolute path of the trained model named by
// REMLA_TEST_MODEL (make test trains it), or Needs it.
func Model(t testing.TB) string {
	t.Helper()
	p := os.Getenv("REMLA_TEST_MODEL")
	if p == "" {
		Need(t, "REMLA_TEST_MODEL is not set; train a model with `go run ./cmd/remla-train train --data data --out /tmp/remla-model` and export REMLA_TEST_MODEL=/tmp/remla-model/latest.model (make test does this)")
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

var (
	mu     sync.Mutex
	tmpDir string
	built  = map[string]error{}
)

// Binary returns the path of the project's command name (remla-app,
// remla-train or remlactl): from REMLA_TEST_BIN_DIR (make test builds them
// there), else built once per test process into a temporary directory that
// Main removes.
func Binary(t testing.TB, name string) string {
	t.Helper()
	if dir := os.Getenv("REMLA_TEST_BIN_DIR"); dir != "" {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("REMLA_TEST_BIN_DIR=%s has no %s: run make build", dir, name)
		}
		return p
	}
	mu.Lock()
	defer mu.Unlock()
	if tmpDir == "" {
		d, err := os.MkdirTemp("", "remla-test-bin-")
		if err != nil {
			t.Fatal(err)
		}
		tmpDir = d
	}
	p := filepath.Join(tmpDir, name)
	err, done := built[name]
	if !done {
		cmd := exec.Command("go", "build", "-o", p, "github.com/remla/tagger/cmd/"+name)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, berr := cmd.CombinedOutput(); berr != nil {
			err = fmt.Errorf("go build %s: %v\n%s", name, berr, out)
		}
		built[name] = err
	}
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Main runs the package's tests, then removes the binaries Binary built.
// Use it as the package's TestMain: func TestMain(m *testing.M) { testenv.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	mu.Lock()
	if tmpDir != "" {
		os.RemoveAll(tmpDir)
	}
	mu.Unlock()
	os.Exit(code)
}

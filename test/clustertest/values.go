package clustertest

import (
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestValues are the chart values every test deployment gets:
//   - no per-client rate limits, since a test sends all its traffic from the
//     host's one address (the limits have their own tests, in app and
//     cmd/remla-app);
//   - small CPU and memory requests: the node has two CPUs, and at the
//     chart's 100m a pod the scheduler would place only twenty of the pods
//     that the suite's tests, run side by side, start (the limits stay);
//   - the readiness probe every second instead of every 5 s.
func TestValues() map[string]any {
	return map[string]any{
		"feedback":  map[string]any{"rateLimit": map[string]any{"predict": 0, "feedback": 0}},
		"resources": testResources(),
		// Ready within a second of answering, not at the chart's next 5 s
		// probe: most of a test's waiting is for pods to turn Ready.
		"probes": map[string]any{"readiness": map[string]any{"periodSeconds": 1}},
	}
}

func testResources() map[string]any {
	return map[string]any{
		"requests": map[string]any{"cpu": "5m", "memory": "32Mi"},
		"limits":   map[string]any{"memory": "512Mi"},
	}
}

// ConfigFile writes a remla.yaml carrying TestValues into a temporary
// directory and returns its path, for tests that run remlactl.
func ConfigFile(t testing.TB) string {
	t.Helper()
	data, err := yaml.Marshal(map[string]any{"values": TestValues()})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "remla.yaml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

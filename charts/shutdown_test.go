package charts

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestShutdownDrains: a color's pods sleep in a preStop hook before SIGTERM,
// so the endpoints controller and kube-proxy drop them while they still
// serve (an in-place upgrade or a scale-down then refuses no request), and
// the grace period covers that sleep plus the app's own drain, so the
// kubelet never kills a pod mid-request. A zero sleep leaves the hook out.
func TestShutdownDrains(t *testing.T) {
	pod := func(vals map[string]any) (spec, ctr map[string]any) {
		objs := parseManifest(t, render(t, "remla-blue", vals, false))
		dep, ok := objs["Deployment/remla-blue"]
		if !ok {
			t.Fatalf("no Deployment remla-blue in %v", keys(objs))
		}
		spec = dep.Spec["template"].(map[string]any)["spec"].(map[string]any)
		return spec, spec["containers"].([]any)[0].(map[string]any)
	}
	grace := func(ctr map[string]any) time.Duration {
		for _, a := range ctr["args"].([]any) {
			if v, ok := strings.CutPrefix(a.(string), "-shutdown-grace="); ok {
				d, err := time.ParseDuration(v)
				if err != nil {
					t.Fatalf("arg %s: %v", a, err)
				}
				return d
			}
		}
		t.Fatalf("no -shutdown-grace in args %v", ctr["args"])
		return 0
	}

	for _, tc := range []struct {
		name        string
		shutdown    map[string]any
		sleep, app  time.Duration
		termination time.Duration
	}{
		{"defaults", nil, 5 * time.Second, 20 * time.Second, 30 * time.Second},
		{"longer", map[string]any{"preStopSleepSeconds": 15, "graceSeconds": 60}, 15 * time.Second, time.Minute, 80 * time.Second},
		{"no sleep", map[string]any{"preStopSleepSeconds": 0}, 0, 20 * time.Second, 25 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vals := map[string]any{"color": "blue", "version": "1.0.0"}
			if tc.shutdown != nil {
				vals["shutdown"] = tc.shutdown
			}
			spec, ctr := pod(vals)
			var sleep time.Duration
			if lc, ok := ctr["lifecycle"].(map[string]any); ok {
				s := lc["preStop"].(map[string]any)["sleep"].(map[string]any)["seconds"]
				sleep = time.Duration(s.(float64)) * time.Second
				if tc.sleep == 0 {
					t.Errorf("lifecycle %v rendered with preStopSleepSeconds 0", lc)
				}
			}
			if sleep != tc.sleep {
				t.Errorf("preStop sleep %s, want %s", sleep, tc.sleep)
			}
			if g := grace(ctr); g != tc.app {
				t.Errorf("-shutdown-grace %s, want %s", g, tc.app)
			}
			term := time.Duration(spec["terminationGracePeriodSeconds"].(float64)) * time.Second
			if term != tc.termination || term <= sleep+grace(ctr) {
				t.Errorf("terminationGracePeriodSeconds %s with a %s sleep and a %s drain, want %s (more than both)", term, sleep, grace(ctr), tc.termination)
			}
		})
	}
	// The hook is the kubelet's own sleep: the image has no shell or sleep
	// binary to exec.
	_, ctr := pod(map[string]any{"color": "blue", "version": "1.0.0"})
	if pre := fmt.Sprint(ctr["lifecycle"]); strings.Contains(pre, "exec") {
		t.Errorf("preStop %s execs a command the distroless image lacks", pre)
	}
}

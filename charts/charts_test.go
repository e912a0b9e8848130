package charts

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// values mirror what remlactl passes for each release (deployer/helm.go).
var cases = []struct {
	name       string
	release    string
	values     map[string]any
	monitoring bool
}{
	{"blue", "remla-blue", map[string]any{"color": "blue", "version": "1.0.0", "replicas": 2}, false},
	{"green", "remla-green", map[string]any{"color": "green", "version": "2.0.0", "replicas": 3,
		"podLabels": map[string]any{"remla.test/never-ready": "true"}}, false},
	{"shared", "remla-shared", map[string]any{"deployment": map[string]any{"enabled": false},
		"shared": map[string]any{"enabled": true, "activeColor": "blue"}}, false},
	{"shared-monitoring", "remla-shared", map[string]any{"deployment": map[string]any{"enabled": false},
		"shared": map[string]any{"enabled": true, "activeColor": "green"}, "ingress": map[string]any{"host": "remla.local"}}, true},
}

func render(t *testing.T, release string, vals map[string]any, monitoring bool) string {
	t.Helper()
	c, err := App()
	if err != nil {
		t.Fatal(err)
	}
	inst := action.NewInstall(&action.Configuration{})
	inst.DryRun, inst.ClientOnly, inst.Replace = true, true, true
	inst.ReleaseName, inst.Namespace = release, "remla"
	inst.KubeVersion = &chartutil.KubeVersion{Version: "v1.37.2", Major: "1", Minor: "37"}
	if monitoring {
		inst.APIVersions = chartutil.VersionSet{"monitoring.coreos.com/v1"}
	}
	rel, err := inst.Run(c, vals)
	if err != nil {
		t.Fatalf("render %s: %v", release, err)
	}
	return rel.Manifest
}

func TestTemplatesGolden(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := render(t, tc.release, tc.values, tc.monitoring)
			golden := filepath.Join("testdata", tc.name+".yaml")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./charts -update)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from the rendered chart; review and run go test ./charts -update\n--- got:\n%s", golden, got)
			}
		})
	}
}

// TestTemplatesSemantics checks what the golden files must never lose, so
// that an -update does not bless a broken chart.
func TestTemplatesSemantics(t *testing.T) {
	type obj struct {
		Kind     string
		Metadata struct {
			Name   string
			Labels map[string]string
		}
		Spec map[string]any
	}
	parse := func(m string) map[string]obj {
		out := map[string]obj{}
		for _, doc := range strings.Split(m, "\n---") {
			var o obj
			if err := yaml.Unmarshal([]byte(doc), &o); err != nil {
				t.Fatal(err)
			}
			if o.Kind != "" {
				out[o.Kind+"/"+o.Metadata.Name] = o
			}
		}
		return out
	}
	green := parse(render(t, "remla-green", cases[1].values, false))
	dep, ok := green["Deployment/remla-green"]
	if !ok {
		t.Fatalf("no Deployment remla-green in %v", green)
	}
	tmpl := dep.Spec["template"].(map[string]any)
	labels := tmpl["metadata"].(map[string]any)["labels"].(map[string]any)
	for k, v := range map[string]string{"app": "remla", "color": "green", "version": "2.0.0", "remla.test/never-ready": "true"} {
		if labels[k] != v {
			t.Errorf("pod label %s = %v, want %s", k, labels[k], v)
		}
	}
	pod := tmpl["spec"].(map[string]any)
	ctr := pod["containers"].([]any)[0].(map[string]any)
	if got := ctr["readinessProbe"].(map[string]any)["httpGet"].(map[string]any)["path"]; got != "/readyz" {
		t.Errorf("readiness path %v", got)
	}
	if got := ctr["livenessProbe"].(map[string]any)["httpGet"].(map[string]any)["path"]; got != "/healthz" {
		t.Errorf("liveness path %v", got)
	}
	if ctr["securityContext"].(map[string]any)["readOnlyRootFilesystem"] != true || pod["securityContext"].(map[string]any)["runAsNonRoot"] != true {
		t.Errorf("security context: pod %v container %v", pod["securityContext"], ctr["securityContext"])
	}
	if _, ok := green["Service/remla-green-preview"]; !ok {
		t.Error("no preview Service")
	}
	if _, ok := green["Service/remla"]; ok {
		t.Error("a color release renders the active Service")
	}

	shared := parse(render(t, "remla-shared", cases[2].values, false))
	if len(shared) != 2 || shared["Service/remla"].Kind == "" || shared["Ingress/remla"].Kind == "" {
		t.Errorf("shared without monitoring CRDs: got %v, want the active Service and the Ingress only", keys(shared))
	}
	sel := shared["Service/remla"].Spec["selector"].(map[string]any)
	if sel["color"] != "blue" || sel["app"] != "remla" {
		t.Errorf("active selector %v", sel)
	}
	mon := parse(render(t, "remla-shared", cases[3].values, true))
	for _, k := range []string{"ServiceMonitor/remla", "PrometheusRule/remla-rollback", "ConfigMap/remla-dashboard"} {
		if _, ok := mon[k]; !ok {
			t.Errorf("with monitoring.coreos.com/v1: no %s in %v", k, keys(mon))
		}
	}
	groups := mon["PrometheusRule/remla-rollback"].Spec["groups"].([]any)
	rules := groups[0].(map[string]any)["rules"].([]any)
	if len(rules) == 0 || !strings.Contains(rules[0].(map[string]any)["annotations"].(map[string]any)["summary"].(string), "{{ $labels.color }}") {
		t.Errorf("PrometheusRule lost the rules or their templates: %v", rules)
	}
}

func TestBadColorFails(t *testing.T) {
	c, err := App()
	if err != nil {
		t.Fatal(err)
	}
	inst := action.NewInstall(&action.Configuration{})
	inst.DryRun, inst.ClientOnly, inst.ReleaseName, inst.Namespace = true, true, "x", "remla"
	if _, err := inst.Run(c, map[string]any{"color": "purple"}); err == nil || !strings.Contains(err.Error(), "color must be blue or green") {
		t.Fatalf("color purple: got %v, want the chart to refuse it", err)
	}
}

func TestLint(t *testing.T) {
	for _, tc := range cases[:3] {
		t.Run(tc.name, func(t *testing.T) {
			l := lint.All(AppDir, tc.values, "remla", false)
			for _, m := range l.Messages {
				if m.Severity >= support.WarningSev {
					t.Errorf("helm lint: %s", m)
				}
			}
		})
	}
}

// TestAlertRulesCopy: the chart ships a copy of k8s/alert-rules.yml (a chart
// cannot read outside its directory); the two must not drift.
func TestAlertRulesCopy(t *testing.T) {
	for src, cp := range map[string]string{
		"../k8s/alert-rules.yml":                           "remla-app/files/alert-rules.yml",
		"../k8s/grafana-dashboards/metrics_dashboard.json": "remla-app/files/metrics_dashboard.json",
	} {
		a, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(cp)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs from %s: run cp %s charts/%s", cp, src, strings.TrimPrefix(src, "../"), cp)
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

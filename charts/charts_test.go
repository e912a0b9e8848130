package charts

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	"sigs.k8s.io/yaml"

	"github.com/remla/tagger/test/testenv"
)

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
	// The operator's own PostgreSQL and signing key, both in Secrets.
	{"blue-existing-secret", "remla-blue", merge(map[string]any{"color": "blue", "version": "1.0.0", "replicas": 2}, ownStore), false},
	{"shared-existing-secret", "remla-shared", merge(map[string]any{"deployment": map[string]any{"enabled": false},
		"shared": map[string]any{"enabled": true, "activeColor": "blue"}}, ownStore), false},
	// The bundled PostgreSQL, configured: image, storage, password, names.
	{"shared-postgresql-custom", "remla-shared", map[string]any{"deployment": map[string]any{"enabled": false},
		"shared": map[string]any{"enabled": true, "activeColor": "blue", "serviceName": "tagger"},
		"postgresql": map[string]any{"image": map[string]any{"repository": "registry.example/postgres", "tag": "15.18"},
			"password": "s3cret-from-values", "storage": map[string]any{"size": "5Gi", "storageClassName": "fast"}},
		"feedback": map[string]any{"rateLimit": map[string]any{"predict": 0}, "trustedProxies": []any{}, "trustedOrigins": []any{"https://tags.example"}}}, false},
	{"green-postgresql-custom", "remla-green", map[string]any{"color": "green", "version": "2.0.0",
		"shared":     map[string]any{"serviceName": "tagger"},
		"postgresql": map[string]any{"username": "tags", "database": "answers", "port": 6432},
		"feedback":   map[string]any{"rateLimit": map[string]any{"predict": 0}, "trustedProxies": []any{}, "trustedOrigins": []any{"https://tags.example"}}}, false},
}

var ownStore = map[string]any{
	"postgresql": map[string]any{"enabled": false},
	"feedback": map[string]any{"existingSecret": "remla-dsn", "existingSecretKey": "url",
		"signingKey": map[string]any{"existingSecret": "remla-keys"}},
}

// merge returns a copy of a with b's keys set over it (one level deep).
func merge(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
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
			got := MaskGenerated(render(t, tc.release, tc.values, tc.monitoring))
			testenv.Golden(t, filepath.Join("testdata", tc.name+".yaml"), []byte(got))
		})
	}
}

// object is what the semantic tests read of a rendered object.
type object struct {
	Kind     string
	Metadata struct {
		Name        string
		Labels      map[string]string
		Annotations map[string]string
	}
	Spec map[string]any
	Data map[string]string
}

// parseManifest splits a rendered manifest into its objects, by Kind/name.
func parseManifest(t *testing.T, m string) map[string]object {
	t.Helper()
	out := map[string]object{}
	for _, doc := range strings.Split(m, "\n---") {
		var o object
		if err := yaml.Unmarshal([]byte(doc), &o); err != nil {
			t.Fatal(err)
		}
		if o.Kind != "" {
			out[o.Kind+"/"+o.Metadata.Name] = o
		}
	}
	return out
}

// TestTemplatesSemantics checks what the golden files must never lose, so
// that an -update does not bless a broken chart.
func TestTemplatesSemantics(t *testing.T) {
	parse := func(m string) map[string]object { return parseManifest(t, m) }
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
	for _, k := range []string{"Service/remla", "Ingress/remla", "Secret/remla-feedback-key", "Secret/remla-postgresql", "Service/remla-postgresql", "StatefulSet/remla-postgresql"} {
		if shared[k].Kind == "" {
			t.Errorf("shared without monitoring CRDs: no %s in %v", k, keys(shared))
		}
	}
	if len(shared) != 6 {
		t.Errorf("shared without monitoring CRDs: %v, want the active Service, the Ingress and the feedback store only", keys(shared))
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

// TestFeedbackWiring checks what the golden files must never lose about
// where answers go: both colors reach one store the shared release keeps,
// with one signing key, and nothing of it lives in a pod.
func TestFeedbackWiring(t *testing.T) {
	parse := func(m string) map[string]object { return parseManifest(t, m) }
	container := func(d object) map[string]any {
		return d.Spec["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
	}
	env := func(c map[string]any) map[string]map[string]any {
		out := map[string]map[string]any{}
		for _, e := range c["env"].([]any) {
			m := e.(map[string]any)
			out[m["name"].(string)] = m
		}
		return out
	}

	for _, color := range cases[:2] {
		objs := parse(render(t, color.release, color.values, false))
		dep := objs["Deployment/"+color.release]
		e := env(container(dep))
		dsn, _ := e["REMLA_FEEDBACK_DSN"]["value"].(string)
		if !strings.HasPrefix(dsn, "host=$(REMLA_POSTGRESQL_SERVICE_HOST),remla-postgresql port=5432 user=remla dbname=remla ") {
			t.Errorf("%s: DSN %q; want the shared PostgreSQL by Service link, then by name", color.name, dsn)
		}
		if ref := e["PGPASSWORD"]["valueFrom"].(map[string]any)["secretKeyRef"].(map[string]any); ref["name"] != "remla-postgresql" || ref["key"] != "password" {
			t.Errorf("%s: PGPASSWORD from %v", color.name, ref)
		}
		if e["REMLA_SIGNING_KEY_FILE"]["value"] != "/etc/remla/signing-key/signing-key" {
			t.Errorf("%s: signing key file %v", color.name, e["REMLA_SIGNING_KEY_FILE"])
		}
		vols := dep.Spec["template"].(map[string]any)["spec"].(map[string]any)["volumes"].([]any)
		var secretVol string
		for _, v := range vols {
			v := v.(map[string]any)
			if v["name"] == "data" {
				t.Errorf("%s: a per-pod data volume is back: %v", color.name, v)
			}
			if s, ok := v["secret"].(map[string]any); ok {
				secretVol = s["secretName"].(string)
			}
		}
		if secretVol != "remla-feedback-key" {
			t.Errorf("%s: signing key volume from %q", color.name, secretVol)
		}
		for _, a := range container(dep)["args"].([]any) {
			if strings.HasPrefix(a.(string), "-feedback-db") {
				t.Errorf("%s: the pod writes its own SQLite file: %v", color.name, a)
			}
		}
		if _, ok := objs["Service/"+color.release+"-preview"].Spec["sessionAffinity"]; ok {
			t.Errorf("%s: the preview Service still has session affinity", color.name)
		}
	}

	shared := parse(render(t, "remla-shared", cases[2].values, false))
	if _, ok := shared["Service/remla"].Spec["sessionAffinity"]; ok {
		t.Error("the active Service still has session affinity")
	}
	active := shared["Service/remla"].Spec["selector"].(map[string]any)
	sts := shared["StatefulSet/remla-postgresql"]
	podLabels := sts.Spec["template"].(map[string]any)["metadata"].(map[string]any)["labels"].(map[string]any)
	if podLabels["app"] == active["app"] {
		t.Errorf("PostgreSQL pods carry app=%v, which the colors' selectors use", podLabels["app"])
	}
	if sel := shared["Service/remla-postgresql"].Spec["selector"].(map[string]any); sel["app"] != podLabels["app"] || sel["app.kubernetes.io/component"] != "postgresql" {
		t.Errorf("PostgreSQL Service selector %v does not pick its pods %v", sel, podLabels)
	}
	pvc := sts.Spec["volumeClaimTemplates"].([]any)[0].(map[string]any)
	if pvc["metadata"].(map[string]any)["name"] != "data" || pvc["spec"].(map[string]any)["resources"].(map[string]any)["requests"].(map[string]any)["storage"] != "1Gi" {
		t.Errorf("PostgreSQL claim %v", pvc)
	}
	if c := container(sts); c["image"] != "docker.io/library/postgres:15" {
		t.Errorf("PostgreSQL image %v", c["image"])
	}
	for _, name := range []string{"Secret/remla-feedback-key", "Secret/remla-postgresql"} {
		sec := shared[name]
		if sec.Metadata.Annotations["helm.sh/resource-policy"] != "keep" {
			t.Errorf("%s is not kept on uninstall", name)
		}
		for k, v := range sec.Data {
			raw, err := base64.StdEncoding.DecodeString(v)
			if err != nil || len(raw) < 32 {
				t.Errorf("%s %s: %d bytes (%v), want a generated value of 32 or more", name, k, len(raw), err)
			}
		}
	}
	again := parse(render(t, "remla-shared", cases[2].values, false))
	if again["Secret/remla-feedback-key"].Data["signing-key"] == shared["Secret/remla-feedback-key"].Data["signing-key"] {
		t.Error("two installs generated the same signing key")
	}

	custom := parse(render(t, "remla-green", cases[7].values, false))
	dsn := env(container(custom["Deployment/remla-green"]))["REMLA_FEEDBACK_DSN"]["value"].(string)
	if !strings.HasPrefix(dsn, "host=$(TAGGER_POSTGRESQL_SERVICE_HOST),tagger-postgresql port=6432 user=tags dbname=answers ") {
		t.Errorf("DSN with custom names: %q", dsn)
	}

	own := parse(render(t, "remla-blue", cases[4].values, false))
	e := env(container(own["Deployment/remla-blue"]))
	if ref := e["REMLA_FEEDBACK_DSN"]["valueFrom"].(map[string]any)["secretKeyRef"].(map[string]any); ref["name"] != "remla-dsn" || ref["key"] != "url" {
		t.Errorf("DSN from the operator's Secret: %v", ref)
	}
	if _, ok := e["PGPASSWORD"]; ok {
		t.Error("PGPASSWORD set with the operator's own PostgreSQL")
	}
	if ownShared := parse(render(t, "remla-shared", cases[5].values, false)); len(ownShared) != 2 {
		t.Errorf("shared release with the operator's store and key: %v, want only the active Service and the Ingress", keys(ownShared))
	}
}

// TestFeedbackStoreRequired: a cluster no longer gets per-pod storage by
// default, and contradictory settings are refused.
func TestFeedbackStoreRequired(t *testing.T) {
	c, err := App()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		vals map[string]any
		says string
	}{
		{"no store", map[string]any{"postgresql": map[string]any{"enabled": false}}, "needs a store both colors share"},
		{"two stores", map[string]any{"feedback": map[string]any{"existingSecret": "x"}}, "both name a store"},
	} {
		for _, release := range []map[string]any{{}, {"deployment": map[string]any{"enabled": false}, "shared": map[string]any{"enabled": true}}} {
			inst := action.NewInstall(&action.Configuration{})
			inst.DryRun, inst.ClientOnly, inst.ReleaseName, inst.Namespace = true, true, "x", "remla"
			if _, err := inst.Run(c, merge(tt.vals, release)); err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("%s (%v): got %v, want the chart to refuse saying %q", tt.name, release, err, tt.says)
			}
		}
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

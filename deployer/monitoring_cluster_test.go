package deployer

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/repo"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/remla/tagger/test/clustertest"
)

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// ensureMonitoringCRDs installs minimal ServiceMonitor and PrometheusRule
// CRDs (schemaless) so the cluster serves monitoring.coreos.com/v1 as it does
// with the Prometheus Operator. They stay: other tests' shared releases then
// render their monitoring objects too, which is harmless.
func ensureMonitoringCRDs(t *testing.T, dc dynamic.Interface) {
	t.Helper()
	ctx := testCtx(t)
	for kind, plural := range map[string]string{"ServiceMonitor": "servicemonitors", "PrometheusRule": "prometheusrules"} {
		name := plural + ".monitoring.coreos.com"
		crd := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
			"metadata": map[string]any{"name": name},
			"spec": map[string]any{
				"group": "monitoring.coreos.com", "scope": "Namespaced",
				"names": map[string]any{"kind": kind, "plural": plural, "singular": strings.ToLower(kind), "listKind": kind + "List"},
				"versions": []any{map[string]any{"name": "v1", "served": true, "storage": true,
					"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}},
			},
		}}
		if _, err := dc.Resource(crdGVR).Create(ctx, crd, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("create CRD %s: %v", name, err)
		}
		for {
			got, err := dc.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
			if err == nil && established(got) {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("CRD %s not established: %v", name, err)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

func established(u *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}

// TestMonitoringObjects: with monitoring.coreos.com/v1 served, the shared
// release creates the ServiceMonitor, the PrometheusRule carrying the rules
// of k8s/alert-rules.yml, and the dashboard; ApplyShared (init
// --with-monitoring on an initialized namespace) keeps traffic and state.
func TestMonitoringObjects(t *testing.T) {
	ns := clustertest.Namespace(t)
	dc, err := dynamic.NewForConfig(clustertest.RESTConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	ensureMonitoringCRDs(t, dc)
	ctx := testCtx(t)
	d := newTestDeployer(t, ns, "operator:m")
	if err := d.ApplyShared(ctx); !errors.Is(err, ErrNotInitialized) {
		t.Errorf("ApplyShared before init: %v", err)
	}
	if err := d.Init(ctx, "1", quick); err != nil {
		t.Fatal(err)
	}
	rule, err := dc.Resource(schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "prometheusrules"}).
		Namespace(ns).Get(ctx, "remla-rollback", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("PrometheusRule: %v", err)
	}
	groups, _, _ := unstructured.NestedSlice(rule.Object, "spec", "groups")
	var alerts []string
	for _, g := range groups {
		rules, _, _ := unstructured.NestedSlice(g.(map[string]any), "rules")
		for _, r := range rules {
			alerts = append(alerts, r.(map[string]any)["alert"].(string))
		}
	}
	if !strings.Contains(strings.Join(alerts, ","), "UsersUnsatisfied") {
		t.Errorf("PrometheusRule alerts %v", alerts)
	}
	if _, err := dc.Resource(schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "servicemonitors"}).
		Namespace(ns).Get(ctx, "remla", metav1.GetOptions{}); err != nil {
		t.Errorf("ServiceMonitor: %v", err)
	}
	if cm, err := d.client.CoreV1().ConfigMaps(ns).Get(ctx, "remla-dashboard", metav1.GetOptions{}); err != nil || cm.Labels["grafana_dashboard"] != "1" {
		t.Errorf("dashboard ConfigMap: %v", err)
	}

	if err := d.Deploy(ctx, Green, "2", quick); err != nil {
		t.Fatal(err)
	}
	before := mustStatus(t, d)
	if err := d.ApplyShared(context.Background()); err != nil {
		t.Fatalf("ApplyShared: %v", err)
	}
	after := mustStatus(t, d)
	if sel := activeSelector(t, d); sel != "green" || after.Active != Green || len(after.History) != len(before.History) ||
		after.Colors[Blue].Standing.Phase != Stable || after.Colors[Green].Standing != before.Colors[Green].Standing {
		t.Errorf("ApplyShared changed traffic or state: selector %s, %+v", sel, after)
	}
}

// TestInstallMonitoringFromRepo runs init --with-monitoring's path against a
// chart repository on 127.0.0.1 (a mirror, as --monitoring-repo allows)
// serving a small stand-in for kube-prometheus-stack with the operator's
// CRDs: fetch, install, then init renders the monitoring objects.
func TestInstallMonitoringFromRepo(t *testing.T) {
	for _, v := range []string{"HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"} {
		t.Setenv(v, t.TempDir())
	}
	dir := t.TempDir()
	stand := &chart.Chart{
		Metadata:  &chart.Metadata{APIVersion: "v2", Name: MonitoringChart, Version: "0.0.1", Description: "stand-in for the tests"},
		Templates: []*chart.File{{Name: "templates/marker.yaml", Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: monitoring-marker\ndata:\n  rules: {{ .Values.prometheus.prometheusSpec.ruleSelectorNilUsesHelmValues | quote }}\n")}},
	}
	for kind, plural := range map[string]string{"ServiceMonitor": "servicemonitors", "PrometheusRule": "prometheusrules"} {
		stand.Files = append(stand.Files, &chart.File{Name: "crds/" + plural + ".yaml", Data: []byte(fmt.Sprintf(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: %[1]s.monitoring.coreos.com
spec:
  group: monitoring.coreos.com
  scope: Namespaced
  names: {kind: %[2]s, plural: %[1]s, singular: %[3]s, listKind: %[2]sList}
  versions:
    - name: v1
      served: true
      storage: true
      schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`, plural, kind, strings.ToLower(kind)))})
	}
	if _, err := chartutil.Save(stand, dir); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	idx, err := repo.IndexDirectory(dir, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if err := idx.WriteFile(filepath.Join(dir, "index.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}

	ns := clustertest.Namespace(t)
	ctx := testCtx(t)
	d, err := New(Options{Kubeconfig: clustertest.Kubeconfig(t), Namespace: ns, MonitoringRepo: srv.URL, Config: testConfig()})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.InstallMonitoring(ctx); err != nil {
		t.Fatalf("install monitoring from %s: %v", srv.URL, err)
	}
	cm, err := d.client.CoreV1().ConfigMaps(ns).Get(ctx, "monitoring-marker", metav1.GetOptions{})
	if err != nil || cm.Data["rules"] != "false" {
		t.Fatalf("the stack's release with remlactl's values: %+v %v", cm, err)
	}
	if err := d.InstallMonitoring(ctx); err != nil {
		t.Errorf("a second install must find the release and do nothing: %v", err)
	}
	if err := d.Init(ctx, "1", quick); err != nil {
		t.Fatal(err)
	}
	dc, err := dynamic.NewForConfig(clustertest.RESTConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dc.Resource(schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "prometheusrules"}).
		Namespace(ns).Get(ctx, "remla-rollback", metav1.GetOptions{}); err != nil {
		t.Errorf("PrometheusRule after init with monitoring: %v", err)
	}

	bad, err := New(Options{Kubeconfig: clustertest.Kubeconfig(t), Namespace: clustertest.Namespace(t), MonitoringRepo: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := bad.InstallMonitoring(ctx); err == nil || !strings.Contains(err.Error(), "does this machine reach it?") {
		t.Errorf("unreachable repository: %v", err)
	}
}

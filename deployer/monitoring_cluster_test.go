package deployer

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

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
	if sel := activeSelector(t, d); sel != "green" || after.Active != Green || len(after.History) != len(before.History) || after.LastGood != Blue {
		t.Errorf("ApplyShared changed traffic or state: selector %s, %+v", sel, after)
	}
}

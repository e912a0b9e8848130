package main

import (
	"context"
	"maps"
	"strconv"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/remla/tagger/test/clustertest"
)

// versions are the resourceVersions of every Service, Deployment, Secret
// (the Helm releases among them) and Lease of ns, and its Event count.
func versions(t *testing.T, cs kubernetes.Interface, ns string) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	svcs, err := cs.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range svcs.Items {
		out["Service/"+o.Name] = o.ResourceVersion
	}
	deps, err := cs.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range deps.Items {
		out["Deployment/"+o.Name] = o.ResourceVersion
	}
	secrets, err := cs.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range secrets.Items {
		out["Secret/"+o.Name] = o.ResourceVersion
	}
	leases, err := cs.CoordinationV1().Leases(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range leases.Items {
		out["Lease/"+o.Name] = o.ResourceVersion
	}
	evs, err := cs.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.kind=Service"})
	if err != nil {
		t.Fatal(err)
	}
	out["Events on Services"] = strconv.Itoa(len(evs.Items))
	return out
}

// TestDryRunChangesNothing: deploy, switch, rollback and undeploy with
// --dry-run print what they would do, and leave every Service, Deployment,
// Helm release Secret and Lease at the resourceVersion it had.
func TestDryRunChangesNothing(t *testing.T) {
	t.Parallel()
	kc := clustertest.Kubeconfig(t)
	ns := clustertest.Namespace(t)
	clustertest.AppImage(t, clustertest.Good, "1.0.0", "2.0.0")
	if r := run(t, kc, ns, "init", "1.0.0", "--timeout", "3m"); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	if r := run(t, kc, ns, "deploy", "green", "2.0.0", "--timeout", "3m"); r.code != 0 {
		t.Fatalf("deploy green: %+v", r)
	}
	cs := clustertest.Client(t)
	before := versions(t, cs, ns)
	if before["Secret/sh.helm.release.v1.remla-blue.v1"] == "" || before["Service/remla"] == "" {
		t.Fatalf("fixture: %v", before)
	}

	for _, tc := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"deploy", "blue", "3.0.0", "--dry-run"}, 0, []string{
			"dry run: deploy blue 3.0.0 (nothing changed)",
			"helm upgrade remla-blue (live revision 1): ~ Deployment/remla-blue",
			"--- live/Deployment/remla-blue", "tagger:1.0.0", "+", "tagger:3.0.0",
			"readiness: every replica of blue runs 3.0.0",
			"traffic: from green (2.0.0) to blue (3.0.0) once every replica of blue is ready",
			"green is still baking: switching away marks it failed at 2.0.0"}},
		{[]string{"deploy", "green", "3.0.0", "--dry-run"}, 1, []string{"green serves traffic"}},
		{[]string{"switch", "blue", "--dry-run"}, 0, []string{"traffic: from green (2.0.0) to blue (1.0.0); blue is then stable",
			"MarkedFailed green 2.0.0", "Switched blue 1.0.0"}},
		{[]string{"rollback", "--dry-run"}, 0, []string{"dry run: would move traffic from green (2.0.0) to blue (1.0.0)"}},
		{[]string{"undeploy", "blue", "--dry-run"}, 0, []string{"helm uninstall remla-blue (live revision 1): - Deployment/remla-blue, - Service/remla-blue-preview",
			"+++ proposed/Deployment/remla-blue", "Undeployed blue 1.0.0",
			"blue is stable at 1.0.0: once it is gone, a rollback has no target"}},
		{[]string{"undeploy", "green", "--dry-run"}, 1, []string{"green serves traffic"}},
	} {
		r := run(t, kc, ns, tc.args...)
		if r.code != tc.code {
			t.Errorf("%v: exit %d, want %d", tc.args, r.code, tc.code)
		}
		for _, w := range tc.want {
			if !strings.Contains(r.stdout+r.stderr, w) {
				t.Errorf("%v: output lacks %q", tc.args, w)
			}
		}
	}
	if after := versions(t, cs, ns); !maps.Equal(before, after) {
		t.Errorf("a dry run changed the cluster:\nbefore %v\nafter  %v", before, after)
	}
}

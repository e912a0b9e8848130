package deployer

import (
	"bytes"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestFeedbackStoreOutlivesColors: on the real API server, init puts the
// feedback store and the signing key in the shared release before blue
// starts; both colors point at the same ones; re-applying the shared
// release keeps the generated key and password (lookup); undeploying a
// color leaves them, the StatefulSet and its claim template alone.
func TestFeedbackStoreOutlivesColors(t *testing.T) {
	t.Parallel()
	ns, d, ctx := initialized(t, "operator:alice", "1.0.0")
	secrets := func() map[string][]byte {
		out := map[string][]byte{}
		for _, name := range []string{"remla-feedback-key", "remla-postgresql"} {
			s, err := d.client.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatalf("Secret %s: %v", name, err)
			}
			for k, v := range s.Data {
				if len(v) < 32 {
					t.Fatalf("Secret %s key %s holds %d bytes, want a generated value", name, k, len(v))
				}
				out[name+"/"+k] = v
			}
		}
		return out
	}
	first := secrets()
	if len(first) != 2 {
		t.Fatalf("generated values %v", first)
	}
	sts, err := d.client.AppsV1().StatefulSets(ns).Get(ctx, "remla-postgresql", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(sts.Spec.VolumeClaimTemplates) != 1 || sts.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests.Storage().String() != "1Gi" {
		t.Fatalf("StatefulSet claim templates %+v", sts.Spec.VolumeClaimTemplates)
	}

	if err := d.Deploy(ctx, Green, "2.0.0", quick); err != nil {
		t.Fatal(err)
	}
	for _, release := range []string{"remla-blue", "remla-green"} {
		dep, err := d.client.AppsV1().Deployments(ns).Get(ctx, release, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		checkStoreWiring(t, release, dep)
	}
	if err := d.ApplyShared(ctx); err != nil {
		t.Fatal(err)
	}
	if again := secrets(); !equalSecrets(first, again) {
		t.Fatal("re-applying the shared release changed the generated signing key or password: every open prediction id would be refused")
	}
	if err := d.Undeploy(ctx, Blue); err != nil {
		t.Fatal(err)
	}
	if !equalSecrets(first, secrets()) {
		t.Fatal("undeploying a color changed the shared Secrets")
	}
	if _, err := d.client.AppsV1().StatefulSets(ns).Get(ctx, "remla-postgresql", metav1.GetOptions{}); err != nil {
		t.Fatalf("the store went with a color: %v", err)
	}
}

func checkStoreWiring(t *testing.T, release string, dep *appsv1.Deployment) {
	t.Helper()
	pod := dep.Spec.Template.Spec
	env := map[string]corev1.EnvVar{}
	for _, e := range pod.Containers[0].Env {
		env[e.Name] = e
	}
	if dsn := env["REMLA_FEEDBACK_DSN"].Value; !strings.Contains(dsn, "host=$(REMLA_POSTGRESQL_SERVICE_HOST),remla-postgresql ") {
		t.Errorf("%s: DSN %q", release, dsn)
	}
	if ref := env["PGPASSWORD"].ValueFrom; ref == nil || ref.SecretKeyRef.Name != "remla-postgresql" {
		t.Errorf("%s: PGPASSWORD %+v", release, env["PGPASSWORD"])
	}
	found := false
	for _, v := range pod.Volumes {
		if v.Secret != nil && v.Secret.SecretName == "remla-feedback-key" {
			found = true
		}
		if v.EmptyDir != nil && v.Name == "data" {
			t.Errorf("%s: per-pod data volume %+v", release, v)
		}
	}
	if !found {
		t.Errorf("%s: no signing key volume in %+v", release, pod.Volumes)
	}
}

func equalSecrets(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !bytes.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

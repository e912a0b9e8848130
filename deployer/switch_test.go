package deployer

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// TestSwitchLosesRace covers the branch where the API server rejects the
// update because the Service changed since it was read. The cluster tests
// race two real switches; this one makes the loss certain.
func TestSwitchLosesRace(t *testing.T) {
	one := int32(1)
	cs := fake.NewClientset(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ns"}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "remla", Namespace: "ns", ResourceVersion: "7"},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "remla", "color": "blue"}}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "remla-green", Namespace: "ns"},
			Spec: appsv1.DeploymentSpec{Replicas: &one}, Status: appsv1.DeploymentStatus{ReadyReplicas: 1}},
	)
	var sent *corev1.Service
	cs.PrependReactor("update", "services", func(a k8stesting.Action) (bool, runtime.Object, error) {
		sent = a.(k8stesting.UpdateAction).GetObject().(*corev1.Service)
		return true, nil, apierrors.NewConflict(schema.GroupResource{Resource: "services"}, "remla", errors.New("the object has been modified"))
	})
	d := &Deployer{cfg: DefaultConfig(), ns: "ns", client: cs, log: slog.New(slog.NewTextHandler(io.Discard, nil)), identity: "operator:test"}
	rec, err := d.Switch(context.Background(), Green, SwitchOptions{Reason: "test"})
	if !errors.Is(err, ErrConflict) || rec != nil {
		t.Fatalf("got %v %v, want ErrConflict", rec, err)
	}
	if sent == nil || sent.ResourceVersion != "7" || sent.Spec.Selector["color"] != "green" || sent.Annotations[annoActive] != "green" {
		t.Errorf("the update must carry the resourceVersion it read and move selector and state together: %+v", sent)
	}
}

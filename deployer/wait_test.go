package deployer

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// TestRolloutDone walks the cases of kubectl rollout status.
func TestRolloutDone(t *testing.T) {
	three := int32(3)
	dep := func(gen, obs int64, st appsv1.DeploymentStatus, conds ...appsv1.DeploymentCondition) *appsv1.Deployment {
		d := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Replicas: &three}, Status: st}
		d.Name, d.Generation, d.Status.ObservedGeneration, d.Status.Conditions = "remla-green", gen, obs, conds
		return d
	}
	tests := []struct {
		name    string
		d       *appsv1.Deployment
		done    bool
		msg     string
		wantErr bool
	}{
		{"spec not observed", dep(2, 1, appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 3}), false, "spec update to be observed", false},
		{"not all updated", dep(2, 2, appsv1.DeploymentStatus{Replicas: 4, UpdatedReplicas: 1, AvailableReplicas: 3}), false, "1 out of 3 new replicas", false},
		{"old replicas left", dep(2, 2, appsv1.DeploymentStatus{Replicas: 4, UpdatedReplicas: 3, AvailableReplicas: 3}), false, "1 old replicas are pending termination", false},
		{"not available", dep(2, 2, appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 2, ReadyReplicas: 3}), false, "2 of 3 updated replicas are available", false},
		{"done", dep(2, 2, appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 3}), true, "successfully", false},
		{"progress deadline", dep(2, 2, appsv1.DeploymentStatus{}, appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Reason: "ProgressDeadlineExceeded"}), false, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			done, msg, err := rolloutDone(tc.d)
			if done != tc.done || !strings.Contains(msg, tc.msg) || (err != nil) != tc.wantErr {
				t.Errorf("got %v %q %v", done, msg, err)
			}
		})
	}
}

// TestWaitRolloutRetriesReadErrors: a failed read of the Deployment (a busy
// API server, the client's rate limiter) does not end the wait; a refusal
// (403) does, at once.
func TestWaitRolloutRetriesReadErrors(t *testing.T) {
	two := int32(2)
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "remla-green", Namespace: "ns", Generation: 1},
		Spec:   appsv1.DeploymentSpec{Replicas: &two},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 2, UpdatedReplicas: 2, AvailableReplicas: 2, ReadyReplicas: 2}}
	for _, tc := range []struct {
		name    string
		err     error
		wantErr string
	}{
		{"transient", errors.New("rate: Wait(n=1) would exceed context deadline"), ""},
		{"forbidden", apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments"}, "remla-green", errors.New("no")), "forbidden"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := fake.NewClientset(dep.DeepCopy())
			fails := 3
			cs.PrependReactor("get", "deployments", func(k8stesting.Action) (bool, runtime.Object, error) {
				if fails > 0 {
					fails--
					return true, nil, tc.err
				}
				return false, nil, nil
			})
			d, err := New(Options{Client: cs, Namespace: "ns", Identity: "operator:test", Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err = d.waitRollout(ctx, Green, "2", nil)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("a rollout read %d times in error, then done: %v", 3, err)
			case tc.wantErr == "" && fails != 0:
				t.Fatalf("%d failed reads left; want all retried", fails)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr) || fails != 2):
				t.Fatalf("a forbidden read: %v after %d reads; want it at once", err, 3-fails)
			}
		})
	}
}

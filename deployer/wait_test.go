package deployer

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
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

package deployer

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Status reads the state from the cluster: the active color, standings and
// history from the active Service, what each color runs from its Deployment,
// and what a rollback would do now. A baking color whose window has passed
// reads as stable here even before a writer persists it. Before init it
// returns a State with no active color and no error.
func (d *Deployer) Status(ctx context.Context) (*State, error) {
	v, err := d.read(ctx)
	if err != nil {
		return nil, err
	}
	return d.state(v), nil
}

// state turns a view into the State every client reads.
func (d *Deployer) state(v *view) *State {
	st := &State{Namespace: d.ns, Active: v.st.Active, History: v.st.History, Colors: map[Color]ColorStatus{}}
	for _, c := range Colors {
		cs := ColorStatus{}
		if dep, ok := v.deps[c]; ok {
			cs = d.colorStatus(dep)
			cs.Template = v.template(c)
		}
		cs.Standing = d.standingOf(v, c)
		cs.Standby = d.standbyOf(v, c)
		for _, r := range v.st.History {
			if r.To == c && (r.Kind() == EventSwitched || r.Kind() == EventRolledBack) {
				cs.ActiveSince, cs.ActiveReason = r.Time, r.Reason
				break
			}
		}
		st.Colors[c] = cs
	}
	if v.svc != nil {
		to, t := d.rollbackTarget(v, "")
		st.Rollback = RollbackPlan{To: to, Version: t.Version}
		if t.cold != nil {
			st.Rollback.ScaleUp = t.cold.Restore
		}
		if t.err != nil {
			st.Rollback = RollbackPlan{Refused: t.err.Error()}
		}
	}
	return st
}

// deployments returns each color's Deployment, read by its release name: two
// GETs cost a few milliseconds where a labelled List costs tens on a busy
// apiserver, and the alert actor reads this on every webhook.
func (d *Deployer) deployments(ctx context.Context) (map[Color]*appsv1.Deployment, error) {
	out := map[Color]*appsv1.Deployment{}
	for _, c := range Colors {
		name := d.cfg.Release(c)
		dep, err := d.client.AppsV1().Deployments(d.ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read Deployment %s in %s: %w", name, d.ns, err)
		}
		out[c] = dep
	}
	return out, nil
}

func (d *Deployer) colorStatus(dep *appsv1.Deployment) ColorStatus {
	cs := ColorStatus{
		Deployed: true,
		Version:  d.versionOf(dep),
		Ready:    dep.Status.ReadyReplicas,
		Updated:  dep.Status.UpdatedReplicas,
		Desired:  1,
	}
	if dep.Spec.Replicas != nil {
		cs.Desired = *dep.Spec.Replicas
	}
	done, msg, err := rolloutDone(dep)
	switch {
	case err != nil:
		cs.Rollout = err.Error()
	case done:
		cs.Rollout = "complete"
	default:
		cs.Rollout = msg
	}
	if cts := dep.Spec.Template.Spec.Containers; len(cts) > 0 {
		cs.Image = cts[0].Image
	}
	return cs
}

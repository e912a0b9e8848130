package deployer

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Status reads the state from the cluster: the active color and history from
// the active Service, what each color runs from its Deployment. Before init
// it returns a State with no active color and no error.
func (d *Deployer) Status(ctx context.Context) (*State, error) {
	if err := d.checkNamespace(ctx); err != nil {
		return nil, err
	}
	st := &State{Colors: map[Color]ColorStatus{}}
	svc, err := d.client.CoreV1().Services(d.ns).Get(ctx, d.cfg.ActiveService, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return nil, fmt.Errorf("read active Service %s/%s: %w", d.ns, d.cfg.ActiveService, err)
	default:
		s, err := readStored(svc, d.cfg.Labels.Color)
		if err != nil {
			return nil, err
		}
		st.Active, st.LastGood, st.History = s.Active, s.LastGood, s.History
	}
	deps, err := d.deployments(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range Colors {
		cs := ColorStatus{}
		if dep, ok := deps[c]; ok {
			cs = d.colorStatus(dep)
		}
		for _, r := range st.History {
			if r.To == c {
				cs.ActiveSince, cs.ActiveReason = r.Time, r.Reason
				break
			}
		}
		st.Colors[c] = cs
	}
	return st, nil
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
		Version:  dep.Spec.Template.Labels[d.cfg.Labels.Version],
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

package deployer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
)

// Progress is one observation of a rollout, for a live progress line.
type Progress struct {
	Color   Color
	Version string
	// Ready, Updated and Available count replicas; Desired is the target.
	Ready, Updated, Available, Desired int32
	Elapsed                            time.Duration
	// Message says what the rollout waits for, as kubectl rollout status does.
	Message string
	Done    bool
}

// pollInterval is how often a rollout is observed. The API server is local
// to most operators' clusters; a quarter second keeps deploy-to-switch short.
const pollInterval = 250 * time.Millisecond

// rolloutDone applies the test of `kubectl rollout status`
// (k8s.io/kubectl/pkg/polymorphichelpers.DeploymentStatusViewer): the
// controller observed the latest spec, every replica runs the new template,
// no old replica is left, and every updated replica is available. It is
// stricter than Helm's wait, which passes as soon as enough pods are ready.
func rolloutDone(dep *appsv1.Deployment) (bool, string, error) {
	if dep.Generation > dep.Status.ObservedGeneration {
		return false, "waiting for the Deployment spec update to be observed", nil
	}
	for _, c := range dep.Status.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Reason == "ProgressDeadlineExceeded" {
			return false, "", fmt.Errorf("deployment %q exceeded its progress deadline: %s", dep.Name, c.Message)
		}
	}
	want := replicas(dep.Spec.Replicas)
	st := dep.Status
	switch {
	case st.UpdatedReplicas < want:
		return false, fmt.Sprintf("%d out of %d new replicas have been updated", st.UpdatedReplicas, want), nil
	case st.Replicas > st.UpdatedReplicas:
		return false, fmt.Sprintf("%d old replicas are pending termination", st.Replicas-st.UpdatedReplicas), nil
	case st.AvailableReplicas < st.UpdatedReplicas:
		return false, fmt.Sprintf("%d of %d updated replicas are available", st.AvailableReplicas, st.UpdatedReplicas), nil
	}
	return true, "successfully rolled out", nil
}

// RolloutError says why a color did not become ready in time: the pods that
// are not ready and why. It unwraps to ErrTimeout.
type RolloutError struct {
	Color   Color
	Version string
	Waited  time.Duration
	// Status is the last rollout message ("1 of 2 updated replicas are available").
	Status string
	// Problems name the unready pods and why, or the Deployment's conditions
	// when no pod exists.
	Problems []string
	// Active is the color that still has the traffic ("" before init).
	Active Color
	cause  error
}

func (e *RolloutError) Error() string {
	var b strings.Builder
	if errors.Is(e.cause, ErrImagePull) {
		fmt.Fprintf(&b, "%s %s failed after %s", e.Color, e.Version, e.Waited.Round(time.Second))
	} else {
		fmt.Fprintf(&b, "%s %s not ready after %s", e.Color, e.Version, e.Waited.Round(time.Second))
	}
	if e.cause != nil {
		fmt.Fprintf(&b, " (%v)", e.cause)
	} else if e.Status != "" {
		fmt.Fprintf(&b, " (%s)", e.Status)
	}
	if len(e.Problems) > 0 {
		b.WriteString(": " + strings.Join(e.Problems, "; "))
	}
	if e.Active != "" {
		fmt.Fprintf(&b, "; traffic stays on %s", e.Active)
	}
	b.WriteString("; fix the image or version and deploy again, or raise --timeout")
	return b.String()
}

// Unwrap gives ErrTimeout, and the cause (ErrImagePull) when there is one.
func (e *RolloutError) Unwrap() []error {
	if e.cause != nil {
		return []error{ErrTimeout, e.cause}
	}
	return []error{ErrTimeout}
}

// waitRollout polls the color's Deployment until rolloutDone or the context
// ends; on the deadline it returns a *RolloutError naming the unready pods.
func (d *Deployer) waitRollout(ctx context.Context, c Color, version string, progress func(Progress)) error {
	name := d.cfg.Release(c)
	start := time.Now()
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	var last string
	var pullFailing time.Time // since when a new pod's image cannot be pulled
	lastPodCheck := start
	for {
		dep, err := d.client.AppsV1().Deployments(d.ns).Get(ctx, name, metav1.GetOptions{})
		switch {
		case err == nil:
			done, msg, derr := rolloutDone(dep)
			p := Progress{Color: c, Version: version, Ready: dep.Status.ReadyReplicas, Updated: dep.Status.UpdatedReplicas,
				Available: dep.Status.AvailableReplicas, Desired: replicas(dep.Spec.Replicas), Elapsed: time.Since(start), Message: msg, Done: done}
			if progress != nil {
				progress(p)
			}
			if msg != last {
				d.log.Debug("rollout", "color", c, "status", msg)
				last = msg
			}
			if derr != nil {
				return d.rolloutError(c, version, time.Since(start), msg, derr)
			}
			if done {
				return nil
			}
			if time.Since(lastPodCheck) >= podCheckInterval {
				lastPodCheck = time.Now()
				if image, bad := d.imagePullFailing(ctx, c, version); !bad {
					pullFailing = time.Time{}
				} else if pullFailing.IsZero() {
					pullFailing = time.Now()
				} else if time.Since(pullFailing) >= imagePullGrace {
					return d.rolloutError(c, version, time.Since(start), msg,
						imagePullError{image: image, version: version})
				}
			}
		case apierrors.IsNotFound(err):
			last = "waiting for the Deployment to be created"
		case ctx.Err() != nil:
		case apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err):
			return fmt.Errorf("watch rollout of %s: %w", name, err)
		default:
			// A busy or restarting API server, or the client's rate limiter
			// refusing a wait that would pass the deadline: the rollout goes
			// on, so read it again on the next tick, as kubectl rollout
			// status does; the deadline still ends the wait.
			d.log.Debug("reading the rollout failed; retrying", "color", c, "err", err)
			if last == "" {
				last = "reading the Deployment failed: " + err.Error()
			}
		}
		select {
		case <-ctx.Done():
			if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return interrupted(ctx, "waiting for "+name, ctx.Err())
			}
			return d.rolloutError(c, version, time.Since(start), last, nil)
		case <-t.C:
		}
	}
}

// An image that cannot be pulled rarely fixes itself: rather than wait for
// the whole timeout, a deploy gives up once the pods of the new version have
// failed to pull it for imagePullGrace, which outlasts a registry hiccup.
const (
	imagePullGrace   = 15 * time.Second
	podCheckInterval = 2 * time.Second
)

type imagePullError struct{ image, version string }

func (e imagePullError) Error() string {
	return fmt.Sprintf("image %s cannot be pulled: is version %s published, and can the cluster reach the registry?", e.image, e.version)
}

func (e imagePullError) Is(target error) bool { return target == ErrImagePull }

// imagePullFailing reports whether a pod of this color and version waits on
// an image it cannot pull, and which image.
func (d *Deployer) imagePullFailing(ctx context.Context, c Color, version string) (string, bool) {
	sel := labels.Set{d.cfg.Labels.App: d.cfg.App, d.cfg.Labels.Color: string(c), d.cfg.Labels.Version: version}.AsSelector().String()
	pods, err := d.client.CoreV1().Pods(d.ns).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return "", false
	}
	for _, p := range pods.Items {
		for _, cs := range p.Status.ContainerStatuses {
			if w := cs.State.Waiting; w != nil {
				switch w.Reason {
				case "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull":
					return cs.Image, true
				}
			}
		}
	}
	return "", false
}

// rolloutError gathers why the pods of a color are not ready. Its own
// short deadline: the operation's has passed.
func (d *Deployer) rolloutError(c Color, version string, waited time.Duration, status string, cause error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e := &RolloutError{Color: c, Version: version, Waited: waited, Status: status, cause: cause}
	if svc, err := d.client.CoreV1().Services(d.ns).Get(ctx, d.cfg.ActiveService, metav1.GetOptions{}); err == nil {
		if s, err := readStored(svc, d.cfg.Labels.Color); err == nil {
			e.Active = s.Active
		}
	}
	e.Problems = d.diagnose(ctx, c)
	return e
}

// diagnose names each unready pod of a color with its container waiting
// reasons, failing conditions and latest warning Events.
func (d *Deployer) diagnose(ctx context.Context, c Color) []string {
	sel := labels.Set{d.cfg.Labels.App: d.cfg.App, d.cfg.Labels.Color: string(c)}.AsSelector().String()
	pods, err := d.client.CoreV1().Pods(d.ns).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return []string{fmt.Sprintf("cannot list pods: %v", err)}
	}
	var out []string
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil || podReady(&p) {
			continue
		}
		out = append(out, fmt.Sprintf("pod %s: %s", p.Name, strings.Join(d.podReasons(ctx, &p), ", ")))
	}
	if len(out) == 0 && len(pods.Items) == 0 {
		// No pod at all: the Deployment or ReplicaSet says why (quota,
		// admission, a missing ServiceAccount).
		if dep, err := d.client.AppsV1().Deployments(d.ns).Get(ctx, d.cfg.Release(c), metav1.GetOptions{}); err == nil {
			for _, cond := range dep.Status.Conditions {
				if cond.Status != corev1.ConditionTrue {
					out = append(out, fmt.Sprintf("Deployment %s: %s: %s", dep.Name, cond.Reason, cond.Message))
				}
			}
		}
		out = append(out, "no pod exists")
	}
	return out
}

func (d *Deployer) podReasons(ctx context.Context, p *corev1.Pod) []string {
	var r []string
	if p.Status.Phase != corev1.PodRunning {
		r = append(r, "phase "+string(p.Status.Phase))
	}
	for _, cs := range slices.Concat(p.Status.InitContainerStatuses, p.Status.ContainerStatuses) {
		switch {
		case cs.State.Waiting != nil:
			r = append(r, fmt.Sprintf("container %s waiting: %s%s", cs.Name, cs.State.Waiting.Reason, msg(cs.State.Waiting.Message)))
		case cs.State.Terminated != nil:
			r = append(r, fmt.Sprintf("container %s terminated: %s (exit %d)%s", cs.Name, cs.State.Terminated.Reason, cs.State.Terminated.ExitCode, msg(cs.State.Terminated.Message)))
		case !cs.Ready:
			r = append(r, fmt.Sprintf("container %s running but not ready (readiness probe)", cs.Name))
		}
		if cs.RestartCount > 0 {
			r = append(r, fmt.Sprintf("container %s restarted %d times", cs.Name, cs.RestartCount))
		}
	}
	for _, cond := range p.Status.Conditions {
		if cond.Status != corev1.ConditionTrue && cond.Reason != "" && cond.Type != corev1.ContainersReady && cond.Type != corev1.PodReady {
			r = append(r, fmt.Sprintf("%s: %s%s", cond.Type, cond.Reason, msg(cond.Message)))
		}
	}
	fs := fields.Set{"involvedObject.kind": "Pod", "involvedObject.name": p.Name, "type": corev1.EventTypeWarning}.AsSelector().String()
	if evs, err := d.client.CoreV1().Events(d.ns).List(ctx, metav1.ListOptions{FieldSelector: fs}); err == nil && len(evs.Items) > 0 {
		slices.SortFunc(evs.Items, func(a, b corev1.Event) int { return eventTime(b).Compare(eventTime(a)) })
		for _, ev := range evs.Items[:min(2, len(evs.Items))] {
			r = append(r, fmt.Sprintf("event %s: %s", ev.Reason, ev.Message))
		}
	}
	if len(r) == 0 {
		r = append(r, "not ready")
	}
	return r
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func eventTime(e corev1.Event) time.Time {
	switch {
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	}
	return e.CreationTimestamp.Time
}

func msg(m string) string {
	if m == "" {
		return ""
	}
	return " (" + m + ")"
}

package clustertest_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/remla/tagger/test/clustertest"
)

// The smoke tests prove the test cluster does what the deployer's tests rely
// on: controllers roll Deployments out, kwok makes pods Ready, EndpointSlices
// follow Service selectors, and the never-ready label yields ImagePullBackOff.

func TestDeploymentBecomesAvailable(t *testing.T) {
	ns := clustertest.Namespace(t)
	cs := clustertest.Client(t)
	ctx := t.Context()
	d := deployment("web", map[string]string{"app": "web"}, 2)
	if _, err := cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create deployment: %v", err)
	}
	waitAvailable(t, cs, ns, "web", 2)

	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 2 {
		t.Fatalf("got %d pods, want 2", len(pods.Items))
	}
	for _, p := range pods.Items {
		if p.Spec.NodeName == "" || p.Status.PodIP == "" || !podReady(&p) {
			t.Errorf("pod %s: node %q, IP %q, ready %v; want scheduled, with an IP, Ready", p.Name, p.Spec.NodeName, p.Status.PodIP, podReady(&p))
		}
	}
}

func TestServiceSelectorMovesEndpointSlice(t *testing.T) {
	ns := clustertest.Namespace(t)
	cs := clustertest.Client(t)
	ctx := t.Context()
	for _, color := range []string{"blue", "green"} {
		d := deployment("web-"+color, map[string]string{"app": "web", "color": color}, 1)
		if _, err := cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create deployment: %v", err)
		}
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "web", "color": "blue"},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}},
		},
	}
	if _, err := cs.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create service: %v", err)
	}
	waitAvailable(t, cs, ns, "web-blue", 1)
	waitAvailable(t, cs, ns, "web-green", 1)
	waitEndpoints(t, cs, ns, "web", "web-blue-")

	patch := []byte(`{"spec":{"selector":{"color":"green"}}}`)
	if _, err := cs.CoreV1().Services(ns).Patch(ctx, "web", types.StrategicMergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatalf("patch service selector: %v", err)
	}
	waitEndpoints(t, cs, ns, "web", "web-green-")
}

func TestNeverReadyPodShowsImagePullBackOff(t *testing.T) {
	ns := clustertest.Namespace(t)
	cs := clustertest.Client(t)
	ctx := t.Context()
	const image = "registry.invalid/remla/app:missing"
	bad := deployment("bad", map[string]string{"app": "bad", clustertest.NeverReadyLabel: "true"}, 1)
	bad.Spec.Template.Spec.Containers[0].Image = image
	good := deployment("good", map[string]string{"app": "good"}, 1)
	for _, d := range []*appsv1.Deployment{bad, good} {
		if _, err := cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create deployment: %v", err)
		}
	}
	var badPod corev1.Pod
	eventually(t, 30*time.Second, "the fake kubelet to give the never-ready pod a container status", func(ctx context.Context) (bool, error) {
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=bad"})
		if err != nil {
			return false, err
		}
		if len(pods.Items) != 1 {
			return false, fmt.Errorf("%d pods", len(pods.Items))
		}
		badPod = pods.Items[0]
		if len(badPod.Status.ContainerStatuses) == 0 {
			return false, fmt.Errorf("pod %s: phase %s, no container status", badPod.Name, badPod.Status.Phase)
		}
		return true, nil
	})
	// The good Deployment becoming Available after the bad pod was handled
	// shows the fake kubelet had every chance to make the bad pod Ready.
	waitAvailable(t, cs, ns, "good", 1)

	p, err := cs.CoreV1().Pods(ns).Get(ctx, badPod.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if podReady(p) {
		t.Errorf("pod %s is Ready; want it never ready", p.Name)
	}
	w := p.Status.ContainerStatuses[0].State.Waiting
	if w == nil || w.Reason != "ImagePullBackOff" || w.Message != fmt.Sprintf("Back-off pulling image %q", image) {
		t.Errorf("container state %+v; want waiting, reason ImagePullBackOff, message naming %s", p.Status.ContainerStatuses[0].State, image)
	}
	d, err := cs.AppsV1().Deployments(ns).Get(ctx, "bad", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Status.AvailableReplicas != 0 || d.Status.UnavailableReplicas != 1 {
		t.Errorf("deployment bad: %d available, %d unavailable; want 0 and 1", d.Status.AvailableReplicas, d.Status.UnavailableReplicas)
	}
}

func TestNamespacesAreDistinct(t *testing.T) {
	a, b := clustertest.Namespace(t), clustertest.Namespace(t)
	if a == b {
		t.Fatalf("two calls gave namespace %q twice", a)
	}
	if !strings.HasPrefix(a, "testnamespacesaredistinct-") {
		t.Errorf("namespace %q is not named after the test", a)
	}
	ns, err := clustertest.Client(t).CoreV1().Namespaces().Get(t.Context(), a, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ns.Labels[clustertest.NamespaceLabel] != "true" {
		t.Errorf("namespace labels %v; want %s=true", ns.Labels, clustertest.NamespaceLabel)
	}
}

func BenchmarkDeploymentAvailable(b *testing.B) {
	ns := clustertest.Namespace(b)
	cs := clustertest.Client(b)
	for i := 0; b.Loop(); i++ {
		name := fmt.Sprintf("web-%d", i)
		d := deployment(name, map[string]string{"app": name}, 2)
		if _, err := cs.AppsV1().Deployments(ns).Create(b.Context(), d, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
		waitAvailable(b, cs, ns, name, 2)
	}
}

func BenchmarkServiceSelectorSwitch(b *testing.B) {
	ns := clustertest.Namespace(b)
	cs := clustertest.Client(b)
	ctx := b.Context()
	for _, color := range []string{"blue", "green"} {
		d := deployment("web-"+color, map[string]string{"app": "web", "color": color}, 1)
		if _, err := cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
		waitAvailable(b, cs, ns, "web-"+color, 1)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "web", "color": "blue"},
			Ports:    []corev1.ServicePort{{Port: 80}},
		},
	}
	if _, err := cs.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	waitEndpoints(b, cs, ns, "web", "web-blue-")
	colors := []string{"green", "blue"}
	for i := 0; b.Loop(); i++ {
		color := colors[i%2]
		patch := fmt.Appendf(nil, `{"spec":{"selector":{"color":%q}}}`, color)
		if _, err := cs.CoreV1().Services(ns).Patch(ctx, "web", types.StrategicMergePatchType, patch, metav1.PatchOptions{}); err != nil {
			b.Fatal(err)
		}
		waitEndpoints(b, cs, ns, "web", "web-"+color+"-")
	}
}

func deployment(name string, labels map[string]string, replicas int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name:  "app",
					Image: "remla-app:test",
					Ports: []corev1.ContainerPort{{ContainerPort: 8080}},
				}}},
			},
		},
	}
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func waitAvailable(t testing.TB, cs kubernetes.Interface, ns, name string, replicas int32) {
	t.Helper()
	eventually(t, 60*time.Second, "deployment "+name+" to be Available", func(ctx context.Context) (bool, error) {
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		if d.Status.ObservedGeneration < d.Generation || d.Status.AvailableReplicas != replicas || d.Status.UpdatedReplicas != replicas {
			return false, fmt.Errorf("generation %d observed %d, %d updated, %d available, want %d",
				d.Generation, d.Status.ObservedGeneration, d.Status.UpdatedReplicas, d.Status.AvailableReplicas, replicas)
		}
		for _, c := range d.Status.Conditions {
			if c.Type == appsv1.DeploymentAvailable && c.Status == corev1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
}

// waitEndpoints waits until the Service's EndpointSlices list only ready
// endpoints of pods whose names start with podPrefix, and at least one.
func waitEndpoints(t testing.TB, cs kubernetes.Interface, ns, service, podPrefix string) {
	t.Helper()
	eventually(t, 60*time.Second, "the EndpointSlices of "+service+" to hold only pods "+podPrefix+"*", func(ctx context.Context) (bool, error) {
		list, err := cs.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{
			LabelSelector: discoveryv1.LabelServiceName + "=" + service,
		})
		if err != nil {
			return false, err
		}
		pods := endpointPods(list.Items)
		if len(pods) == 0 {
			return false, fmt.Errorf("no endpoints")
		}
		for _, p := range pods {
			if !strings.HasPrefix(p, podPrefix) || strings.HasSuffix(p, "(not ready)") {
				return false, fmt.Errorf("endpoints %v", pods)
			}
		}
		return true, nil
	})
}

func endpointPods(items []discoveryv1.EndpointSlice) []string {
	var pods []string
	for _, s := range items {
		for _, e := range s.Endpoints {
			name := "?"
			if e.TargetRef != nil {
				name = e.TargetRef.Name
			}
			if e.Conditions.Ready == nil || !*e.Conditions.Ready {
				name += " (not ready)"
			}
			pods = append(pods, name)
		}
	}
	slices.Sort(pods)
	return pods
}

// eventually polls cond every 50ms until it returns true, failing the test
// with the last error after timeout.
func eventually(t testing.TB, timeout time.Duration, what string, cond func(context.Context) (bool, error)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	var last error
	for {
		ok, err := cond(ctx)
		if ok {
			return
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waited %s for %s; last error: %v", timeout, what, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

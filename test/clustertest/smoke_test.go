package clustertest_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
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

// The smoke tests prove the test cluster's real node does what the
// deployer's tests rely on: Deployments of the app image (imported without a
// registry) roll out and their pods answer at their own IPs, a Service's
// ClusterIP reaches the pods its selector names through kube-proxy, and an
// image that was not imported or a model that cannot load make pods that
// really never become ready.

// smokeTag is the app image's tag in these tests.
const smokeTag = "smoke"

func TestDeploymentBecomesAvailable(t *testing.T) {
	ns := clustertest.Namespace(t)
	cs := clustertest.Client(t)
	clustertest.AppImage(t, clustertest.Good, smokeTag)
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
	_, podNet, _ := net.ParseCIDR("198.18.0.0/24")
	for _, p := range pods.Items {
		if p.Spec.NodeName != clustertest.RealNodeName || !podNet.Contains(net.ParseIP(p.Status.PodIP)) || !podReady(&p) {
			t.Errorf("pod %s: node %q, IP %q, ready %v; want on %s, with an IP of %s, Ready", p.Name, p.Spec.NodeName, p.Status.PodIP, podReady(&p), clustertest.RealNodeName, podNet)
			continue
		}
		// The container itself answers, at the pod's own address.
		resp, err := clustertest.HTTPClient.Get("http://" + p.Status.PodIP + ":8080/readyz")
		if err != nil {
			t.Errorf("GET /readyz of pod %s at %s: %v", p.Name, p.Status.PodIP, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET /readyz of pod %s: %s", p.Name, resp.Status)
		}
	}
}

func TestServiceSelectorMovesTraffic(t *testing.T) {
	ns := clustertest.Namespace(t)
	cs := clustertest.Client(t)
	ctx := t.Context()
	base := twoColors(t, cs, ns)

	patch := []byte(`{"spec":{"selector":{"color":"green"}}}`)
	if _, err := cs.CoreV1().Services(ns).Patch(ctx, "web", types.StrategicMergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatalf("patch service selector: %v", err)
	}
	waitEndpoints(t, cs, ns, "web", "web-green-")
	waitColor(t, base, "green")
	// Once the rules moved, every new connection reaches green.
	for i := range 20 {
		a, err := clustertest.Predict(ctx, base, "How to parse JSON in Python")
		if err != nil || a.Color != "green" {
			t.Fatalf("request %d through %s after the switch: color %q (%v), want green", i, base, a.Color, err)
		}
	}
}

func TestNeverReadyPods(t *testing.T) {
	ns := clustertest.Namespace(t)
	cs := clustertest.Client(t)
	clustertest.AppImage(t, clustertest.BrokenModel, "broken")
	clustertest.AppImage(t, clustertest.Good, smokeTag)
	ctx := t.Context()
	const missing = clustertest.AppRepository + ":not-imported"
	unpullable := deployment("unpullable", map[string]string{"app": "unpullable"}, 1)
	unpullable.Spec.Template.Spec.Containers[0].Image = missing
	broken := deployment("broken", map[string]string{"app": "broken"}, 1)
	broken.Spec.Template.Spec.Containers[0].Image = clustertest.AppRepository + ":broken"
	good := deployment("good", map[string]string{"app": "good"}, 1)
	for _, d := range []*appsv1.Deployment{unpullable, broken, good} {
		if _, err := cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create deployment: %v", err)
		}
	}
	waitReason := func(app string, reasons ...string) corev1.ContainerStateWaiting {
		t.Helper()
		var w corev1.ContainerStateWaiting
		eventually(t, 90*time.Second, "the pod of "+app+" to wait with "+strings.Join(reasons, " or "), func(ctx context.Context) (bool, error) {
			pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + app})
			if err != nil || len(pods.Items) != 1 {
				return false, fmt.Errorf("%d pods (%v)", len(pods.Items), err)
			}
			p := pods.Items[0]
			if podReady(&p) {
				return false, fmt.Errorf("pod %s is Ready", p.Name)
			}
			for _, c := range p.Status.ContainerStatuses {
				if c.State.Waiting != nil && slices.Contains(reasons, c.State.Waiting.Reason) {
					w = *c.State.Waiting
					return true, nil
				}
				return false, fmt.Errorf("container state %+v", c.State)
			}
			return false, fmt.Errorf("pod %s: phase %s, no container status", p.Name, p.Status.Phase)
		})
		return w
	}
	// The image was never imported: the pull goes to the refused loopback
	// registry, and nowhere else.
	w := waitReason("unpullable", "ErrImagePull", "ImagePullBackOff")
	if !strings.Contains(w.Message, missing) || !strings.Contains(w.Message, "127.0.0.1:1") {
		t.Errorf("pull failure %q; want it to name %s and the refused registry 127.0.0.1:1", w.Message, missing)
	}
	// The model cannot be loaded: the container exits and is restarted.
	waitReason("broken", "CrashLoopBackOff")
	waitAvailable(t, cs, ns, "good", 1)
	for _, name := range []string{"unpullable", "broken"} {
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if d.Status.AvailableReplicas != 0 || d.Status.UnavailableReplicas != 1 {
			t.Errorf("deployment %s: %d available, %d unavailable; want 0 and 1", name, d.Status.AvailableReplicas, d.Status.UnavailableReplicas)
		}
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

// BenchmarkDeploymentAvailable: a 2-replica Deployment of the app image,
// from create to Available (containers started, readiness probes passed).
func BenchmarkDeploymentAvailable(b *testing.B) {
	ns := clustertest.Namespace(b)
	cs := clustertest.Client(b)
	clustertest.AppImage(b, clustertest.Good, smokeTag)
	for i := 0; b.Loop(); i++ {
		name := fmt.Sprintf("web-%d", i)
		d := deployment(name, map[string]string{"app": name}, 2)
		if _, err := cs.AppsV1().Deployments(ns).Create(b.Context(), d, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
		waitAvailable(b, cs, ns, name, 2)
		b.StopTimer()
		if err := cs.AppsV1().Deployments(ns).Delete(b.Context(), name, metav1.DeleteOptions{}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkServiceSelectorSwitch: a Service selector patched to the other
// color, to the first request through the ClusterIP answered by it.
func BenchmarkServiceSelectorSwitch(b *testing.B) {
	ns := clustertest.Namespace(b)
	cs := clustertest.Client(b)
	ctx := b.Context()
	base := twoColors(b, cs, ns)
	colors := []string{"green", "blue"}
	for i := 0; b.Loop(); i++ {
		color := colors[i%2]
		patch := fmt.Appendf(nil, `{"spec":{"selector":{"color":%q}}}`, color)
		if _, err := cs.CoreV1().Services(ns).Patch(ctx, "web", types.StrategicMergePatchType, patch, metav1.PatchOptions{}); err != nil {
			b.Fatal(err)
		}
		waitColor(b, base, color)
	}
}

// twoColors runs a blue and a green Deployment of the app (one pod each)
// behind a Service "web" that selects blue, and returns the Service's URL once
// blue answers through it.
func twoColors(tb testing.TB, cs kubernetes.Interface, ns string) string {
	tb.Helper()
	clustertest.AppImage(tb, clustertest.Good, smokeTag)
	for _, color := range []string{"blue", "green"} {
		d := deployment("web-"+color, map[string]string{"app": "web", "color": color}, 1)
		if _, err := cs.AppsV1().Deployments(ns).Create(tb.Context(), d, metav1.CreateOptions{}); err != nil {
			tb.Fatalf("create deployment %s: %v", d.Name, err)
		}
	}
	if _, err := cs.CoreV1().Services(ns).Create(tb.Context(), service("web", "blue"), metav1.CreateOptions{}); err != nil {
		tb.Fatalf("create service: %v", err)
	}
	waitAvailable(tb, cs, ns, "web-blue", 1)
	waitAvailable(tb, cs, ns, "web-green", 1)
	base := clustertest.ServiceURL(tb, ns, "web")
	waitColor(tb, base, "blue")
	return base
}

// deployment runs the app image; the pods answer with their color label.
func deployment(name string, labels map[string]string, replicas int32) *appsv1.Deployment {
	color := labels["color"]
	if color == "" {
		color = "blue"
	}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					TerminationGracePeriodSeconds: new(int64),
					Containers: []corev1.Container{{
						Name:  "app",
						Image: clustertest.AppRepository + ":" + smokeTag,
						// Never pull: the image is imported, and a missing one
						// must show as a pull failure from the node's refused registry.
						ImagePullPolicy: corev1.PullIfNotPresent,
						Env:             []corev1.EnvVar{{Name: "REMLA_COLOR", Value: color}},
						Ports:           []corev1.ContainerPort{{ContainerPort: 8080}},
						ReadinessProbe: &corev1.Probe{
							ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/readyz", Port: intstr.FromInt32(8080)}},
							PeriodSeconds: 1,
						},
					}},
				},
			},
		},
	}
}

func service(name, color string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "web", "color": color},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}},
		},
	}
}

// waitColor waits until a request through the Service at base is answered
// by color.
func waitColor(t testing.TB, base, color string) {
	t.Helper()
	eventually(t, 30*time.Second, "a request through "+base+" to be answered by "+color, func(ctx context.Context) (bool, error) {
		a, err := clustertest.Predict(ctx, base, "How to parse JSON in Python")
		if err != nil {
			return false, err
		}
		return a.Color == color, fmt.Errorf("answered by %s", a.Color)
	})
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

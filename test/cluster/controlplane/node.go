package controlplane

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// NodeName is the name of the cluster's one fake Node.
const NodeName = "kwok-node-0"

// nodeAnnotation marks the Nodes kwok manages.
const nodeAnnotation = "kwok.x-k8s.io/node"

// probePodName is the pod Up schedules to prove the scheduler and kwok work.
const probePodName = "remla-cluster-probe"

type client struct {
	cs kubernetes.Interface
}

func newClient(kubeconfigPath string) (*client, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfigPath)
	if err != nil {
		return nil, fmt.Errorf("read kubeconfig %s: %w", kubeconfigPath, err)
	}
	cfg.QPS, cfg.Burst = 50, 100
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("make a client: %w", err)
	}
	return &client{cs: cs}, nil
}

func etcdHealthy(ctx context.Context, url string) error {
	body, err := httpGet(ctx, url+"/health")
	if err != nil {
		return err
	}
	var h struct {
		Health string `json:"health"`
	}
	if err := json.Unmarshal(body, &h); err != nil || h.Health != "true" {
		return fmt.Errorf("etcd /health answered %q", body)
	}
	return nil
}

// ready asks the apiserver's /readyz.
func (c *client) ready(ctx context.Context) error {
	body, err := c.cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
	if err != nil {
		return fmt.Errorf("GET /readyz: %w", err)
	}
	if strings.TrimSpace(string(body)) != "ok" {
		return fmt.Errorf("GET /readyz answered %q", body)
	}
	return nil
}

// createNode registers the fake Node kwok plays the kubelet of: roomy, not
// tainted, with the labels a real kubelet sets.
func (c *client) createNode(ctx context.Context) error {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("32"),
		corev1.ResourceMemory: resource.MustParse("64Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        NodeName,
			Annotations: map[string]string{nodeAnnotation: "fake"},
			Labels: map[string]string{
				"kubernetes.io/hostname": NodeName,
				"kubernetes.io/os":       "linux",
				"kubernetes.io/arch":     "amd64",
				"type":                   "kwok",
			},
		},
		Status: corev1.NodeStatus{Capacity: capacity, Allocatable: capacity},
	}
	_, err := c.cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

func (c *client) nodeReady(ctx context.Context) error {
	n, err := c.cs.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
	if err != nil {
		return err
	}
	for _, cond := range n.Status.Conditions {
		if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
			return nil
		}
	}
	return fmt.Errorf("node %s is not Ready yet", NodeName)
}

func (c *client) defaultServiceAccount(ctx context.Context) error {
	_, err := c.cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
	return err
}

// fakeProbePod is the probe pod for kwok, which never pulls its image.
func fakeProbePod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: probePodName},
		Spec: corev1.PodSpec{
			Containers:                    []corev1.Container{{Name: "probe", Image: "registry.invalid/probe:none"}},
			TerminationGracePeriodSeconds: new(int64),
		},
	}
}

// probePod returns a wait condition that creates pod in kube-system (once)
// and succeeds when it is Ready, which takes the scheduler and the node's
// kubelet (kwok or real); the pod is then deleted.
func (c *client) probePod(pod *corev1.Pod) func(context.Context) error {
	return func(ctx context.Context) error { return c.probe(ctx, pod) }
}

func (c *client) probe(ctx context.Context, pod *corev1.Pod) error {
	pods := c.cs.CoreV1().Pods(metav1.NamespaceSystem)
	p, err := pods.Get(ctx, probePodName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		p, err = pods.Create(ctx, pod, metav1.CreateOptions{})
	}
	if err != nil {
		return err
	}
	for _, cond := range p.Status.Conditions {
		if cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue {
			err := pods.Delete(ctx, probePodName, metav1.DeleteOptions{GracePeriodSeconds: new(int64)})
			if err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("delete the probe pod: %w", err)
			}
			return nil
		}
	}
	if p.Spec.NodeName == "" {
		return fmt.Errorf("probe pod not scheduled yet")
	}
	return fmt.Errorf("probe pod on %s not Ready yet", p.Spec.NodeName)
}

// usable is the health check of a running cluster: the real node's when
// real is set, else kwok's.
func (c *client) usable(ctx context.Context, real bool) error {
	if err := c.ready(ctx); err != nil {
		return err
	}
	nodeReady := c.nodeReady
	if real {
		nodeReady = c.realNodeReady
	}
	if err := nodeReady(ctx); err != nil {
		return err
	}
	return c.defaultServiceAccount(ctx)
}

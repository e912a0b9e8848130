// Package clustertest gives Go tests the project's test Kubernetes cluster: a
// real kube-apiserver, controller-manager and scheduler on 127.0.0.1, and a
// real node (kubelet, containerd, runc, CNI bridge, kube-proxy in iptables
// mode) whose pods run as containers on a bridge of this machine (see
// test/cluster and docs/testing.md).
//
// A test that needs the cluster calls Namespace (or Client / Kubeconfig) first;
// one that needs running containers calls RealNode, AppImage or ServiceURL:
//
//	func TestRollout(t *testing.T) {
//		ns := clustertest.Namespace(t)
//		clustertest.AppImage(t, clustertest.Good, "1.0.0") // ghcr.io/remla/tagger:1.0.0
//		... deploy ...
//		base := clustertest.ServiceURL(t, ns, "remla")     // through kube-proxy
//		load := clustertest.StartLoad(ctx, base, 4)
//		... switch ...
//		res := load.Stop()                                 // res.Failed, res.Colors
//	}
//
// node.go finds the real node, image.go builds and imports the app images
// (good, predicting no tag, failing to load its model), service.go reaches
// Services through their ClusterIPs and counts a steady load.
//
// The cluster is found through REMLA_TEST_KUBECONFIG. Without it, or when the
// cluster does not answer, or has no real node where one is needed, the test
// is skipped with a message saying how to start one, except under CI
// (CI=true), where it fails instead.
package clustertest

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// EnvKubeconfig names the environment variable holding the test cluster's kubeconfig.
const EnvKubeconfig = "REMLA_TEST_KUBECONFIG"

// NeverReadyLabel is the label that makes kwok's fake kubelet (a cluster
// started with `cluster.sh up --kwok`) keep a pod Running but unready, its
// containers waiting with reason ImagePullBackOff. The real node ignores it:
// there, a version that was not imported or a BrokenModel image fails for real.
const NeverReadyLabel = "remla.test/never-ready"

// NamespaceLabel marks every namespace made by Namespace, so leftovers of a
// killed test run can be found with the selector remla.test/e2e=true.
const NamespaceLabel = "remla.test/e2e"

const howToStart = "start the test cluster with `make cluster-up` and `export " + EnvKubeconfig +
	"=$PWD/.run/cluster/kubeconfig` (see docs/testing.md)"

// probed remembers, per kubeconfig path, whether the cluster answered, so a
// package with many tests probes once.
var probed sync.Map // path -> error (nil when it answered)

// Kubeconfig returns the path of the test cluster's kubeconfig, taken from
// REMLA_TEST_KUBECONFIG. When it is unset or the cluster does not answer, the
// test is skipped with a message saying how to start the cluster, unless CI is
// "true", in which case it fails.
func Kubeconfig(t testing.TB) string {
	t.Helper()
	path := os.Getenv(EnvKubeconfig)
	if path == "" {
		unavailable(t, EnvKubeconfig+" is not set: "+howToStart)
	}
	v, ok := probed.Load(path)
	if !ok {
		v, _ = probed.LoadOrStore(path, probe(path))
	}
	if err, _ := v.(error); err != nil {
		unavailable(t, fmt.Sprintf("the test cluster in %s=%s does not answer: %v; %s", EnvKubeconfig, path, err, howToStart))
	}
	return path
}

// RESTConfig returns a client configuration for the test cluster, with rate
// limits raised so that tests are not throttled by the client.
func RESTConfig(t testing.TB) *rest.Config {
	t.Helper()
	cfg, err := loadConfig(Kubeconfig(t))
	if err != nil {
		t.Fatalf("load the test cluster's kubeconfig: %v", err)
	}
	return cfg
}

// Client returns a clientset for the test cluster.
func Client(t testing.TB) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(RESTConfig(t))
	if err != nil {
		t.Fatalf("make a client for the test cluster: %v", err)
	}
	return cs
}

// Namespace creates a fresh namespace named after the test (lowercased,
// sanitised, with a short random suffix), deletes it when the test ends, and
// returns its name once its default ServiceAccount exists, so pods can be
// created in it straight away.
func Namespace(t testing.TB) string {
	t.Helper()
	cs := Client(t)
	name := NamespaceName(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name:   name,
		Labels: map[string]string{NamespaceLabel: "true"},
	}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create test namespace %s: %v", name, err)
	}
	t.Cleanup(func() {
		// The namespace controller removes the contents in the background; the
		// next test does not wait for it.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := cs.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete test namespace %s: %v", name, err)
		}
	})
	err := wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		_, err := cs.CoreV1().ServiceAccounts(name).Get(ctx, "default", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		t.Fatalf("wait for ServiceAccount %s/default (made by kube-controller-manager; is it running? see its log in the cluster directory): %v", name, err)
	}
	return name
}

// NamespaceName turns a test name into a valid, unique namespace name: at most
// 63 characters of [a-z0-9-], starting and ending with a letter or digit, with
// a random 5-character suffix.
func NamespaceName(testName string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(testName) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	base := strings.TrimRight(b.String(), "-")
	const maxBase = 63 - 6 // room for "-" and the suffix
	if len(base) > maxBase {
		base = strings.TrimRight(base[:maxBase], "-")
	}
	if base == "" {
		base = "test"
	}
	return base + "-" + suffix(5)
}

func suffix(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	buf := make([]byte, n)
	if _, err := rand.Read(buf); err != nil {
		panic(fmt.Sprintf("read random bytes: %v", err)) // crypto/rand does not fail on Linux
	}
	for i := range buf {
		buf[i] = alphabet[int(buf[i])%len(alphabet)]
	}
	return string(buf)
}

func unavailable(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true, so the test cluster is required: " + msg)
	}
	t.Skip(msg)
}

func loadConfig(path string) (*rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, fmt.Errorf("read kubeconfig %s: %w", path, err)
	}
	cfg.QPS, cfg.Burst = 100, 200
	return cfg, nil
}

// probe asks the apiserver's /readyz whether it serves.
func probe(path string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("no kubeconfig: %w", err)
	}
	cfg, err := loadConfig(path)
	if err != nil {
		return err
	}
	cfg.Timeout = 5 * time.Second
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("make a client: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
	if err != nil {
		return fmt.Errorf("GET /readyz: %w", err)
	}
	if strings.TrimSpace(string(body)) != "ok" {
		return fmt.Errorf("GET /readyz answered %q", body)
	}
	return nil
}

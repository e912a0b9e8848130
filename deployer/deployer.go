package deployer

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"sync"
	"sync/atomic"
	"time"

	"helm.sh/helm/v3/pkg/action"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/remla/tagger/deployer/notify"
)

// Options say which cluster, namespace and layout a Deployer works on.
type Options struct {
	// Kubeconfig is a kubeconfig path; empty means $KUBECONFIG or ~/.kube/config.
	Kubeconfig string
	// Context is a kubeconfig context; empty means the current one.
	Context string
	// Namespace overrides Config.Namespace and the context's namespace.
	Namespace string
	// Config is the layout from remla.yaml; nil means the REMLA defaults.
	Config *Config
	// Logger receives progress and Helm's debug lines; nil discards them.
	Logger *slog.Logger
	// Identity names who acts in the history and the Lease; empty means
	// "operator:<user>@<host>".
	Identity string
	// MonitoringRepo is the chart repository of kube-prometheus-stack for
	// InstallMonitoring; empty means MonitoringRepo (a mirror serves
	// clusters without internet access).
	MonitoringRepo string
	// Client, when set, is the cluster: the kubeconfig is then optional and
	// only Helm operations need it. Unit tests fake the cluster here.
	Client kubernetes.Interface
	// Clock, when set, replaces the wall clock (tests of bake windows).
	Clock func() time.Time
}

// Deployer runs blue-green operations on one namespace of one cluster.
type Deployer struct {
	cfg      *Config
	ns       string
	client   kubernetes.Interface
	rest     *rest.Config
	getter   *genericclioptions.ConfigFlags
	log      *slog.Logger
	identity string
	host     string
	hostname string
	clock    func() time.Time
	// nsChecked is set once the namespace was seen; the alert actor calls
	// Status and Switch from concurrent requests.
	nsChecked atomic.Bool
	monRepo   string
	helmMu    sync.Mutex
	actions   *action.Configuration
	// inflight is what an interrupted process may leave behind (Pending).
	inflight    inflight
	leaseTiming leaseTiming
	notifier    *notify.Dispatcher
}

// New connects to the cluster lazily: it builds clients but does not call
// the API server, so it fails only on a broken kubeconfig or config.
func New(opts Options) (*Deployer, error) {
	cfg := opts.Config
	if cfg == nil {
		cfg = DefaultConfig()
	}
	cfg.fill()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if opts.Kubeconfig != "" {
		rules.ExplicitPath = opts.Kubeconfig
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: opts.Context})
	rc, err := cc.ClientConfig()
	switch {
	case err != nil && opts.Client == nil:
		return nil, fmt.Errorf("load kubeconfig: %w (pass --kubeconfig or set KUBECONFIG)", err)
	case err != nil:
		rc = &rest.Config{}
	}
	rc.QPS, rc.Burst = 50, 100
	ns := opts.Namespace
	if ns == "" {
		ns = cfg.Namespace
	}
	if ns == "" {
		if ns, _, err = cc.Namespace(); err != nil || ns == "" {
			ns = "default"
		}
	}
	client := opts.Client
	if client == nil {
		if client, err = kubernetes.NewForConfig(rc); err != nil {
			return nil, fmt.Errorf("build Kubernetes client: %w", err)
		}
	}
	getter := genericclioptions.NewConfigFlags(false)
	getter.KubeConfig = strPtr(opts.Kubeconfig)
	getter.Context = strPtr(opts.Context)
	getter.Namespace = strPtr(ns)
	getter.WrapConfigFn = func(c *rest.Config) *rest.Config { c.QPS, c.Burst = 50, 100; return c }
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	id := opts.Identity
	if id == "" {
		id = "operator:" + Whoami()
	}
	repo := opts.MonitoringRepo
	if repo == "" {
		repo = MonitoringRepo
	}
	hostname, _ := os.Hostname()
	clock := opts.Clock
	if clock == nil {
		clock = time.Now
	}
	d := &Deployer{cfg: cfg, ns: ns, client: client, rest: rc, getter: getter, log: log, identity: id, host: rc.Host,
		hostname: hostname, clock: clock, monRepo: repo}
	if d.notifier, err = d.newNotifier(); err != nil {
		return nil, err
	}
	return d, nil
}

// Namespace is the namespace the Deployer works in.
func (d *Deployer) Namespace() string { return d.ns }

// Config is the layout the Deployer uses.
func (d *Deployer) Config() *Config { return d.cfg }

// Client is the Kubernetes client the Deployer uses.
func (d *Deployer) Client() kubernetes.Interface { return d.client }

// Host is the API server URL, for error messages.
func (d *Deployer) Host() string { return d.host }

// Identity is who the Deployer acts as in the history and the Lease.
func (d *Deployer) Identity() string { return d.identity }

// checkNamespace turns a missing namespace into one clear error before an
// operation produces a less obvious one.
func (d *Deployer) checkNamespace(ctx context.Context) error {
	if d.nsChecked.Load() {
		return nil
	}
	_, err := d.client.CoreV1().Namespaces().Get(ctx, d.ns, metav1.GetOptions{})
	switch {
	case err == nil:
	case apierrors.IsNotFound(err):
		return fmt.Errorf("namespace %q does not exist: create it (kubectl create namespace %s) or pass -n (%w)", d.ns, d.ns, ErrNamespace)
	case apierrors.IsForbidden(err):
		// Namespaced RBAC may not allow reading namespaces; go on and let
		// the real operation speak.
	default:
		return fmt.Errorf("check namespace %q: %w", d.ns, err)
	}
	d.nsChecked.Store(true)
	return nil
}

// Whoami is "<user>@<host>" of this process, the default identity's tail.
func Whoami() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if h, err := os.Hostname(); err == nil {
		name += "@" + h
	}
	return name
}

func strPtr(s string) *string { return &s }

// now is the Deployer's clock in UTC, to the second as the history shows it.
func (d *Deployer) now() time.Time {
	if d.clock == nil {
		return time.Now().UTC().Truncate(time.Second)
	}
	return d.clock().UTC().Truncate(time.Second)
}

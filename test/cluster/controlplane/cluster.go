package controlplane

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

//go:embed stages.yaml
var stagesYAML []byte

// Options says where a cluster lives and how it is started.
type Options struct {
	// Dir is the run directory: state, certificates, etcd data, logs and the
	// kubeconfig. Up removes only the entries it made itself.
	Dir string
	// BinDir holds etcd, kube-apiserver, kube-controller-manager,
	// kube-scheduler, kubelet, kube-proxy and pause.tar, and kwok for a fake
	// node (test/cluster/build.sh [--kwok] prints it).
	BinDir string
	// RealNode runs a real node (containerd, kubelet, kube-proxy) in place
	// of kwok's fake one. There is one per machine: Up fails with
	// ErrNodeInUse while another cluster's real node runs.
	RealNode bool
	// PauseImage is the sandbox image archive; BinDir/pause.tar when empty.
	PauseImage string
	// ExtraArgs adds flags to a component, by component name.
	ExtraArgs map[string][]string
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

// State is what a run directory's state.json records about its cluster.
type State struct {
	BinDir    string    `json:"binDir"`
	Server    string    `json:"server"`
	EtcdURL   string    `json:"etcdURL"`
	Started   time.Time `json:"started"`
	Processes []Proc    `json:"processes"`
	// Node is set when the cluster runs a real node.
	Node *NodeState `json:"node,omitempty"`
}

// components lists the component names of a cluster in start order.
func components(real bool) []string {
	if real {
		return append(slices.Clone(Components[:len(Components)-1]), RealNodeComponents...)
	}
	return Components
}

// Component names, in start order.
const (
	Etcd              = "etcd"
	APIServer         = "kube-apiserver"
	ControllerManager = "kube-controller-manager"
	Scheduler         = "kube-scheduler"
	Kwok              = "kwok"
)

// Components lists the component names of a cluster with kwok's fake node,
// in start order; Down stops them in the reverse order, so etcd goes last.
var Components = []string{Etcd, APIServer, ControllerManager, Scheduler, Kwok}

// Files in the run directory. Up removes exactly these before a fresh start.
const (
	stateFile      = "state.json"
	KubeconfigFile = "kubeconfig"
	lockFile       = "lock"
	pkiDir         = "pki"
	etcdDir        = "etcd"
	logDir         = "logs"
	kwokConfigFile = "kwok.yaml"
)

// KubeconfigPath returns where Up writes the admin kubeconfig for dir.
func KubeconfigPath(dir string) string { return filepath.Join(dir, KubeconfigFile) }

// Up starts a cluster in o.Dir and returns once it is usable: the Node (fake
// or real) is Ready, ServiceAccount default/default exists and a probe pod
// has become Ready. When o.Dir already holds a healthy cluster of the same
// kind, Up reuses it. When a component dies or a wait times out, Up stops
// everything it started and returns an error with the tail of the failing
// component's log.
func Up(ctx context.Context, o Options) (*State, error) {
	logw := o.Log
	if logw == nil {
		logw = io.Discard
	}
	say := func(format string, args ...any) { fmt.Fprintf(logw, "[cluster] "+format+"\n", args...) }
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create run directory: %w", err)
	}
	unlock, err := lock(o.Dir)
	if err != nil {
		return nil, err
	}
	defer unlock()

	if o.RealNode {
		unlockMachine, err := lockMachine()
		if err != nil {
			return nil, err
		}
		defer unlockMachine()
	}
	if st, err := readState(o.Dir); err == nil {
		herr := health(ctx, o.Dir, st)
		if herr == nil && (st.Node != nil) != o.RealNode {
			herr = fmt.Errorf("it runs with real node %v, and a cluster with real node %v is wanted", st.Node != nil, o.RealNode)
		}
		if herr == nil {
			say("reusing the running cluster in %s (%s)", o.Dir, st.Server)
			return st, nil
		}
		say("the cluster recorded in %s is not healthy (%v): stopping what is left of it and starting afresh", o.Dir, herr)
		if err := down(ctx, o.Dir, st, say); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if o.RealNode {
		if err := claimMachine(ctx, o.Dir, say); err != nil {
			return nil, err
		}
	}
	// The ports are chosen free, but another program may take one before the
	// component binds it: then start again on other ports.
	for attempt := 1; ; attempt++ {
		st, err := fresh(ctx, o, say)
		if err == nil || attempt == 3 || !strings.Contains(err.Error(), "address already in use") {
			return st, err
		}
		say("a port was taken meanwhile (%v); starting again on other ports", err)
	}
}

// fresh starts a new cluster in o.Dir, first removing what an earlier one
// left there, and stops what it started if it fails.
func fresh(ctx context.Context, o Options, say func(string, ...any)) (*State, error) {
	// Nothing may stay mounted below the node directory before it is removed:
	// RemoveAll would reach into the mounts.
	if errs := unmountUnder(filepath.Join(o.Dir, nodeDirName)); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for _, name := range []string{stateFile, KubeconfigFile, pkiDir, etcdDir, logDir, kwokConfigFile, nodeDirName} {
		if err := os.RemoveAll(filepath.Join(o.Dir, name)); err != nil {
			return nil, fmt.Errorf("clean run directory: %w", err)
		}
	}
	u := &upper{o: o, say: say, begin: time.Now()}
	st, err := u.run(ctx)
	if err != nil {
		u.say("start failed; stopping the components started so far (logs stay in %s)", filepath.Join(o.Dir, logDir))
		if derr := down(context.WithoutCancel(ctx), o.Dir, &u.state, u.say); derr != nil {
			u.say("%v", derr)
		}
		for _, r := range u.procs {
			select { // reap it, so no zombie is left behind
			case <-r.done:
			case <-time.After(5 * time.Second):
			}
		}
		_ = os.Remove(filepath.Join(o.Dir, stateFile))
		return nil, err
	}
	return st, nil
}

// Down stops the cluster recorded in dir: exactly the processes Up started,
// by PID, kwok and the controllers first, then the apiserver, then etcd. A
// directory without a cluster is not an error.
func Down(ctx context.Context, dir string, log io.Writer) error {
	if log == nil {
		log = io.Discard
	}
	say := func(format string, args ...any) { fmt.Fprintf(log, "[cluster] "+format+"\n", args...) }
	unlock, err := lock(dir)
	if errors.Is(err, os.ErrNotExist) {
		say("no cluster in %s", dir)
		return nil
	}
	if err != nil {
		return err
	}
	defer unlock()
	st, err := readState(dir)
	if errors.Is(err, os.ErrNotExist) {
		// Up may have died after claiming the real node and before
		// recording a process: the claim says what to remove.
		if n, err := readNodeState(machineClaim); err == nil && n.Owner == dir {
			unlockMachine, err := lockMachine()
			if err != nil {
				return err
			}
			defer unlockMachine()
			return teardownNode(ctx, n, say)
		}
		say("no cluster in %s", dir)
		return nil
	}
	if err != nil {
		return err
	}
	if st.Node != nil {
		unlockMachine, err := lockMachine()
		if err != nil {
			return err
		}
		defer unlockMachine()
	}
	return down(ctx, dir, st, say)
}

// down stops the processes of st in reverse start order. Before containerd
// stops, every pod sandbox is removed through its CRI; after everything
// stopped, what the real node changed on the machine is put back.
func down(ctx context.Context, dir string, st *State, say func(string, ...any)) error {
	var errs []error
	for i := len(st.Processes) - 1; i >= 0; i-- {
		p := st.Processes[i]
		if !alive(p) {
			continue
		}
		if p.Name == Containerd && st.Node != nil {
			if err := stopPods(ctx, st.Node, say); err != nil {
				errs = append(errs, err)
			}
		}
		if err := stop(p, 10*time.Second); err != nil {
			errs = append(errs, err)
			continue
		}
		say("stopped %s (pid %d)", p.Name, p.PID)
	}
	if st.Node != nil {
		if err := teardownNode(ctx, st.Node, say); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("stop the cluster in %s: %w", dir, errors.Join(errs...))
	}
	if err := os.Remove(filepath.Join(dir, stateFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove cluster state: %w", err)
	}
	return nil
}

// Status returns the state of the cluster in dir and nil when it is healthy.
func Status(ctx context.Context, dir string) (*State, error) {
	st, err := readState(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no cluster in %s; start one with test/cluster/cluster.sh up %s", dir, dir)
	}
	if err != nil {
		return nil, err
	}
	return st, health(ctx, dir, st)
}

// health checks that every recorded process runs and the cluster answers.
func health(ctx context.Context, dir string, st *State) error {
	if want := components(st.Node != nil); len(st.Processes) != len(want) {
		return fmt.Errorf("only %d of %d components were started", len(st.Processes), len(want))
	}
	for _, p := range st.Processes {
		if !alive(p) {
			return fmt.Errorf("%s (pid %d) is not running", p.Name, p.PID)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := newClient(KubeconfigPath(dir))
	if err != nil {
		return err
	}
	return c.usable(ctx, st.Node != nil)
}

func readState(dir string) (*State, error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return nil, err
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("read %s: %w; stop any processes it lists by hand and remove it", filepath.Join(dir, stateFile), err)
	}
	return &st, nil
}

func writeState(dir string, st *State) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, stateFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("write cluster state: %w", err)
	}
	return os.Rename(tmp, filepath.Join(dir, stateFile))
}

// lock takes an exclusive lock on dir, so two commands never start or stop
// the same cluster at once.
func lock(dir string) (func(), error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return func() { f.Close() }, nil
}

// freePorts asks the kernel for n free ports on 127.0.0.1, holding them all
// open until it has them so that they differ.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port on 127.0.0.1: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// upper carries one fresh start.
type upper struct {
	o     Options
	say   func(string, ...any)
	begin time.Time
	procs []*running
	state State
}

func (u *upper) run(ctx context.Context) (*State, error) {
	o := u.o
	bin := func(name string) string {
		if name == Containerd {
			return "/usr/bin/containerd" // Debian's
		}
		return filepath.Join(o.BinDir, name)
	}
	for _, name := range components(o.RealNode) {
		if _, err := os.Stat(bin(name)); err != nil {
			return nil, fmt.Errorf("%s binary: %w; build the binaries with test/cluster/build.sh (make cluster-build)", name, err)
		}
	}
	for _, d := range []string{logDir, etcdDir} {
		if err := os.MkdirAll(filepath.Join(o.Dir, d), 0o700); err != nil {
			return nil, fmt.Errorf("create %s: %w", d, err)
		}
	}
	p, err := writePKI(filepath.Join(o.Dir, pkiDir))
	if err != nil {
		return nil, fmt.Errorf("make certificates: %w", err)
	}
	ports, err := freePorts(7)
	if err != nil {
		return nil, err
	}
	etcdPort, peerPort, apiPort := ports[0], ports[1], ports[2]
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(etcdPort)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(peerPort)
	server := "https://127.0.0.1:" + strconv.Itoa(apiPort)
	kc, err := kubeconfig(server, p)
	if err != nil {
		return nil, err
	}
	kcPath := KubeconfigPath(o.Dir)
	if err := os.WriteFile(kcPath, kc, 0o600); err != nil {
		return nil, fmt.Errorf("write kubeconfig: %w", err)
	}
	kwokConfig := filepath.Join(o.Dir, kwokConfigFile)
	if err := os.WriteFile(kwokConfig, stagesYAML, 0o644); err != nil {
		return nil, fmt.Errorf("write kwok configuration: %w", err)
	}
	u.state = State{BinDir: o.BinDir, Server: server, EtcdURL: etcdURL, Started: u.begin}
	if o.RealNode {
		n, err := u.prepareNode(ctx, p, server, ports[3:])
		u.state.Node = n
		// Recorded before any process, so that down undoes a failure from
		// here on, this one included.
		if werr := writeState(o.Dir, &u.state); err == nil {
			err = werr
		}
		if err != nil {
			return nil, err
		}
	}

	args := map[string][]string{
		Etcd: {
			"--name=remla-test",
			"--data-dir=" + filepath.Join(o.Dir, etcdDir),
			"--listen-client-urls=" + etcdURL,
			"--advertise-client-urls=" + etcdURL,
			"--listen-peer-urls=" + peerURL,
			"--initial-advertise-peer-urls=" + peerURL,
			"--initial-cluster=remla-test=" + peerURL,
			"--unsafe-no-fsync=true",
			"--log-level=warn",
		},
		APIServer: {
			"--etcd-servers=" + etcdURL,
			"--bind-address=127.0.0.1",
			"--advertise-address=127.0.0.1",
			"--secure-port=" + strconv.Itoa(apiPort),
			"--endpoint-reconciler-type=none",
			"--tls-cert-file=" + p.ServingCert,
			"--tls-private-key-file=" + p.ServingKey,
			"--client-ca-file=" + p.CACert,
			"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
			"--service-account-key-file=" + p.SAPub,
			"--service-account-signing-key-file=" + p.SAKey,
			"--service-cluster-ip-range=" + ServiceCIDR,
			"--authorization-mode=Node,RBAC",
			// For logs and exec: the kubelet trusts any certificate of the CA.
			"--kubelet-client-certificate=" + p.AdminCert,
			"--kubelet-client-key=" + p.AdminKey,
			"--kubelet-preferred-address-types=InternalIP",
			"--allow-privileged=true",
			"--profiling=false",
		},
		ControllerManager: {
			"--kubeconfig=" + kcPath,
			"--secure-port=0",
			"--leader-elect=false",
			"--service-account-private-key-file=" + p.SAKey,
			"--root-ca-file=" + p.CACert,
			"--cluster-signing-cert-file=" + p.CACert,
			"--cluster-signing-key-file=" + p.CAKey,
			"--kube-api-qps=100",
			"--kube-api-burst=200",
			"--profiling=false",
		},
		Scheduler: {
			"--kubeconfig=" + kcPath,
			"--secure-port=0",
			"--leader-elect=false",
			"--kube-api-qps=100",
			"--kube-api-burst=200",
			"--profiling=false",
		},
		Kwok: {
			"--kubeconfig=" + kcPath,
			"--config=" + kwokConfig,
			"--manage-all-nodes=false",
			"--manage-nodes-with-annotation-selector=" + nodeAnnotation + "=fake",
			"--node-ip=127.0.0.1",
			"--cidr=10.244.0.0/16",
			// Without a node Lease the node controller sees no heartbeat
			// for ~40 s (the heartbeat stage runs every 10 minutes), marks
			// the fake Node NotReady and every pod on it unready.
			"--node-lease-duration-seconds=40",
		},
	}
	if n := u.state.Node; n != nil {
		args[Containerd] = []string{"--config=" + n.dir("containerd.toml"), "--log-level=info"}
		args[Kubelet] = kubeletArgs(n)
		args[KubeProxy] = kubeProxyArgs(n)
		delete(args, Kwok)
	}
	for name, extra := range o.ExtraArgs {
		if _, ok := args[name]; !ok {
			return nil, fmt.Errorf("extra arguments for unknown component %q; the components are %v", name, components(o.RealNode))
		}
		args[name] = append(args[name], extra...)
	}

	launch := func(name string) error {
		r, err := start(name, bin(name), args[name], filepath.Join(o.Dir, logDir, name+".log"))
		if err != nil {
			return err
		}
		u.procs = append(u.procs, r)
		u.state.Processes = append(u.state.Processes, r.Proc)
		// Recorded at once, so that Down finds the process even if Up is killed.
		return writeState(o.Dir, &u.state)
	}

	if err := launch(Etcd); err != nil {
		return nil, err
	}
	if err := u.wait(ctx, "etcd to serve on "+etcdURL, 30*time.Second, func(ctx context.Context) error {
		return etcdHealthy(ctx, etcdURL)
	}); err != nil {
		return nil, err
	}
	if err := launch(APIServer); err != nil {
		return nil, err
	}
	c, err := newClient(kcPath)
	if err != nil {
		return nil, err
	}
	if err := u.wait(ctx, "kube-apiserver /readyz on "+server, 90*time.Second, c.ready); err != nil {
		return nil, err
	}
	for _, name := range []string{ControllerManager, Scheduler} {
		if err := launch(name); err != nil {
			return nil, err
		}
	}
	probe, kubelet := fakeProbePod(), "kwok"
	if n := u.state.Node; n != nil {
		if err := u.startNode(ctx, n, c, launch); err != nil {
			return nil, err
		}
		probe, kubelet = realProbePod(), "kubelet, containerd, runc, CNI"
	} else {
		if err := launch(Kwok); err != nil {
			return nil, err
		}
		if err := u.wait(ctx, "the fake Node", 30*time.Second, c.createNode); err != nil {
			return nil, err
		}
		if err := u.wait(ctx, "the fake Node to become Ready (kwok)", 60*time.Second, c.nodeReady); err != nil {
			return nil, err
		}
	}
	if err := u.wait(ctx, "ServiceAccount default/default (kube-controller-manager)", 60*time.Second, c.defaultServiceAccount); err != nil {
		return nil, err
	}
	if err := u.wait(ctx, "a probe pod to be scheduled and become Ready (kube-scheduler, "+kubelet+")", 60*time.Second, c.probePod(probe)); err != nil {
		return nil, err
	}
	u.say("cluster usable in %.1fs: %s, kubeconfig %s", time.Since(u.begin).Seconds(), server, kcPath)
	return &u.state, nil
}

// wait polls cond until it returns nil, a component dies, or timeout passes.
func (u *upper) wait(ctx context.Context, what string, timeout time.Duration, cond func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	var last error
	for {
		for _, r := range u.procs {
			if err := r.exited(); err != nil {
				return fmt.Errorf("waiting for %s: %w", what, err)
			}
		}
		cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
		last = cond(cctx)
		ccancel()
		if last == nil {
			u.say("%-70s %5.1fs", what, time.Since(u.begin).Seconds())
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waited %s for %s: %v (last error: %v); the logs are in %s",
				time.Since(start).Round(time.Second), what, ctx.Err(), last, filepath.Join(u.o.Dir, logDir))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

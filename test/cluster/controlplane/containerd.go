package controlplane

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Debian's containerd 1.6 and runc, configured so that everything they keep
// lives in the node directory, no image is ever pulled from outside the
// machine, and the host's root may run pods at all.

// PauseImage is the sandbox image: test/cluster/build.sh packs it from the
// static pause binary, and Up imports it before containerd needs it.
const PauseImage = "remla.local/pause:1"

// K8sNamespace is containerd's namespace for the CRI's images and containers;
// images imported with `ctr -n k8s.io` are what kubelet sees.
const K8sNamespace = "k8s.io"

// refusedRegistry is where every registry host resolves: a loopback port
// where nothing listens, so a pull of an image that was not imported fails
// at once with "connection refused" and no packet leaves the machine.
const refusedRegistry = "http://127.0.0.1:1"

func containerdConfig(n *NodeState) string {
	return fmt.Sprintf(`version = 2
root = %q
state = %q
# The opt plugin would install into /opt/containerd.
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]

[grpc]
  address = %q

[ttrpc]
  address = %q

[metrics]
  address = ""

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %q
  # Root here may not lower oom_score_adj; without this every sandbox fails
  # with "can't get final child's PID from pipe".
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "runc"
        Root = %q
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %q
    conf_dir = %q
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = %q
`, n.dir("containerd/root"), n.dir("containerd/state"), n.ContainerdSocket, n.ContainerdSocket+".ttrpc",
		PauseImage, n.dir("containerd/runc"), cniBinDir, n.dir("cni/net.d"), n.dir("registry"))
}

// registryHosts is the hosts.toml for every registry (the _default
// directory): the refused loopback address, with no fallback to the real
// host, for pulls and resolves alike.
const registryHosts = `server = "` + refusedRegistry + `"

[host."` + refusedRegistry + `"]
  capabilities = ["pull", "resolve"]
`

// cniBinDir holds Debian's containernetworking-plugins.
const cniBinDir = "/usr/lib/cni"

// cniConfig is the pods' network: a bridge with host-local addresses, whose
// routes reach only the pods' range and the Services' range, and portmap
// for hostPorts.
func cniConfig(n *NodeState) string {
	return fmt.Sprintf(`{
  "cniVersion": "0.4.0",
  "name": "remla",
  "plugins": [
    {
      "type": "bridge",
      "bridge": %q,
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": %q,
        "ranges": [[{"subnet": %q, "gateway": %q}]],
        "routes": [{"dst": %q}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
`, Bridge, n.dir("cni/ipam"), PodCIDR, NodeIP, ServiceCIDR)
}

// writeContainerdFiles writes containerd's configuration, the CNI network
// and the registry hosts into the node directory.
func writeContainerdFiles(n *NodeState) error {
	files := map[string]string{
		"containerd.toml":              containerdConfig(n),
		"cni/net.d/10-remla.conflist":  cniConfig(n),
		"registry/_default/hosts.toml": registryHosts,
	}
	for name, content := range files {
		p := n.dir(name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
	}
	return nil
}

// cri is a client of containerd's CRI service.
type cri struct {
	conn *grpc.ClientConn
	rt   runtimeapi.RuntimeServiceClient
}

func dialCRI(socket string) (*cri, error) {
	conn, err := grpc.NewClient("unix://"+socket, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("connect to containerd at %s: %w", socket, err)
	}
	return &cri{conn: conn, rt: runtimeapi.NewRuntimeServiceClient(conn)}, nil
}

func (c *cri) Close() error { return c.conn.Close() }

// ready succeeds once the CRI answers and says its runtime and network are
// ready (the network once the CNI configuration is read).
func (c *cri) ready(ctx context.Context) error {
	st, err := c.rt.Status(ctx, &runtimeapi.StatusRequest{})
	if err != nil {
		return fmt.Errorf("CRI status: %w", err)
	}
	for _, cond := range st.GetStatus().GetConditions() {
		if !cond.Status {
			return fmt.Errorf("CRI condition %s is false: %s %s", cond.Type, cond.Reason, cond.Message)
		}
	}
	return nil
}

// removeSandboxes stops every pod sandbox, which stops its containers and
// runs CNI DEL (removing its veth, network namespace and address), then
// removes it, so that neither containers nor shims outlive containerd.
func (c *cri) removeSandboxes(ctx context.Context) (int, error) {
	list, err := c.rt.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{})
	if err != nil {
		return 0, fmt.Errorf("list pod sandboxes: %w", err)
	}
	var errs []error
	for _, s := range list.Items {
		if _, err := c.rt.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: s.Id}); err != nil {
			errs = append(errs, fmt.Errorf("stop sandbox %s (%s/%s): %w", s.Id[:12], s.Metadata.GetNamespace(), s.Metadata.GetName(), err))
			continue
		}
		if _, err := c.rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: s.Id}); err != nil {
			errs = append(errs, fmt.Errorf("remove sandbox %s: %w", s.Id[:12], err))
		}
	}
	return len(list.Items), errors.Join(errs...)
}

// importImage imports an OCI archive into the node's containerd under the
// CRI's namespace. ctr names the images after the archive's
// io.containerd.image.name annotations, or, for bare tags, baseName:tag.
func importImage(ctx context.Context, socket, archive, baseName string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	args := []string{"--address", socket, "-n", K8sNamespace, "images", "import"}
	if baseName != "" {
		args = append(args, "--base-name", baseName)
	}
	cmd := exec.CommandContext(ctx, "ctr", append(args, archive)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("ctr images import %s: %w: %s", archive, err, bytes.TrimSpace(out))
	}
	return nil
}

// shimsOf lists the live containerd-shim processes serving the containerd
// at socket: the shim's command line names the daemon's address.
func shimsOf(socket string) []Proc {
	return liveProcs(func(args []string) bool {
		if !strings.Contains(filepath.Base(args[0]), "containerd-shim") {
			return false
		}
		for i, a := range args[:len(args)-1] {
			if a == "-address" && args[i+1] == socket {
				return true
			}
		}
		return false
	})
}

// killPIDs sends SIGKILL to each live PID and waits for it to go.
func killPIDs(pids []int) {
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	for _, pid := range pids {
		st, err := readStat(pid)
		if err != nil {
			continue
		}
		waitDead(Proc{PID: pid, StartTicks: st.startTicks}, 5*time.Second)
	}
}

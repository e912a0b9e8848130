package clustertest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// RealNodeName is the name of the test cluster's real node
// (test/cluster/controlplane.RealNodeName).
const RealNodeName = "remla-node"

// Node describes the test cluster's real node.
type Node struct {
	// ContainerdSocket is the address of the node's containerd, for `ctr
	// --address` and image imports.
	ContainerdSocket string `json:"containerdSocket"`
}

// RealNode returns the test cluster's real node: pods run as containers
// there, with IPs on the node's bridge, reachable through ClusterIPs. A test
// that proves what only running containers can show calls it first; on a
// cluster without a real node (`cluster.sh up --kwok`) it is skipped, and
// under CI it fails, so it never passes on kwok's fake node.
func RealNode(t testing.TB) Node {
	t.Helper()
	kc := Kubeconfig(t)
	n, err := readNode(filepath.Join(filepath.Dir(kc), "state.json"))
	if err != nil {
		unavailable(t, fmt.Sprintf("the test cluster of %s has no real node (%v): this test needs running containers; start the cluster without --kwok (`make cluster-up`)", kc, err))
	}
	return n
}

func readNode(statePath string) (Node, error) {
	b, err := os.ReadFile(statePath)
	if err != nil {
		return Node{}, err
	}
	var st struct {
		Node *Node `json:"node"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return Node{}, fmt.Errorf("read %s: %w", statePath, err)
	}
	if st.Node == nil || st.Node.ContainerdSocket == "" {
		return Node{}, fmt.Errorf("%s records no real node", statePath)
	}
	return *st.Node, nil
}

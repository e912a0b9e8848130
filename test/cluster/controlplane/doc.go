// Package controlplane runs a real Kubernetes cluster on this machine for the
// project's end-to-end tests: etcd, kube-apiserver, kube-controller-manager
// and kube-scheduler on 127.0.0.1, and one node, either
//   - the machine's real node (Options.RealNode, what `make test` runs):
//     Debian's containerd 1.6 and runc, kubelet, the CNI bridge, host-local and
//     portmap plugins, and kube-proxy in iptables mode, so pods run as
//     containers on the bridge remla0 and Services answer at their ClusterIPs;
//   - or kwok playing the kubelet of one fake Node (cluster.sh up --kwok): the
//     API behaves as in a real cluster while no container ever runs.
//
// The parts:
//   - pki.go makes the certificates (a CA, the apiserver's serving certificate,
//     client certificates of the admin, the node and kube-proxy, the
//     service-account key) and the kubeconfigs;
//   - process.go starts the components as detached processes with their logs
//     in the run directory, and finds out from /proc whether a recorded PID is
//     still the process that was started (a zombie counts as dead);
//   - cluster.go is Up, Down and Status, with the run directory's state.json
//     recording every PID as soon as it is started;
//   - node.go creates kwok's fake Node and waits until the cluster is usable;
//     stages.yaml is kwok's configuration, including the "never ready" path
//     for pods labelled remla.test/never-ready=true;
//   - realnode.go is the real node: the machine-wide claim (one real node per
//     machine), starting it, tearing down what it leaves, and Leftovers;
//     containerd.go, kubelet.go, network.go, host.go and mounts.go hold what
//     each part needs: configuration, the CRI client that removes pod
//     sandboxes before containerd stops, the bridge, route and iptables
//     chains, sysctls and cgroups to restore, mounts to detach.
//
// The binaries and the sandbox image are built once by test/cluster/build.sh;
// cmd/remla-cluster is the command test/cluster/cluster.sh runs.
package controlplane

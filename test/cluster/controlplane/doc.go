// Package controlplane runs a real Kubernetes control plane on 127.0.0.1 for
// the project's end-to-end tests: etcd, kube-apiserver,
// kube-controller-manager and kube-scheduler, with kwok playing the kubelet of
// one fake Node, so that Deployments, ReplicaSets, Services and EndpointSlices
// behave as in a real cluster while no container ever runs.
//
// The parts:
//   - pki.go makes the certificates (a CA, the apiserver's serving certificate,
//     an admin client certificate in system:masters, the service-account key)
//     and the kubeconfig;
//   - process.go starts the components as detached processes with their logs
//     in the run directory, and finds out from /proc whether a recorded PID is
//     still the process that was started (a zombie counts as dead);
//   - cluster.go is Up, Down and Status, with the run directory's state.json
//     recording every PID as soon as it is started;
//   - node.go creates the fake Node and waits until the cluster is usable;
//   - stages.yaml is kwok's configuration: what the fake kubelet does to
//     Nodes and Pods, including the "never ready" path for pods labelled
//     remla.test/never-ready=true.
//
// The binaries are built once by test/cluster/build.sh; cmd/remla-cluster is
// the command test/cluster/cluster.sh runs.
package controlplane

// Package deployer runs the application blue-green on Kubernetes: two colors,
// each its own Helm release of charts/remla-app, and one active Service whose
// selector names the color that takes traffic.
//
// The parts:
//   - types.go: the State every client reads (active and last good color,
//     what each color runs, the switch history) and the sentinel errors.
//   - config.go: remla.yaml, the layout (release and Service names, label
//     keys, image, ports) with REMLA's defaults.
//   - state.go: the state kept in annotations of the active Service, so a
//     switch changes selector and record in one update.
//   - switch.go, status.go: Switch (atomic, resourceVersion precondition) and
//     Status; the alert actor (deployer/alert) uses these two.
//   - deploy.go, helm.go, wait.go: Init, Deploy and Undeploy through the Helm
//     SDK (Secret storage), with the readiness test of kubectl rollout status
//     and a diagnosis of unready pods on timeout.
//   - lease.go: the coordination.k8s.io Lease that serialises long operations.
//   - monitoring.go: kube-prometheus-stack for init --with-monitoring.
//
// The command tree (remlactl) is in cmd/remlactl; the tests in *_cluster_test
// files and cluster_test.go run against the real control plane of test/cluster.
package deployer

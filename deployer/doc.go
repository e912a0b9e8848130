// Package deployer runs the application blue-green on Kubernetes: two colors,
// each its own Helm release of charts/remla-app, and one active Service whose
// selector names the color that takes traffic.
//
// The model: a color is stable at a version and pod template only once it
// proved itself (it stayed active through its bake window, or it is blue at
// init); a rollback returns traffic only to a stable color, never simply to
// "the other one". Readers derive the standing from what is stored and what
// the Deployment runs now, so a passed bake window reads as stable at once;
// writers persist it.
//
// The parts:
//   - types.go: the State every client reads (active color, each color's
//     release and standing, what a rollback would do, the history) and the
//     sentinel errors.
//   - standing.go: the standing model (unproven, baking, stable, failed), the
//     pod template id, and what a reader derives.
//   - record.go: history records and the Kubernetes Events made from them,
//     with the caps that keep the history's annotation bounded.
//   - state.go: the state kept in annotations of the active Service, the view
//     one decision reads, and commit, the one place that writes it (one
//     resourceVersion-guarded update, then the Events).
//   - rollback.go: Rollback, the one rollback decision the CLI and the alert
//     actor (deployer/alert) call.
//   - switch.go: Switch, the operator's deliberate move, with what it does to
//     both colors' standing.
//   - promote.go: Reconcile (persist due promotions, then the standby
//     policy), Bake (wait out a bake
//     window), MarkFailed (for gates and watchers).
//   - deploy.go, helm.go, wait.go: Init, Deploy and Undeploy through the Helm
//     SDK (Secret storage), with the readiness test of kubectl rollout status
//     and a diagnosis of unready pods on timeout.
//   - lease.go, pending.go: the coordination.k8s.io Lease that serialises long
//     operations (client-go's leader-election rules), and what an interrupted
//     process leaves behind.
//   - standby.go: the standby policy (standby: in remla.yaml): when the
//     standby is due to be scaled down (derived, like a bake window's end),
//     the guarded record that makes it cold, and the scale-up a rollback to
//     a cold standby makes first (Rollback).
//   - notifications.go: every committed record posted to the receivers of
//     notify: (package deployer/notify), and Notify for what is not a record.
//   - dryrun.go: PlanDeploy, PlanSwitch, PlanUndeploy: the same checks, Helm's
//     server-side dry run diffed against the live release, nothing written.
//   - config.go: remla.yaml, the layout (release and Service names, label
//     keys, image, ports, bake window) with REMLA's defaults.
//   - monitoring.go: kube-prometheus-stack for init --with-monitoring.
//
// The command tree (remlactl) is in cmd/remlactl; the tests in *_cluster_test
// files and cluster_test.go run against the real control plane of test/cluster.
package deployer

// Package e2e_test holds the all-real end-to-end tests: real programs
// (remla-app, remlactl, Debian's prometheus and prometheus-alertmanager) on
// 127.0.0.1, and the real Kubernetes API server of the test cluster
// (test/clustertest). They skip with a message when a piece is missing,
// unless CI=true, where they fail instead.
//
// actorcli_test.go runs `remlactl alert-actor` alone (flags, the token
// rules, TLS). alertloop_test.go proves the automatic rollback: unhappy
// users of the green release (baking after its deploy) make Prometheus fire
// UsersUnsatisfied (k8s/alert-rules.yml) with the release's namespace, app
// and color, Alertmanager (k8s/alertmanager.yml) calls `remlactl
// alert-actor`, and the active Service goes back to blue, stable since init.
package e2e_test

// Package e2e_test holds the all-real end-to-end tests: real programs
// (remla-app, remlactl, Debian's prometheus and prometheus-alertmanager) on
// 127.0.0.1, and the real Kubernetes API server of the test cluster
// (test/clustertest). They skip with a message when a piece is missing,
// unless CI=true, where they fail instead.
//
// actorcli_test.go runs `remlactl alert-actor` alone (flags, token, TLS).
// alertloop_test.go proves the automatic rollback: unhappy users of the
// green release make Prometheus fire UsersUnsatisfied (k8s/alert-rules.yml),
// Alertmanager (k8s/alertmanager.yml) calls `remlactl alert-actor`, and the
// active Service goes back to blue.
package e2e_test

// Package e2e_test holds the all-real end-to-end tests: real programs
// (remlactl, Prometheus, Debian's prometheus-alertmanager) on 127.0.0.1, and
// the test cluster (test/clustertest) with its real node, where remla-app
// runs in pods. They skip with a message when a piece is missing, unless
// CI=true, where they fail instead.
//
// actorcli_test.go runs `remlactl alert-actor` alone (flags, token, TLS).
// alertloop_test.go proves the automatic rollback fully in the cluster: blue
// and green are the chart's pods; green's image carries a model that tags
// nothing, so the predictions sent through the active Service make
// Prometheus (which discovers the pods through the cluster's API) fire
// TooManyEmptyPredictions (k8s/alert-rules.yml); Alertmanager
// (k8s/alertmanager.yml) calls `remlactl alert-actor`, the active Service's
// selector goes back to blue, and the next requests through it are answered
// by blue.
package e2e_test

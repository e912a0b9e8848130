// Package alert is the alert actor: an HTTP server that receives
// Alertmanager's webhook notifications and, when an alert labelled
// rollback="true" fires for the active color of a release it guards, asks
// the deployer to roll traffic back to the stable color.
//
// How the parts fit:
//   - webhook.go: Alertmanager's webhook payload (version 4), the checks
//     that skip a malformed alert without dropping the valid ones beside
//     it, the caps on what an alert may bring into the history, and the
//     incident key (fingerprint + startsAt).
//   - server.go: the HTTP handler: bearer token, body limit, scoping (the
//     alert's namespace and app labels name a guarded release; unscoped
//     alerts only with Options.AcceptUnscoped), the in-memory seen-set, and
//     the answer (5xx when Alertmanager should retry).
//   - reconcile.go: the periodic pass that records colors whose bake window
//     passed as stable and applies the standby policy
//     (deployer.Deployer.Reconcile).
//   - metrics.go: the actor's own /metrics, each namespace's active color
//     and standings as the cluster records them (for the dashboard), and
//     what its notifier sent, failed and dropped.
//   - listen.go: serving with optional TLS and graceful shutdown.
//
// The decision is not here: deployer.Deployer.Rollback reads the state
// once, picks the stable color (never simply "the other one"), checks its
// version, pod template and readiness, and makes one guarded update. The
// incident is stored with the rollback in the cluster's history, so
// Alertmanager's repeats, duplicate deliveries and resolved notifications
// change nothing, also after a restart of the actor. The tests fake the
// cluster (client-go's fake clientset) under the real deployer, and run
// against the real API server in cluster_test.go.
package alert

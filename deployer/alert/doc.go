// Package alert is the alert actor: an HTTP server that receives
// Alertmanager's webhook notifications and rolls traffic back to the last
// known good color when an alert labelled rollback="true" fires for the
// active color.
//
// How the parts fit:
//   - webhook.go: Alertmanager's webhook payload (version 4), its checks, and
//     the incident key (fingerprint + startsAt) that makes one incident cause
//     at most one rollback.
//   - server.go: the HTTP handler: bearer token, body limit, the decision,
//     and the switch through the small Deployer interface (the real one is
//     *deployer.Deployer; unit tests use a fake for single branches).
//   - metrics.go: the actor's own /metrics: webhooks and rollbacks by result,
//     the last rollback time, handling time, and the active color as the
//     cluster records it (for the dashboard).
//   - listen.go: serving with optional TLS and graceful shutdown.
//
// The decision is deliberately narrow: the target is always the deployer's
// LastGood color, never "the other one", so Alertmanager's repeats, duplicate
// deliveries and resolved notifications cannot flip traffic back to the bad
// release. The incident key is stored with the switch in the cluster's
// history, so the guarantee survives a restart of the actor.
package alert

// Package cli is the remlactl command tree (cobra): init, deploy, switch,
// undeploy, status and history over package deployer, with the common flags
// (--kubeconfig, --context, -n, --config, --timeout), one-line errors and the
// exit codes of docs/operations.md. Other files may add commands to the root
// from their init() functions (alert_actor.go does).
package cli

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/remla/tagger/deployer/alert"
)

// tokenEnv holds the webhook's bearer token when --token-file is not given.
const tokenEnv = "REMLA_ALERT_TOKEN"

func newAlertActorCmd() *cobra.Command {
	var (
		listen, path, tokenFile, certFile, keyFile string
		dryRun                                     bool
		maxBody                                    int64
		clusterTimeout                             time.Duration
	)
	cmd := &cobra.Command{
		Use:   "alert-actor",
		Short: "Serve Alertmanager's webhook and roll traffic back when a rollback alert fires",
		Long: `alert-actor receives Alertmanager's webhook notifications (version 4). When an
alert labelled rollback="true" fires for the active color (its color label, if
present, must name the active color), it moves traffic to the last known good
color recorded by the deployer, never simply to "the other color". One incident
(alert fingerprint + start time) causes at most one rollback: repeats, duplicate
deliveries and resolved notifications change nothing, also after a restart,
because the incident is recorded in the switch history in the cluster.

If the last good color has no ready replica it does not switch and answers 503,
so Alertmanager retries. It also serves /healthz and /metrics (webhooks and
rollbacks by result, last rollback time, handling time, and the active color).

The bearer token comes from --token-file or $REMLA_ALERT_TOKEN; without one the
webhook is open to anyone who can reach it (a warning is logged). --timeout does
not apply: the actor runs until it is stopped (SIGINT/SIGTERM).`,
		Example: `  # On the host of a minikube cluster (Alertmanager calls host.minikube.internal:8081)
  remlactl alert-actor --token-file ~/.config/remla/alert-token
  # Log what it would do, never switch
  REMLA_ALERT_TOKEN=s3cret remlactl alert-actor --dry-run
  # HTTPS on another port and path
  remlactl alert-actor --listen :9443 --path /hooks/am --tls-cert tls.crt --tls-key tls.key --token-file token`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !strings.HasPrefix(path, "/") {
				return usageError{fmt.Errorf("--path %q must start with /", path)}
			}
			if (certFile == "") != (keyFile == "") {
				return usageError{errors.New("--tls-cert and --tls-key go together: pass both or neither")}
			}
			token, err := readToken(tokenFile)
			if err != nil {
				return err
			}
			d, log, err := setup(cmd)
			if err != nil {
				return err
			}
			if token == "" {
				log.Warn("no bearer token: anyone who can reach the webhook can trigger a rollback; set --token-file or " + tokenEnv)
			}
			// Read the state once before serving: the operator sees at
			// start what the actor guards, and the first alert does not pay
			// for the TLS handshake and client set-up (about 200 ms).
			// An unreachable cluster is not fatal here: webhooks then get
			// 503 and Alertmanager retries.
			sctx, cancel := context.WithTimeout(cmd.Context(), clusterTimeout)
			if st, err := d.Status(sctx); err != nil {
				log.Warn("cannot read the deployer state yet; webhooks get 503 until the cluster answers", "namespace", d.Namespace(), "err", err)
			} else {
				log.Info("guarding", "namespace", d.Namespace(), "active", st.Active, "lastGood", st.LastGood)
			}
			cancel()
			srv := alert.NewServer(d, alert.Options{
				Token:        token,
				DryRun:       dryRun,
				Path:         path,
				MaxBodyBytes: maxBody,
				Timeout:      clusterTimeout,
				Logger:       log,
			})
			return srv.ListenAndServe(cmd.Context(), listen, certFile, keyFile)
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", ":8081", "address to listen on")
	f.StringVar(&path, "path", alert.DefaultPath, "path of the webhook")
	f.StringVar(&tokenFile, "token-file", "", "file holding the bearer token Alertmanager sends (default $"+tokenEnv+")")
	f.StringVar(&certFile, "tls-cert", "", "serve HTTPS with this certificate (PEM; needs --tls-key)")
	f.StringVar(&keyFile, "tls-key", "", "private key of --tls-cert (PEM)")
	f.BoolVar(&dryRun, "dry-run", false, "log the rollback it would make and change nothing")
	f.Int64Var(&maxBody, "max-body-bytes", alert.DefaultMaxBodyBytes, "refuse larger notifications with 413")
	f.DurationVar(&clusterTimeout, "cluster-timeout", alert.DefaultTimeout, "deadline for the cluster calls of one notification")
	return cmd
}

// readToken reads the bearer token from file, else from $REMLA_ALERT_TOKEN.
func readToken(file string) (string, error) {
	if file == "" {
		return strings.TrimSpace(os.Getenv(tokenEnv)), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", usageError{fmt.Errorf("reading --token-file: %w", err)}
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", usageError{fmt.Errorf("--token-file %s is empty: put the token Alertmanager sends in it", file)}
	}
	return t, nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/remla/tagger/deployer"
	"github.com/remla/tagger/deployer/alert"
)

// tokenEnv holds the webhook's bearer token when --token-file is not given.
const tokenEnv = "REMLA_ALERT_TOKEN"

func newAlertActorCmd() *cobra.Command {
	var (
		listen, path, tokenFile, certFile, keyFile string
		namespaces                                 []string
		dryRun, acceptUnscoped, insecureNoAuth     bool
		maxBody                                    int64
		clusterTimeout, reconcileInterval          time.Duration
	)
	cmd := &cobra.Command{
		Use:   "alert-actor",
		Short: "Serve Alertmanager's webhook and roll traffic back to the stable color when a rollback alert fires",
		Long: `alert-actor receives Alertmanager's webhook notifications (version 4). When an
alert labelled rollback="true" fires for a release it guards, it asks the
deployer to roll back, the decision remlactl rollback makes: traffic returns to
the other color only if that color is stable at the version and pod template it
runs, and is ready. An alert names its release by its namespace and app labels
(the project's rules carry both); alerts without them are ignored unless
--accept-unscoped. Its color label, when present, must name the active color.
-n may be repeated to guard several namespaces (one Role binding in each).

One incident (alert fingerprint + start time) causes at most one rollback:
repeats, duplicate deliveries and resolved notifications change nothing, also
after a restart, because the incident is recorded in the cluster's history. If
the stable color has no ready replica it answers 503 and Alertmanager retries.
A malformed alert is skipped and reported; the valid ones beside it are acted
on. Every --reconcile-interval it records colors whose bake window passed as
stable (with a Promoted Event) and applies the standby policy of remla.yaml
(scales the standby down when due). A rollback to a cold standby scales it up
and answers 503 with Retry-After until it is ready. It also serves /healthz and
/metrics (remla_notifications_total among them).

The bearer token comes from --token-file (warned about when group or others
can read it) or $REMLA_ALERT_TOKEN. Without a token it refuses to start unless
it listens on loopback only, or --insecure-no-auth says an open webhook is
meant. --timeout does not apply: the actor runs until it is stopped.`,
		Example: `  # On the host of a minikube cluster (Alertmanager calls host.minikube.internal:8081)
  remlactl -n remla alert-actor --token-file ~/.config/remla/alert-token
  # Two namespaces, log what it would do, never switch
  REMLA_ALERT_TOKEN=s3cret remlactl alert-actor -n remla -n remla-staging --dry-run
  # Local testing without a token: loopback only
  remlactl alert-actor --listen 127.0.0.1:8081`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !strings.HasPrefix(path, "/") {
				return usageError{fmt.Errorf("--path %q must start with /", path)}
			}
			if (certFile == "") != (keyFile == "") {
				return usageError{errors.New("--tls-cert and --tls-key go together: pass both or neither")}
			}
			log, err := loggerFor(cmd)
			if err != nil {
				return err
			}
			token, warning, err := readToken(tokenFile)
			if err != nil {
				return err
			}
			if warning != "" {
				log.Warn(warning)
			}
			if token == "" {
				switch {
				case insecureNoAuth:
					log.Warn("no bearer token (--insecure-no-auth): anyone who can reach " + listen + " can trigger a rollback")
				case !loopbackOnly(listen):
					return usageError{fmt.Errorf("no bearer token: anyone who can reach %s could move traffic; set --token-file or $%s, listen on 127.0.0.1 only, or pass --insecure-no-auth", listen, tokenEnv)}
				}
			}
			if len(namespaces) == 0 {
				namespaces = []string{""} // remla.yaml, the context's, or "default"
			}
			var targets []*deployer.Deployer
			for _, ns := range namespaces {
				d, err := newDeployer(cmd, log, ns, "alert-actor:"+deployer.Whoami())
				if err != nil {
					return err
				}
				targets = append(targets, d)
			}
			if acceptUnscoped && len(targets) > 1 {
				log.Warn("--accept-unscoped with several namespaces: alerts without a namespace label are ignored, the actor cannot tell which they are about")
			}
			greet(cmd.Context(), log, targets, clusterTimeout)
			srv, err := alert.NewServer(targets, alert.Options{
				Token:             token,
				DryRun:            dryRun,
				AcceptUnscoped:    acceptUnscoped,
				Path:              path,
				MaxBodyBytes:      maxBody,
				Timeout:           clusterTimeout,
				ReconcileInterval: reconcileInterval,
				Logger:            log,
			})
			if err != nil {
				return usageError{err}
			}
			return srv.ListenAndServe(cmd.Context(), listen, certFile, keyFile)
		},
	}
	f := cmd.Flags()
	// A local -n that may repeat; it shadows the persistent one of the root.
	f.StringSliceVarP(&namespaces, "namespace", "n", nil, "namespace to guard; repeat (or comma-separate) for several (default: remla.yaml, then the context's namespace, then \"default\")")
	f.StringVar(&listen, "listen", ":8081", "address to listen on")
	f.StringVar(&path, "path", alert.DefaultPath, "path of the webhook")
	f.StringVar(&tokenFile, "token-file", "", "file holding the bearer token Alertmanager sends (default $"+tokenEnv+")")
	f.BoolVar(&insecureNoAuth, "insecure-no-auth", false, "serve without a bearer token on a non-loopback address")
	f.StringVar(&certFile, "tls-cert", "", "serve HTTPS with this certificate (PEM; needs --tls-key)")
	f.StringVar(&keyFile, "tls-key", "", "private key of --tls-cert (PEM)")
	f.BoolVar(&dryRun, "dry-run", false, "log the rollback it would make and change nothing")
	f.BoolVar(&acceptUnscoped, "accept-unscoped", false, "also act on rollback alerts without namespace or app labels")
	f.Int64Var(&maxBody, "max-body-bytes", alert.DefaultMaxBodyBytes, "refuse larger notifications with 413")
	f.DurationVar(&clusterTimeout, "cluster-timeout", alert.DefaultTimeout, "deadline for the cluster calls of one notification")
	f.DurationVar(&reconcileInterval, "reconcile-interval", alert.DefaultReconcileInterval, "how often to record colors whose bake window passed as stable")
	return cmd
}

// greet reads each namespace's state once before serving: the operator
// sees at start what the actor guards, and the first alert does not pay for
// the TLS handshake and client set-up (about 200 ms). An unreachable
// cluster is not fatal here: webhooks then get 503 and Alertmanager retries.
func greet(ctx context.Context, log *slog.Logger, targets []*deployer.Deployer, timeout time.Duration) {
	for _, d := range targets {
		sctx, cancel := context.WithTimeout(ctx, timeout)
		st, err := d.Status(sctx)
		cancel()
		if err != nil {
			log.Warn("cannot read the deployer state yet; webhooks get 503 until the cluster answers", "namespace", d.Namespace(), "err", err)
			continue
		}
		log.Info("guarding", "namespace", d.Namespace(), "app", d.Config().App, "active", st.Active,
			"stable", st.Stable(), "rollbackTo", st.Rollback.To, "rollbackRefused", st.Rollback.Refused)
	}
}

// readToken reads the bearer token from file, else from $REMLA_ALERT_TOKEN.
// The warning is set when the file is readable by group or others.
func readToken(file string) (token, warning string, err error) {
	if file == "" {
		return strings.TrimSpace(os.Getenv(tokenEnv)), "", nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", "", usageError{fmt.Errorf("reading --token-file: %w", err)}
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", "", usageError{fmt.Errorf("--token-file %s is empty: put the token Alertmanager sends in it", file)}
	}
	if fi, err := os.Stat(file); err == nil && fi.Mode().Perm()&0o077 != 0 {
		warning = fmt.Sprintf("--token-file %s has mode %04o: group or others can read the token; chmod 600 %s", file, fi.Mode().Perm(), file)
	}
	return t, warning, nil
}

// loopbackOnly says whether addr listens on loopback addresses only.
func loopbackOnly(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

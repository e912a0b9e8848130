package alert

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/remla/tagger/deployer"
)

// Defaults for Options.
const (
	DefaultPath              = "/webhook"
	DefaultMaxBodyBytes      = 1 << 20
	DefaultTimeout           = 10 * time.Second
	DefaultReconcileInterval = 15 * time.Second
	// seenLimit bounds the in-memory set of handled incidents; the cluster's
	// history stays the authority for older ones.
	seenLimit = 1024
	// retryAfter (seconds) is the Retry-After of a 503: about the time a
	// cold standby's pods take to become ready.
	retryAfter = "5"
)

// Options configure a Server. The zero value is valid: no token, no dry
// run, scoped alerts only, DefaultPath, DefaultMaxBodyBytes,
// DefaultTimeout, DefaultReconcileInterval, slog.Default().
type Options struct {
	// Token, when set, must arrive as "Authorization: Bearer <Token>".
	Token string
	// DryRun logs what the actor would do and never writes.
	DryRun bool
	// AcceptUnscoped acts on alerts without namespace or app labels (the
	// seed's bare rollback="true" rules), for the one namespace guarded or
	// the one their namespace label names.
	AcceptUnscoped bool
	// Path is where the webhook is served.
	Path string
	// MaxBodyBytes refuses larger bodies with 413.
	MaxBodyBytes int64
	// Timeout bounds the cluster calls of one notification.
	Timeout time.Duration
	// ReconcileInterval is how often Serve persists the promotions of
	// colors whose bake window passed (Deployer.Reconcile).
	ReconcileInterval time.Duration
	Logger            *slog.Logger
}

// Server handles Alertmanager's notifications for the releases it guards:
// one Deployer per namespace, all of the same application. The decision
// is the deployer's (Deployer.Rollback); the Server authenticates, parses,
// scopes, de-duplicates and reports. Create it with NewServer.
type Server struct {
	targets map[string]*deployer.Deployer // by namespace
	order   []string
	opts    Options
	log     *slog.Logger
	token   [sha256.Size]byte
	metrics *metrics
	mux     *http.ServeMux

	// mu serialises decisions: two deliveries of one incident racing each
	// other must not both reach the cluster.
	mu       sync.Mutex
	seen     map[string]struct{}
	seenFIFO []string
}

// NewServer returns an actor guarding the releases of targets, one per
// namespace.
func NewServer(targets []*deployer.Deployer, o Options) (*Server, error) {
	if len(targets) == 0 {
		return nil, errors.New("the alert actor needs at least one namespace to guard")
	}
	if o.Path == "" {
		o.Path = DefaultPath
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.ReconcileInterval <= 0 {
		o.ReconcileInterval = DefaultReconcileInterval
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	s := &Server{targets: map[string]*deployer.Deployer{}, opts: o, log: o.Logger, seen: map[string]struct{}{}}
	app := targets[0].Config().App
	for _, d := range targets {
		if _, dup := s.targets[d.Namespace()]; dup {
			return nil, fmt.Errorf("namespace %s is given twice", d.Namespace())
		}
		if d.Config().App != app {
			return nil, fmt.Errorf("every guarded namespace must run one application: %s and %s", app, d.Config().App)
		}
		s.targets[d.Namespace()] = d
		s.order = append(s.order, d.Namespace())
	}
	s.token = sha256.Sum256([]byte(o.Token))
	s.metrics = newMetrics(targets)
	s.mux = http.NewServeMux()
	s.mux.HandleFunc(o.Path, s.webhook)
	s.mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	s.mux.Handle("/metrics", s.metrics.handler())
	return s, nil
}

// ServeHTTP serves the webhook, /healthz and /metrics.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Result says what the actor did with a notification or one alert; it is
// the "result" label of remla_alert_actor_webhooks_total and in the answer.
type Result string

// Results of a notification.
const (
	ResultSwitched     Result = "switched"     // traffic moved to the stable color
	ResultDryRun       Result = "dry_run"      // would have moved
	ResultRefused      Result = "refused"      // no stable color to return to: recorded, 200
	ResultNoop         Result = "noop"         // nothing to do (resolved, color without traffic, out of scope)
	ResultDuplicate    Result = "duplicate"    // this incident was handled before
	ResultNotReady     Result = "not_ready"    // the stable color has no ready replica: 503, retried
	ResultError        Result = "error"        // the cluster could not be read or written: 5xx, retried
	ResultUnauthorized Result = "unauthorized" // no or wrong bearer token: 401
	ResultMalformed    Result = "malformed"    // not a version 4 webhook payload, or no valid alert in it: 400
	ResultTooLarge     Result = "too_large"    // body over the limit: 413
	ResultBadMethod    Result = "bad_method"   // not POST: 405
)

// Answer is the JSON body of every webhook response.
type Answer struct {
	Result  Result `json:"result"`
	Message string `json:"message"`
	// Namespace, From and To are set when traffic moved (or would have).
	Namespace string         `json:"namespace,omitempty"`
	From      deployer.Color `json:"from,omitempty"`
	To        deployer.Color `json:"to,omitempty"`
	// Alerts says what became of each rollback alert.
	Alerts []AlertAnswer `json:"alerts,omitempty"`
	// Skipped are the malformed alerts left out.
	Skipped []Skipped `json:"skipped,omitempty"`
}

// AlertAnswer is what the actor did with one firing rollback alert.
type AlertAnswer struct {
	Alertname string `json:"alertname"`
	Namespace string `json:"namespace,omitempty"`
	Incident  string `json:"incident"`
	Result    Result `json:"result"`
	Message   string `json:"message"`
	code      int
	from, to  deployer.Color
}

func (s *Server) webhook(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	code, a := s.serveWebhook(w, r)
	elapsed := time.Since(start)
	s.metrics.observe(a.Result, elapsed)
	level := slog.LevelInfo
	if code >= 500 {
		level = slog.LevelWarn
	}
	s.log.Log(r.Context(), level, "webhook handled", "result", a.Result, "code", code,
		"message", a.Message, "duration", elapsed, "remote", r.RemoteAddr)
	if code == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="remla-alert-actor"`)
	}
	if code == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", http.MethodPost)
	}
	if code == http.StatusServiceUnavailable {
		// A stable color not ready yet (a cold standby scaling up) or the
		// cluster unreachable: worth a retry soon.
		w.Header().Set("Retry-After", retryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(a)
}

func (s *Server) serveWebhook(w http.ResponseWriter, r *http.Request) (int, Answer) {
	if r.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, Answer{Result: ResultBadMethod, Message: "use POST with Alertmanager's webhook JSON"}
	}
	if !s.authorized(r) {
		return http.StatusUnauthorized, Answer{Result: ResultUnauthorized, Message: "missing or wrong bearer token: set http_config.authorization in the Alertmanager receiver"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return http.StatusRequestEntityTooLarge, Answer{Result: ResultTooLarge,
				Message: fmt.Sprintf("body over %d bytes: set max_alerts in the Alertmanager receiver", s.opts.MaxBodyBytes)}
		}
		return http.StatusBadRequest, Answer{Result: ResultMalformed, Message: "reading the body: " + err.Error()}
	}
	msg, err := ParseMessage(body)
	if err != nil {
		return http.StatusBadRequest, Answer{Result: ResultMalformed, Message: err.Error()}
	}
	if msg.TruncatedAlerts > 0 {
		// A firing rollback alert may be among those left out.
		s.log.Warn("Alertmanager truncated the notification: set max_alerts: 0 in the receiver",
			"truncatedAlerts", msg.TruncatedAlerts, "groupKey", msg.GroupKey)
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.Timeout)
	defer cancel()
	return s.Handle(ctx, msg)
}

// authorized compares the bearer token in constant time (over hashes, so
// the token's length does not leak either).
func (s *Server) authorized(r *http.Request) bool {
	if s.opts.Token == "" {
		return true
	}
	const prefix = "Bearer "
	h := r.Header.Get("Authorization")
	if len(h) < len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(h[len(prefix):])))
	return subtle.ConstantTimeCompare(got[:], s.token[:]) == 1
}

// Handle acts on a parsed notification: each firing rollback alert in
// scope goes to the deployer's rollback decision of its namespace, once per
// incident. It returns the HTTP status to answer: 5xx (a stable color not
// ready yet, a cluster error) asks Alertmanager to retry the notification,
// which is safe because every incident is handled at most once.
func (s *Server) Handle(ctx context.Context, msg *Message) (int, Answer) {
	for _, sk := range msg.Malformed {
		s.metrics.ignored("malformed")
		s.log.Warn("skipping a malformed alert", "index", sk.Index, "alertname", sk.Alertname, "reason", sk.Reason, "groupKey", msg.GroupKey)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []AlertAnswer
	for _, a := range msg.Alerts {
		if !a.wantsRollback() {
			continue
		}
		out = append(out, s.handleAlert(ctx, a, msg.GroupKey))
	}
	return s.answer(msg, out)
}

// handleAlert scopes one firing rollback alert and asks for its rollback.
// Must hold s.mu.
func (s *Server) handleAlert(ctx context.Context, a Alert, groupKey string) AlertAnswer {
	name, inc := a.Name(), a.Incident()
	ans := AlertAnswer{Alertname: name, Incident: inc, code: http.StatusOK}
	d, why := s.route(a)
	log := s.log.With("alertname", name, "namespace", a.Labels[LabelNamespace], "app", a.Labels[LabelApp],
		"color", a.Labels[LabelColor], "incident", inc, "groupKey", groupKey)
	if d == nil {
		ans.Result, ans.Message = ResultNoop, why
		log.Info("not acting: " + why)
		return ans
	}
	ans.Namespace = d.Namespace()
	key := d.Namespace() + " " + inc
	if _, ok := s.seen[key]; ok {
		ans.Result, ans.Message = ResultDuplicate, fmt.Sprintf("%s: incident %s was handled before", name, inc)
		return ans
	}
	// NoWait: a cold standby is scaled up, and the answer is 503 at once;
	// Alertmanager's retry switches once it is ready.
	res, err := d.Rollback(ctx, deployer.RollbackRequest{Reason: name, By: "alert:" + name, Incident: inc,
		Color: deployer.Color(a.Labels[LabelColor]), DryRun: s.opts.DryRun, NoWait: true})
	if res != nil {
		ans.from, ans.to = res.From, res.To
		ans.Message = name + ": " + res.Message
		log = log.With("active", res.From, "target", res.To)
	}
	switch {
	case errors.Is(err, deployer.ErrIncidentSeen):
		s.remember(key)
		ans.Result = ResultDuplicate
		log.Info("not acting: the cluster history already holds this incident")
	case errors.Is(err, deployer.ErrNotReady):
		s.metrics.rollback(ResultNotReady)
		ans.Result, ans.code = ResultNotReady, http.StatusServiceUnavailable
		log.Warn("not rolling back yet: the stable color is not ready; Alertmanager will retry", "err", err)
	case errors.Is(err, deployer.ErrNoStable):
		s.metrics.rollback(ResultRefused)
		ans.Result = ResultRefused
		log.Warn("rollback refused: no stable color to return to", "err", err)
	case err != nil:
		s.metrics.rollback("failed")
		ans.Result, ans.code, ans.Message = ResultError, http.StatusServiceUnavailable, fmt.Sprintf("%s: %v", name, err)
		log.Error("rollback failed; Alertmanager will retry", "err", err)
	case res.Outcome == deployer.OutcomeNotActive:
		ans.Result = ResultNoop
		log.Info("not acting: " + res.Message)
	case res.Outcome == deployer.OutcomeDryRun:
		s.remember(key)
		s.metrics.rollback(ResultDryRun)
		ans.Result = ResultDryRun
		ans.Message = "dry run: " + ans.Message
		log.Warn("dry run: would roll back")
	default:
		s.remember(key)
		s.metrics.rollback(ResultSwitched)
		s.metrics.rolledBackAt(time.Now())
		ans.Result = ResultSwitched
		log.Warn("rolled back")
	}
	return ans
}

// route finds the guarded release an alert is about, or says why it is
// out of scope.
func (s *Server) route(a Alert) (*deployer.Deployer, string) {
	ns, app := a.Labels[LabelNamespace], a.Labels[LabelApp]
	name := a.Name()
	if (ns == "" || app == "") && !s.opts.AcceptUnscoped {
		s.metrics.ignored("unscoped")
		return nil, fmt.Sprintf("%s has no namespace and app labels (namespace %q, app %q): aggregate the rule by (namespace, app, color), or start the actor with --accept-unscoped", name, ns, app)
	}
	if ns == "" {
		if len(s.order) != 1 {
			s.metrics.ignored("unscoped")
			return nil, fmt.Sprintf("%s has no namespace label and the actor guards %d namespaces (%s): it cannot tell which", name, len(s.order), strings.Join(s.order, ", "))
		}
		ns = s.order[0]
	}
	d := s.targets[ns]
	if d == nil {
		s.metrics.ignored("out_of_scope")
		return nil, fmt.Sprintf("%s is about namespace %s, which this actor does not guard (%s)", name, deployer.Truncate(ns, 64), strings.Join(s.order, ", "))
	}
	if app != "" && app != d.Config().App {
		s.metrics.ignored("out_of_scope")
		return nil, fmt.Sprintf("%s is about app %s, not %s", name, deployer.Truncate(app, 64), d.Config().App)
	}
	return d, ""
}

// answer folds the alerts' answers into the notification's: the worst
// status code (so Alertmanager retries when one alert needs it) and the
// most telling result.
func (s *Server) answer(msg *Message, out []AlertAnswer) (int, Answer) {
	a := Answer{Result: ResultNoop, Alerts: out, Skipped: msg.Malformed}
	code := http.StatusOK
	rank := []Result{ResultNoop, ResultDuplicate, ResultRefused, ResultDryRun, ResultSwitched}
	var notes []string
	for _, x := range out {
		notes = append(notes, x.Message)
		if x.code > code {
			code, a.Result, a.Message = x.code, x.Result, x.Message
		}
		if code == http.StatusOK && slices.Index(rank, x.Result) > slices.Index(rank, a.Result) {
			a.Result = x.Result
		}
		if x.Result == ResultSwitched || x.Result == ResultDryRun {
			a.Namespace, a.From, a.To = x.Namespace, x.from, x.to
		}
	}
	switch {
	case code != http.StatusOK:
	case len(out) == 0 && len(msg.Alerts) == 0 && len(msg.Malformed) > 0:
		code, a.Result, a.Message = http.StatusBadRequest, ResultMalformed, fmt.Sprintf("no valid alert: %s", msg.Malformed[0].Reason)
	case len(out) == 0:
		a.Message = `no firing alert labelled rollback="true"`
	default:
		a.Message = strings.Join(notes, "; ")
	}
	if len(msg.Malformed) > 0 && code == http.StatusOK {
		a.Message += fmt.Sprintf(" (%d malformed alert(s) skipped)", len(msg.Malformed))
	}
	return code, a
}

// remember adds an incident to the bounded in-memory seen-set. Must hold s.mu.
func (s *Server) remember(key string) {
	if _, ok := s.seen[key]; ok {
		return
	}
	s.seen[key] = struct{}{}
	s.seenFIFO = append(s.seenFIFO, key)
	if len(s.seenFIFO) > seenLimit {
		delete(s.seen, s.seenFIFO[0])
		s.seenFIFO = s.seenFIFO[1:]
	}
}

// Namespaces are the namespaces the actor guards, in the order given.
func (s *Server) Namespaces() []string { return slices.Clone(s.order) }

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
	"strings"
	"sync"
	"time"

	"github.com/remla/tagger/deployer"
)

// Deployer is what the actor needs from the blue-green deployer: the state
// and one atomic switch. *deployer.Deployer implements it.
type Deployer interface {
	Status(ctx context.Context) (*deployer.State, error)
	Switch(ctx context.Context, to deployer.Color, o deployer.SwitchOptions) (*deployer.SwitchRecord, error)
}

// Defaults for Options.
const (
	DefaultPath         = "/webhook"
	DefaultMaxBodyBytes = 1 << 20
	DefaultTimeout      = 10 * time.Second
	// seenLimit bounds the in-memory set of handled incidents; the cluster's
	// history stays the authority for older ones.
	seenLimit = 1024
	// conflictRetries: how often a switch that lost a race is re-decided.
	conflictRetries = 3
)

// Options configure a Server. The zero value is valid: no token, no dry
// run, DefaultPath, DefaultMaxBodyBytes, DefaultTimeout, slog.Default().
type Options struct {
	// Token, when set, must arrive as "Authorization: Bearer <Token>".
	Token string
	// DryRun logs what the actor would do and never switches.
	DryRun bool
	// Path is where the webhook is served.
	Path string
	// MaxBodyBytes refuses larger bodies with 413.
	MaxBodyBytes int64
	// Timeout bounds the cluster calls of one notification.
	Timeout time.Duration
	Logger  *slog.Logger
}

// Server handles Alertmanager's notifications. Create it with NewServer.
type Server struct {
	d       Deployer
	opts    Options
	log     *slog.Logger
	token   [sha256.Size]byte
	metrics *metrics
	mux     *http.ServeMux

	// mu serialises decisions: two deliveries of one incident racing each
	// other must not both switch.
	mu       sync.Mutex
	seen     map[string]struct{}
	seenFIFO []string
}

// NewServer returns an actor that switches through d.
func NewServer(d Deployer, o Options) *Server {
	if o.Path == "" {
		o.Path = DefaultPath
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	s := &Server{d: d, opts: o, log: o.Logger, seen: map[string]struct{}{}}
	s.token = sha256.Sum256([]byte(o.Token))
	s.metrics = newMetrics(d)
	s.mux = http.NewServeMux()
	s.mux.HandleFunc(o.Path, s.webhook)
	s.mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	s.mux.Handle("/metrics", s.metrics.handler())
	return s
}

// ServeHTTP serves the webhook, /healthz and /metrics.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Result says what the actor did with a notification; it is the "result"
// label of remla_alert_actor_webhooks_total and the answer's JSON.
type Result string

// Results of a notification.
const (
	ResultSwitched     Result = "switched"     // traffic moved to the last good color
	ResultDryRun       Result = "dry_run"      // would have switched
	ResultNoop         Result = "noop"         // nothing to do (resolved, other color, already good)
	ResultDuplicate    Result = "duplicate"    // this incident was handled before
	ResultNotReady     Result = "not_ready"    // the target has no ready replica: 503, retried
	ResultError        Result = "error"        // the cluster could not be read or written: 5xx, retried
	ResultUnauthorized Result = "unauthorized" // no or wrong bearer token: 401
	ResultMalformed    Result = "malformed"    // not a version 4 webhook payload: 400
	ResultTooLarge     Result = "too_large"    // body over the limit: 413
	ResultBadMethod    Result = "bad_method"   // not POST: 405
)

// Answer is the JSON body of every webhook response.
type Answer struct {
	Result  Result `json:"result"`
	Message string `json:"message"`
	// From and To are set when traffic moved (or would have, in a dry run).
	From deployer.Color `json:"from,omitempty"`
	To   deployer.Color `json:"to,omitempty"`
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

// Handle decides on a parsed notification and, when an alert that wants a
// rollback fires for the active color, moves traffic to the last good color.
// It returns the HTTP status to answer: 5xx asks Alertmanager to retry.
func (s *Server) Handle(ctx context.Context, msg *Message) (int, Answer) {
	var fresh []Alert
	dup := 0
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range msg.Alerts {
		if !a.wantsRollback() {
			continue
		}
		if _, ok := s.seen[a.Incident()]; ok {
			dup++
			continue
		}
		fresh = append(fresh, a)
	}
	if len(fresh) == 0 {
		if dup > 0 {
			return http.StatusOK, Answer{Result: ResultDuplicate, Message: "every firing rollback alert was handled before"}
		}
		return http.StatusOK, Answer{Result: ResultNoop, Message: `no firing alert labelled rollback="true"`}
	}
	st, err := s.d.Status(ctx)
	if err != nil {
		return http.StatusServiceUnavailable, Answer{Result: ResultError, Message: "reading the deployer state: " + err.Error()}
	}
	best := Answer{Result: ResultNoop}
	var notes []string
	for _, a := range fresh {
		code, ans, conflict := s.decide(ctx, st, a, msg.GroupKey)
		for attempt := 1; conflict && attempt < conflictRetries; attempt++ {
			// Someone else switched between our read and our write: decide
			// again on the new state.
			if st, err = s.d.Status(ctx); err != nil {
				return http.StatusServiceUnavailable, Answer{Result: ResultError, Message: "reading the deployer state: " + err.Error()}
			}
			code, ans, conflict = s.decide(ctx, st, a, msg.GroupKey)
		}
		if code >= 500 {
			return code, ans
		}
		if ans.Result == ResultSwitched || ans.Result == ResultDryRun || (ans.Result == ResultDuplicate && best.Result == ResultNoop) {
			best = ans
		}
		notes = append(notes, ans.Message)
	}
	if best.Result == ResultNoop {
		best.Message = strings.Join(notes, "; ")
	}
	return http.StatusOK, best
}

// decide handles one fresh alert against the state st, which it updates
// when traffic moves so later alerts of the same notification see it.
// conflict reports a switch that lost a race and is worth deciding again.
func (s *Server) decide(ctx context.Context, st *deployer.State, a Alert, groupKey string) (code int, ans Answer, conflict bool) {
	name, inc := a.Name(), a.Incident()
	log := s.log.With("alertname", name, "color", a.Labels[LabelColor], "incident", inc, "groupKey", groupKey,
		"active", st.Active, "lastGood", st.LastGood)
	if c, ok := a.Labels[LabelColor]; ok && deployer.Color(c) != st.Active {
		log.Info("not acting: the alert is about a color that is not active")
		return http.StatusOK, Answer{Result: ResultNoop, Message: fmt.Sprintf("%s fires for %s, but %s is active", name, c, st.Active)}, false
	}
	if st.LastGood == "" {
		log.Warn("not acting: the deployer recorded no last good color")
		return http.StatusOK, Answer{Result: ResultNoop, Message: fmt.Sprintf("%s fires, but no last good color is recorded (no switch has happened yet)", name)}, false
	}
	if st.LastGood == st.Active {
		log.Info("not acting: the active color is the last good one")
		return http.StatusOK, Answer{Result: ResultNoop, Message: fmt.Sprintf("%s fires, but %s is already the last good color", name, st.Active)}, false
	}
	from, to := st.Active, st.LastGood
	if s.opts.DryRun {
		s.remember(inc)
		s.metrics.rollback(ResultDryRun)
		log.Warn("dry run: would roll back", "from", from, "to", to)
		st.Active = to
		return http.StatusOK, Answer{Result: ResultDryRun, Message: fmt.Sprintf("dry run: %s would move traffic from %s to %s", name, from, to), From: from, To: to}, false
	}
	rec, err := s.d.Switch(ctx, to, deployer.SwitchOptions{Reason: name, By: "alert:" + name, Incident: inc, Rollback: true})
	switch {
	case errors.Is(err, deployer.ErrIncidentSeen):
		s.remember(inc)
		log.Info("not acting: the cluster history already holds this incident")
		return http.StatusOK, Answer{Result: ResultDuplicate, Message: fmt.Sprintf("%s: incident %s was handled before", name, inc)}, false
	case errors.Is(err, deployer.ErrNotReady):
		s.metrics.rollback(ResultNotReady)
		log.Warn("not rolling back: the last good color is not ready; Alertmanager will retry", "to", to, "err", err)
		return http.StatusServiceUnavailable, Answer{Result: ResultNotReady, Message: fmt.Sprintf("%s: cannot roll back to %s: %v", name, to, err)}, false
	case errors.Is(err, deployer.ErrConflict):
		log.Warn("switch lost a race; deciding again", "err", err)
		return http.StatusServiceUnavailable, Answer{Result: ResultError, Message: fmt.Sprintf("%s: %v", name, err)}, true
	case err != nil:
		s.metrics.rollback("failed")
		log.Error("rollback failed; Alertmanager will retry", "to", to, "err", err)
		return http.StatusInternalServerError, Answer{Result: ResultError, Message: fmt.Sprintf("%s: switching to %s: %v", name, to, err)}, false
	case rec == nil:
		// The target became active between our read and the switch.
		st.Active = to
		return http.StatusOK, Answer{Result: ResultNoop, Message: fmt.Sprintf("%s: %s is already active", name, to)}, false
	}
	s.remember(inc)
	s.metrics.rollback(ResultSwitched)
	at := rec.Time
	if at.IsZero() {
		at = time.Now()
	}
	s.metrics.rolledBackAt(at)
	st.Active = to
	log.Warn("rolled back", "from", rec.From, "to", rec.To)
	return http.StatusOK, Answer{Result: ResultSwitched, Message: fmt.Sprintf("%s: traffic moved from %s to %s", name, rec.From, rec.To), From: rec.From, To: rec.To}, false
}

// remember adds an incident to the bounded in-memory seen-set. Must hold s.mu.
func (s *Server) remember(inc string) {
	if _, ok := s.seen[inc]; ok {
		return
	}
	s.seen[inc] = struct{}{}
	s.seenFIFO = append(s.seenFIFO, inc)
	if len(s.seenFIFO) > seenLimit {
		delete(s.seen, s.seenFIFO[0])
		s.seenFIFO = s.seenFIFO[1:]
	}
}

package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/remla/tagger/deployer"
)

// fakeDeployer stands in for the cluster in single-branch tests; it follows
// the real deployer's Switch rules (ErrIncidentSeen, no-op to the active
// color, ErrNotReady, LastGood kept on a rollback). The end-to-end test in
// test/e2e runs the actor against the real deployer on a real cluster.
type fakeDeployer struct {
	mu        sync.Mutex
	st        deployer.State
	ready     map[deployer.Color]bool
	statusErr error
	// switchErrs are returned by the next Switch calls, in order.
	switchErrs []error
	// beforeSwitch runs inside Switch before anything else (to simulate a race).
	beforeSwitch func(f *fakeDeployer)
	switches     []deployer.SwitchOptions
	statusCalls  int
}

// greenBad: green was just deployed and switched to; blue is the last good.
func greenBad() *fakeDeployer {
	return &fakeDeployer{
		st:    deployer.State{Active: deployer.Green, LastGood: deployer.Blue},
		ready: map[deployer.Color]bool{deployer.Blue: true, deployer.Green: true},
	}
}

func (f *fakeDeployer) Status(ctx context.Context) (*deployer.State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.statusCalls++
	if f.statusErr != nil {
		return nil, f.statusErr
	}
	st := f.st
	st.History = append([]deployer.SwitchRecord(nil), f.st.History...)
	return &st, nil
}

func (f *fakeDeployer) Switch(ctx context.Context, to deployer.Color, o deployer.SwitchOptions) (*deployer.SwitchRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.beforeSwitch != nil {
		f.beforeSwitch(f)
		f.beforeSwitch = nil
	}
	if len(f.switchErrs) > 0 {
		err := f.switchErrs[0]
		f.switchErrs = f.switchErrs[1:]
		return nil, err
	}
	for _, r := range f.st.History {
		if o.Incident != "" && r.Incident == o.Incident {
			return nil, deployer.ErrIncidentSeen
		}
	}
	if f.st.Active == to {
		return nil, nil
	}
	if !f.ready[to] && !o.Force {
		return nil, deployer.ErrNotReady
	}
	rec := deployer.SwitchRecord{Time: time.Now(), From: f.st.Active, To: to, Reason: o.Reason, By: o.By, Incident: o.Incident, Rollback: o.Rollback}
	if !o.Rollback {
		f.st.LastGood = f.st.Active
	}
	f.st.Active = to
	f.st.History = append([]deployer.SwitchRecord{rec}, f.st.History...)
	f.switches = append(f.switches, o)
	return &rec, nil
}

func (f *fakeDeployer) active() deployer.Color {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st.Active
}

func (f *fakeDeployer) switchCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.switches)
}

const testToken = "s3cret-token"

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newTestServer(f *fakeDeployer, o Options) *Server {
	if o.Logger == nil {
		o.Logger = quietLogger()
	}
	return NewServer(f, o)
}

func readFixture(name string) ([]byte, error) { return os.ReadFile(filepath.Join("testdata", name)) }

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := readFixture(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type response struct {
	code int
	ans  Answer
	hdr  http.Header
}

func post(t *testing.T, s *Server, body []byte, token string) response {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rr := httptest.NewRecorder()
	s.ServeHTTP(rr, req)
	var a Answer
	if err := json.Unmarshal(rr.Body.Bytes(), &a); err != nil {
		t.Fatalf("answer is not JSON: %v: %q", err, rr.Body.String())
	}
	return response{code: rr.Code, ans: a, hdr: rr.Header()}
}

// withAlerts rewrites the firing fixture's alerts.
func withAlerts(t *testing.T, mutate func(m *Message)) []byte {
	t.Helper()
	var m Message
	if err := json.Unmarshal(fixture(t, "firing.json"), &m); err != nil {
		t.Fatal(err)
	}
	mutate(&m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFiringRollsBackToLastGood(t *testing.T) {
	f := greenBad()
	s := newTestServer(f, Options{Token: testToken})
	r := post(t, s, fixture(t, "firing.json"), testToken)
	if r.code != http.StatusOK || r.ans.Result != ResultSwitched || r.ans.From != deployer.Green || r.ans.To != deployer.Blue {
		t.Fatalf("got %d %+v, want 200 switched green->blue", r.code, r.ans)
	}
	if f.active() != deployer.Blue {
		t.Fatalf("active = %s, want blue", f.active())
	}
	want := deployer.SwitchOptions{Reason: "UsersUnsatisfied", By: "alert:UsersUnsatisfied",
		Incident: "6b0a9f2c1e7d4a35@2026-11-26T02:10:03.512Z", Rollback: true}
	if len(f.switches) != 1 || f.switches[0] != want {
		t.Fatalf("switches = %+v, want exactly %+v", f.switches, want)
	}
}

// TestTargetIsLastGoodNotTheOtherColor: with blue active and blue also the
// last good color, a firing alert without a color label changes nothing; a
// toggle ("the other color") would have moved traffic to green.
func TestTargetIsLastGoodNotTheOtherColor(t *testing.T) {
	f := &fakeDeployer{
		st:    deployer.State{Active: deployer.Blue, LastGood: deployer.Blue},
		ready: map[deployer.Color]bool{deployer.Blue: true, deployer.Green: true},
	}
	s := newTestServer(f, Options{})
	body := withAlerts(t, func(m *Message) { delete(m.Alerts[0].Labels, "color") })
	r := post(t, s, body, "")
	if r.code != http.StatusOK || r.ans.Result != ResultNoop || f.switchCount() != 0 {
		t.Fatalf("got %d %+v and %d switches, want 200 noop and none", r.code, r.ans, f.switchCount())
	}
}

func TestRepeatedAndResolvedChangeNothing(t *testing.T) {
	f := greenBad()
	s := newTestServer(f, Options{})
	steps := []struct {
		name    string
		body    string
		code    int
		result  Result
		switchs int
	}{
		{"first delivery", "firing.json", 200, ResultSwitched, 1},
		{"repeat_interval re-send", "firing.json", 200, ResultDuplicate, 1},
		{"another repeat", "firing.json", 200, ResultDuplicate, 1},
		{"resolved", "resolved.json", 200, ResultNoop, 1},
	}
	for _, st := range steps {
		r := post(t, s, fixture(t, st.body), "")
		if r.code != st.code || r.ans.Result != st.result || f.switchCount() != st.switchs {
			t.Fatalf("%s: got %d %+v with %d switches, want %d %s with %d", st.name, r.code, r.ans, f.switchCount(), st.code, st.result, st.switchs)
		}
	}
	if f.active() != deployer.Blue {
		t.Fatalf("active = %s, want blue", f.active())
	}
}

// TestRepeatAfterRestart: a new actor (empty memory) gets a repeat of an
// incident that already caused a switch; the cluster history refuses it.
// The operator had meanwhile moved traffic back to green by hand, so only the
// history stands between the repeat and a second rollback.
func TestRepeatAfterRestart(t *testing.T) {
	f := greenBad()
	first := newTestServer(f, Options{})
	if r := post(t, first, fixture(t, "firing.json"), ""); r.ans.Result != ResultSwitched {
		t.Fatalf("first: %+v", r.ans)
	}
	f.mu.Lock()
	f.st.Active, f.st.LastGood = deployer.Green, deployer.Blue
	f.mu.Unlock()
	restarted := newTestServer(f, Options{})
	r := post(t, restarted, fixture(t, "firing.json"), "")
	if r.code != http.StatusOK || r.ans.Result != ResultDuplicate || f.switchCount() != 1 || f.active() != deployer.Green {
		t.Fatalf("got %d %+v, %d switches, active %s; want 200 duplicate, 1 switch, green", r.code, r.ans, f.switchCount(), f.active())
	}
}

func TestDuplicateDeliveriesSwitchOnce(t *testing.T) {
	f := greenBad()
	s := newTestServer(f, Options{})
	body := fixture(t, "firing.json")
	const n = 16
	var wg sync.WaitGroup
	results := make(chan Result, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
			rr := httptest.NewRecorder()
			s.ServeHTTP(rr, req)
			var a Answer
			json.Unmarshal(rr.Body.Bytes(), &a)
			results <- a.Result
		}()
	}
	wg.Wait()
	close(results)
	count := map[Result]int{}
	for r := range results {
		count[r]++
	}
	if count[ResultSwitched] != 1 || count[ResultDuplicate] != n-1 || f.switchCount() != 1 {
		t.Fatalf("results %v, %d switches; want 1 switched, %d duplicate, 1 switch", count, f.switchCount(), n-1)
	}
}

func TestMixedGroupActsOnFiringRollbackAlertOnly(t *testing.T) {
	f := greenBad()
	s := newTestServer(f, Options{})
	r := post(t, s, fixture(t, "mixed.json"), "")
	if r.code != http.StatusOK || r.ans.Result != ResultSwitched || f.switchCount() != 1 {
		t.Fatalf("got %d %+v with %d switches, want one switch", r.code, r.ans, f.switchCount())
	}
	if got := f.switches[0].Reason; got != "UsersUnsatisfied" {
		t.Fatalf("switched for %q, want the firing UsersUnsatisfied (not the resolved or unlabelled alert)", got)
	}
	// Only resolved and unlabelled alerts: nothing to do.
	f2 := greenBad()
	s2 := newTestServer(f2, Options{})
	body := withAlerts(t, func(m *Message) {
		var mixed Message
		json.Unmarshal(fixture(t, "mixed.json"), &mixed)
		m.Alerts = mixed.Alerts[:2]
	})
	r = post(t, s2, body, "")
	if r.code != http.StatusOK || r.ans.Result != ResultNoop || f2.switchCount() != 0 || f2.statusCalls != 0 {
		t.Fatalf("got %d %+v, %d switches, %d status reads; want noop without touching the cluster", r.code, r.ans, f2.switchCount(), f2.statusCalls)
	}
}

func TestNotActingCases(t *testing.T) {
	cases := []struct {
		name   string
		state  deployer.State
		mutate func(m *Message)
		want   string // in the answer's message
	}{
		{"alert for a color that is not active", deployer.State{Active: deployer.Blue, LastGood: deployer.Green},
			func(m *Message) {}, "blue is active"},
		{"no last good color yet", deployer.State{Active: deployer.Green},
			func(m *Message) {}, "no last good color"},
		{"active is already the last good", deployer.State{Active: deployer.Green, LastGood: deployer.Green},
			func(m *Message) {}, "already the last good"},
		{"rollback label not true", deployer.State{Active: deployer.Green, LastGood: deployer.Blue},
			func(m *Message) { m.Alerts[0].Labels["rollback"] = "false" }, "no firing alert"},
		{"group firing but the alert itself resolved", deployer.State{Active: deployer.Green, LastGood: deployer.Blue},
			func(m *Message) { m.Status = "firing"; m.Alerts[0].Status = "resolved" }, "no firing alert"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeDeployer{st: c.state, ready: map[deployer.Color]bool{deployer.Blue: true, deployer.Green: true}}
			s := newTestServer(f, Options{})
			r := post(t, s, withAlerts(t, c.mutate), "")
			if r.code != http.StatusOK || r.ans.Result != ResultNoop || !strings.Contains(r.ans.Message, c.want) {
				t.Fatalf("got %d %+v, want 200 noop saying %q", r.code, r.ans, c.want)
			}
			if f.switchCount() != 0 || f.st.Active != c.state.Active {
				t.Fatalf("state changed: %+v", f.st)
			}
		})
	}
}

func TestTargetNotReadyAnswers503ThenRetrySwitches(t *testing.T) {
	f := greenBad()
	f.ready[deployer.Blue] = false
	s := newTestServer(f, Options{})
	r := post(t, s, fixture(t, "firing.json"), "")
	if r.code != http.StatusServiceUnavailable || r.ans.Result != ResultNotReady || !strings.Contains(r.ans.Message, "blue") {
		t.Fatalf("got %d %+v, want 503 not_ready naming blue", r.code, r.ans)
	}
	if f.active() != deployer.Green || f.switchCount() != 0 {
		t.Fatalf("traffic moved to a color that is not ready: %+v", f.st)
	}
	// Alertmanager retries; blue is ready now.
	f.mu.Lock()
	f.ready[deployer.Blue] = true
	f.mu.Unlock()
	r = post(t, s, fixture(t, "firing.json"), "")
	if r.code != http.StatusOK || r.ans.Result != ResultSwitched || f.active() != deployer.Blue {
		t.Fatalf("retry: got %d %+v, active %s; want switched to blue", r.code, r.ans, f.active())
	}
}

func TestClusterErrorsAnswer5xx(t *testing.T) {
	t.Run("state unreadable", func(t *testing.T) {
		f := greenBad()
		f.statusErr = errors.New("connection refused")
		r := post(t, newTestServer(f, Options{}), fixture(t, "firing.json"), "")
		if r.code != http.StatusServiceUnavailable || r.ans.Result != ResultError {
			t.Fatalf("got %d %+v, want 503 error", r.code, r.ans)
		}
	})
	t.Run("switch fails", func(t *testing.T) {
		f := greenBad()
		f.switchErrs = []error{errors.New("etcdserver: request timed out")}
		s := newTestServer(f, Options{})
		r := post(t, s, fixture(t, "firing.json"), "")
		if r.code != http.StatusInternalServerError || r.ans.Result != ResultError {
			t.Fatalf("got %d %+v, want 500 error", r.code, r.ans)
		}
		// Not remembered as handled: the retry switches.
		if r = post(t, s, fixture(t, "firing.json"), ""); r.ans.Result != ResultSwitched {
			t.Fatalf("retry: %+v, want switched", r.ans)
		}
	})
	t.Run("lost a race to an operator who rolled back first", func(t *testing.T) {
		f := greenBad()
		f.beforeSwitch = func(f *fakeDeployer) { f.st.Active = deployer.Blue }
		f.switchErrs = []error{deployer.ErrConflict}
		r := post(t, newTestServer(f, Options{}), fixture(t, "firing.json"), "")
		if r.code != http.StatusOK || r.ans.Result != ResultNoop || f.switchCount() != 0 || f.active() != deployer.Blue {
			t.Fatalf("got %d %+v, %d switches; want noop after re-reading the state", r.code, r.ans, f.switchCount())
		}
	})
}

func TestDryRunDoesNotSwitch(t *testing.T) {
	f := greenBad()
	s := newTestServer(f, Options{DryRun: true})
	r := post(t, s, fixture(t, "firing.json"), "")
	if r.code != http.StatusOK || r.ans.Result != ResultDryRun || r.ans.To != deployer.Blue || f.switchCount() != 0 || f.active() != deployer.Green {
		t.Fatalf("got %d %+v, %d switches; want dry_run to blue and no switch", r.code, r.ans, f.switchCount())
	}
}

func TestRequestChecks(t *testing.T) {
	big := withAlerts(t, func(m *Message) { m.Alerts[0].Annotations["description"] = strings.Repeat("x", 4096) })
	cases := []struct {
		name   string
		method string
		body   []byte
		auth   string // full Authorization header
		code   int
		result Result
	}{
		{"no token", "POST", fixture(t, "firing.json"), "", 401, ResultUnauthorized},
		{"wrong token", "POST", fixture(t, "firing.json"), "Bearer nope", 401, ResultUnauthorized},
		{"token as a prefix of the right one", "POST", fixture(t, "firing.json"), "Bearer s3cret", 401, ResultUnauthorized},
		{"basic auth", "POST", fixture(t, "firing.json"), "Basic " + testToken, 401, ResultUnauthorized},
		{"not JSON", "POST", []byte("{not json"), "Bearer " + testToken, 400, ResultMalformed},
		{"empty body", "POST", nil, "Bearer " + testToken, 400, ResultMalformed},
		{"wrong version", "POST", withAlerts(t, func(m *Message) { m.Version = "3" }), "Bearer " + testToken, 400, ResultMalformed},
		{"unknown alert status", "POST", withAlerts(t, func(m *Message) { m.Alerts[0].Status = "burning" }), "Bearer " + testToken, 400, ResultMalformed},
		{"no fingerprint", "POST", withAlerts(t, func(m *Message) { m.Alerts[0].Fingerprint = "" }), "Bearer " + testToken, 400, ResultMalformed},
		{"no startsAt", "POST", withAlerts(t, func(m *Message) { m.Alerts[0].StartsAt = time.Time{} }), "Bearer " + testToken, 400, ResultMalformed},
		{"oversized", "POST", big, "Bearer " + testToken, 413, ResultTooLarge},
		{"GET", "GET", nil, "Bearer " + testToken, 405, ResultBadMethod},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := greenBad()
			s := newTestServer(f, Options{Token: testToken, MaxBodyBytes: 4096})
			req := httptest.NewRequest(c.method, "/webhook", bytes.NewReader(c.body))
			if c.auth != "" {
				req.Header.Set("Authorization", c.auth)
			}
			rr := httptest.NewRecorder()
			s.ServeHTTP(rr, req)
			var a Answer
			if err := json.Unmarshal(rr.Body.Bytes(), &a); err != nil {
				t.Fatalf("answer not JSON: %q", rr.Body.String())
			}
			if rr.Code != c.code || a.Result != c.result || a.Message == "" {
				t.Fatalf("got %d %+v, want %d %s with a message", rr.Code, a, c.code, c.result)
			}
			if f.switchCount() != 0 || f.statusCalls != 0 {
				t.Fatalf("a refused request reached the cluster (%d status reads, %d switches)", f.statusCalls, f.switchCount())
			}
			if c.code == 401 && rr.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	// The right token, any case of "Bearer", is accepted.
	f := greenBad()
	s := newTestServer(f, Options{Token: testToken})
	req := httptest.NewRequest("POST", "/webhook", bytes.NewReader(fixture(t, "firing.json")))
	req.Header.Set("Authorization", "bearer "+testToken)
	rr := httptest.NewRecorder()
	s.ServeHTTP(rr, req)
	if rr.Code != 200 || f.active() != deployer.Blue {
		t.Fatalf("right token: %d %s", rr.Code, rr.Body)
	}
}

func TestHealthzAndMetrics(t *testing.T) {
	f := greenBad()
	s := newTestServer(f, Options{Path: "/hook"})
	req := httptest.NewRequest("POST", "/hook", bytes.NewReader(fixture(t, "firing.json")))
	s.ServeHTTP(httptest.NewRecorder(), req)
	s.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/hook", bytes.NewReader(fixture(t, "firing.json"))))
	s.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/hook", strings.NewReader("garbage")))

	rr := httptest.NewRecorder()
	s.ServeHTTP(rr, httptest.NewRequest("GET", "/healthz", nil))
	if rr.Code != 200 {
		t.Fatalf("/healthz: %d", rr.Code)
	}
	rr = httptest.NewRecorder()
	s.ServeHTTP(rr, httptest.NewRequest("GET", "/metrics", nil))
	body := rr.Body.String()
	for _, want := range []string{
		`remla_alert_actor_webhooks_total{result="switched"} 1`,
		`remla_alert_actor_webhooks_total{result="duplicate"} 1`,
		`remla_alert_actor_webhooks_total{result="malformed"} 1`,
		`remla_alert_actor_webhooks_total{result="not_ready"} 0`,
		`remla_alert_actor_rollbacks_total{result="switched"} 1`,
		`remla_alert_actor_rollbacks_total{result="not_ready"} 0`,
		`remla_alert_actor_webhook_duration_seconds_count 3`,
		`remla_active_color{color="blue"} 1`,
		`remla_active_color{color="green"} 0`,
		`remla_last_good_color{color="blue"} 1`,
		`remla_alert_actor_state_up 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, "remla_alert_actor_last_rollback_timestamp_seconds 0\n") {
		t.Error("last rollback timestamp not set after a rollback")
	}
	f.mu.Lock()
	f.statusErr = errors.New("down")
	f.mu.Unlock()
	rr = httptest.NewRecorder()
	s.ServeHTTP(rr, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.Contains(rr.Body.String(), "remla_alert_actor_state_up 0") || strings.Contains(rr.Body.String(), "remla_active_color{") {
		t.Error("with the cluster unreadable, want state_up 0 and no active color")
	}
}

// TestSeenSetIsBounded: the in-memory seen-set forgets the oldest incidents
// beyond its limit (the cluster's history still refuses them).
func TestSeenSetIsBounded(t *testing.T) {
	s := newTestServer(greenBad(), Options{})
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range seenLimit + 10 {
		s.remember(fmt.Sprintf("inc-%d", i))
	}
	s.remember("inc-20") // already known: not added twice
	if len(s.seen) != seenLimit || len(s.seenFIFO) != seenLimit {
		t.Fatalf("seen %d, fifo %d; want %d each", len(s.seen), len(s.seenFIFO), seenLimit)
	}
	if _, ok := s.seen["inc-9"]; ok {
		t.Error("the oldest incidents were not forgotten")
	}
	if _, ok := s.seen[fmt.Sprintf("inc-%d", seenLimit+9)]; !ok {
		t.Error("the newest incident was forgotten")
	}
}

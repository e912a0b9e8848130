package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/remla/tagger/deployer"
	"github.com/remla/tagger/test/clustertest"
	"github.com/remla/tagger/test/testenv"
)

// The alert the test provokes and the number of predictions it sends
// through the active Service while green has it (the rule needs at least 20
// predictions in its window; green's model tags none of them).
const (
	wantAlert      = "TooManyEmptyPredictions"
	badPredictions = 25
)

// The versions of the loop: blue runs the trained model; green's model
// predicts no tag for any title (clustertest.NoTags), so the project's rule
// fires from real traffic; fixed is a good version to put on green in place.
const (
	blueVersion  = "1.0.0"
	greenVersion = "1.1.0-notags"
	fixedVersion = "1.2.0"
)

// loop is the whole rollback loop with real parts, ready to be driven:
// blue (good) and green (bad) deployed as real pods on the test cluster's
// node with green active; Prometheus on the host discovering the pods
// through the cluster's API and scraping them every second with the
// project's rules; Alertmanager with the project's route; and `remlactl
// alert-actor` switching the real Service.
type loop struct {
	ctx    context.Context
	d      *deployer.Deployer
	cfg    *deployer.Config
	ns     string
	client kubernetes.Interface
	// active is the active Service's URL (its ClusterIP, through kube-proxy);
	// preview the preview Service's of each color.
	active   string
	preview  map[string]string
	actorURL string
	prom     promv1.API
	// procs are the running processes a wait watches.
	procs      []*testenv.Process
	actor      *testenv.Process
	startActor func(name string) *testenv.Process
	// history is the number of switch records after green was deployed.
	history int
}

func newLoop(t *testing.T) *loop {
	t.Helper()
	kubeconfig := clustertest.Kubeconfig(t)
	promBin := testenv.PrometheusBin(t)
	amBin := testenv.Tool(t, "prometheus-alertmanager", "prometheus-alertmanager")
	ctlBin := testenv.Binary(t, "remlactl")
	root := repoRoot(t)
	ns := clustertest.Namespace(t)
	clustertest.AppImage(t, clustertest.Good, blueVersion, fixedVersion)
	clustertest.AppImage(t, clustertest.NoTags, greenVersion)
	client := clustertest.Client(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel)

	// The cluster: blue 1.0.0 (good), then green 1.1.0-notags (no tags) deployed and switched to.
	// Answers go to a real PostgreSQL in the namespace, shared by both colors.
	d, cfg := postgresDeployer(t, kubeconfig, ns)
	if err := d.Init(ctx, blueVersion, deployer.DeployOptions{Timeout: 2 * time.Minute}); err != nil {
		t.Fatalf("init blue: %v", err)
	}
	if err := d.Deploy(ctx, deployer.Green, greenVersion, deployer.DeployOptions{Timeout: 2 * time.Minute}); err != nil {
		t.Fatalf("deploy green: %v", err)
	}
	before, err := d.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if before.Active != deployer.Green || before.Colors[deployer.Blue].Standing.Phase != deployer.Stable ||
		before.Colors[deployer.Green].Standing.Phase != deployer.Baking || before.Colors[deployer.Blue].Ready == 0 {
		t.Fatalf("after deploying green: active %s, blue %s, green %s, blue ready %d; want green, blue stable, green baking, > 0",
			before.Active, before.Colors[deployer.Blue].Standing.Phase, before.Colors[deployer.Green].Standing.Phase, before.Colors[deployer.Blue].Ready)
	}
	l := &loop{ctx: ctx, d: d, cfg: cfg, ns: ns, client: client, preview: map[string]string{}, history: len(before.History)}
	if c, err := l.selector(); err != nil || c != "green" {
		t.Fatalf("active Service selects %q (%v), want green", c, err)
	}
	l.active = clustertest.ServiceURL(t, ns, cfg.ActiveService)
	for _, c := range []deployer.Color{deployer.Blue, deployer.Green} {
		l.preview[string(c)] = clustertest.ServiceURL(t, ns, cfg.Release(c)+"-preview")
	}

	// The actor, as operators run it.
	token := randomToken(t)
	tokenFile := filepath.Join(dir, "alert-token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	actorAddr := testenv.FreeAddr(t)
	l.actorURL = "http://" + actorAddr
	l.startActor = func(name string) *testenv.Process {
		p := testenv.Start(t, name, exec.Command(ctlBin, "alert-actor", "--kubeconfig", kubeconfig, "-n", ns,
			"--listen", actorAddr, "--token-file", tokenFile, "--log-format", "json"))
		testenv.WaitFor(t, name+" /healthz", 30*time.Second, 50*time.Millisecond, append(l.procs, p), testenv.HTTPOK(l.actorURL+"/healthz"))
		return p
	}
	l.actor = l.startActor("alert-actor")
	l.procs = append(l.procs, l.actor)
	for _, forged := range []string{"", "Bearer wrong-" + token} {
		if code := postWebhook(t, l.actorURL+"/webhook", forged, filepath.Join(root, "deployer/alert/testdata/firing.json")); code != http.StatusUnauthorized {
			t.Fatalf("forged webhook (Authorization %q): %d, want 401", forged, code)
		}
	}

	// Alertmanager with the project's route, pointed at the actor.
	amAddr := testenv.FreeAddr(t)
	amConfig := renderAlertmanagerConfig(t, filepath.Join(root, "k8s/alertmanager.yml"), dir, l.actorURL+"/webhook", tokenFile)
	l.procs = append(l.procs, testenv.Start(t, "alertmanager", exec.Command(amBin, "--config.file="+amConfig,
		"--storage.path="+filepath.Join(dir, "am-data"), "--web.listen-address="+amAddr, "--cluster.listen-address=")))
	testenv.WaitFor(t, "alertmanager ready", 30*time.Second, 100*time.Millisecond, l.procs, testenv.HTTPOK("http://"+amAddr+"/-/ready"))

	// Prometheus with the project's rules, scraping every second.
	promAddr := testenv.FreeAddr(t)
	l.prom = testenv.PrometheusAPI(t, "http://"+promAddr)
	promConfig := filepath.Join(dir, "prometheus.yml")
	writePrometheusConfig(t, promConfig, filepath.Join(root, "k8s/alert-rules.yml"), amAddr, kubeconfig, ns, cfg, actorAddr)
	l.procs = append(l.procs, testenv.Start(t, "prometheus", exec.Command(promBin, "--config.file="+promConfig,
		"--storage.tsdb.path="+filepath.Join(dir, "prom-data"), "--web.listen-address="+promAddr)))
	testenv.WaitFor(t, "prometheus knows its alertmanager and scrapes all targets", 60*time.Second, 200*time.Millisecond, l.procs, func() (bool, error) {
		am, err := l.prom.AlertManagers(ctx)
		if err != nil {
			return false, err
		}
		if len(am.Active) == 0 {
			return false, fmt.Errorf("no active alertmanager yet")
		}
		// Two pods of each color, discovered through the API, and the actor.
		up, err := testenv.QueryVector(ctx, l.prom, "up == 1")
		if err != nil {
			return false, err
		}
		return len(up) == 5, fmt.Errorf("%d of 5 targets up: %v", len(up), up)
	})

	for _, color := range []string{"blue", "green"} {
		clustertest.WaitForStore(t, ctx, l.preview[color])
	}
	// Some ordinary traffic on both colors, through their preview Services;
	// blue's users say its tags are right (green's few users say nothing, so
	// that only the rule under test fires).
	for _, color := range []string{"blue", "green"} {
		for i := range 5 {
			id := predict(t, ctx, l.preview[color], titles[i%len(titles)])
			if color == "blue" {
				feedback(t, ctx, l.preview[color], id, true)
			}
		}
	}
	return l
}

// selector is the color the active Service selects.
func (l *loop) selector() (string, error) {
	svc, err := l.client.CoreV1().Services(l.ns).Get(l.ctx, l.cfg.ActiveService, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	return svc.Spec.Selector[l.cfg.Labels.Color], nil
}

// badTraffic sends badPredictions predictions through the active Service,
// which selects green: every answer comes from green and has no tag. It
// returns when the first bad answer came.
func (l *loop) badTraffic(t *testing.T) time.Time {
	t.Helper()
	var first time.Time
	for i := range badPredictions {
		a, err := clustertest.Predict(l.ctx, l.active, titles[i%len(titles)])
		if err != nil {
			t.Fatalf("predict through the active Service: %v", err)
		}
		if a.Color != "green" || len(a.Tags) != 0 {
			t.Fatalf("answer %d through the active Service: color %s, %d tags; want green with no tag", i, a.Color, len(a.Tags))
		}
		if first.IsZero() {
			first = time.Now()
		}
	}
	return first
}

// answeredByBlue waits until requests through the active Service are
// answered by blue, with tags, and returns when the first was.
func (l *loop) answeredByBlue(t *testing.T) time.Time {
	t.Helper()
	var at time.Time
	testenv.WaitFor(t, "a request through the active Service to be answered by blue", 30*time.Second, 10*time.Millisecond, l.procs, func() (bool, error) {
		a, err := clustertest.Predict(l.ctx, l.active, titles[0])
		if err != nil || a.Color != "blue" {
			return false, fmt.Errorf("answered by %q (%v)", a.Color, err)
		}
		at = time.Now()
		return len(a.Tags) > 0, fmt.Errorf("blue answered with no tag")
	})
	return at
}

// waitForBlue waits until the active Service selects blue.
func (l *loop) waitForBlue(t *testing.T, timeout time.Duration) {
	t.Helper()
	testenv.WaitFor(t, "the active Service to select blue", timeout, 20*time.Millisecond, l.procs, func() (bool, error) {
		c, err := l.selector()
		if c == "blue" || err != nil {
			return c == "blue", err
		}
		// Say why it waits: a not_ready answer means blue has no ready pod.
		var why []string
		for _, r := range []string{"not_ready", "error", "noop"} {
			if n, _ := actorMetric(l.ctx, l.actorURL, "remla_alert_actor_webhooks_total", r); n > 0 {
				why = append(why, fmt.Sprintf("%s answers: %v", r, n))
			}
		}
		return false, fmt.Errorf("selector still %s; actor: %v", c, why)
	})
}

// assertRolledBack checks the state after the rollback by the alert: blue
// has the traffic and is stable, green is failed at its version, and the
// history holds exactly one rollback, by the alert, with its incident.
func (l *loop) assertRolledBack(t *testing.T) *deployer.State {
	t.Helper()
	st, err := l.d.Status(l.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var rolledBack []deployer.Record
	for _, r := range st.History[:len(st.History)-l.history] {
		if r.Event == deployer.EventRolledBack {
			rolledBack = append(rolledBack, r)
		}
	}
	blue, green := st.Colors[deployer.Blue].Standing, st.Colors[deployer.Green].Standing
	if st.Active != deployer.Blue || blue.Phase != deployer.Stable || green.Phase != deployer.Failed || green.Version != greenVersion || len(rolledBack) != 1 {
		t.Fatalf("after the rollback: active %s, blue %+v, green %+v, %d rollbacks recorded; want blue, stable, green failed at %s, one",
			st.Active, blue, green, len(rolledBack), greenVersion)
	}
	if rec := rolledBack[0]; rec.To != deployer.Blue || rec.From != deployer.Green || rec.Reason != wantAlert || rec.By != "alert:"+wantAlert || rec.Incident == "" {
		t.Fatalf("the rollback record %+v; want green->blue by alert:%s with an incident", rec, wantAlert)
	}
	return st
}

// TestAlertLoopRollsBack: unhappy users of green make the loop move traffic
// to blue; repeats, a restart of the actor and the resolved notification
// change nothing more; every dashboard expression returns data.
func TestAlertLoopRollsBack(t *testing.T) {
	t.Parallel()
	l := newLoop(t)
	ctx, root, procs, actorURL, prom, d, selector := l.ctx, repoRoot(t), l.procs, l.actorURL, l.prom, l.d, l.selector
	actor := l.actor

	// Users get answers without tags from green.
	firstBad := l.badTraffic(t)

	// The rollback: the selector goes back to blue, and the next requests
	// through the Service are answered by blue.
	l.waitForBlue(t, 60*time.Second)
	switched := time.Since(firstBad)
	served := l.answeredByBlue(t).Sub(firstBad)
	after := l.assertRolledBack(t)
	handled := actorSwitchDuration(t, actor.LogPath)
	t.Logf("ALERT LOOP: first bad answer -> selector on blue: %s; -> first answer by blue through the Service: %s (actor's own handling: %s; Prometheus + Alertmanager + polling: %s)",
		switched.Round(time.Millisecond), served.Round(time.Millisecond), handled.Round(time.Microsecond), (switched - handled).Round(time.Millisecond))

	// Every dashboard expression returns data from the real Prometheus,
	// while the alert still fires for green, once the actor's scrape shows
	// the new active color.
	testenv.WaitFor(t, "prometheus to see blue active", 30*time.Second, 200*time.Millisecond, procs, func() (bool, error) {
		r, err := testenv.QueryVector(ctx, prom, `remla_active_color{color="blue"} == 1`)
		return len(r) == 1, err
	})
	checkDashboard(t, ctx, prom, filepath.Join(root, "k8s/grafana-dashboards/metrics_dashboard.json"))

	// Alertmanager repeats the still-firing alert (repeat_interval 3s in the
	// rendered config): the actor answers without a second switch.
	testenv.WaitFor(t, "a repeat of the firing alert to reach the actor", 60*time.Second, 200*time.Millisecond, procs, func() (bool, error) {
		n, err := actorMetric(ctx, actorURL, "remla_alert_actor_webhooks_total", "duplicate")
		return n >= 1, err
	})
	assertState(t, ctx, d, selector, deployer.Blue, len(after.History), "after the repeat")
	if n, err := actorMetric(ctx, actorURL, "remla_alert_actor_rollbacks_total", "switched"); err != nil || n != 1 {
		t.Fatalf("actor counted %v rollbacks (%v), want exactly 1", n, err)
	}
	if n, err := actorMetric(ctx, actorURL, "remla_alert_actor_webhooks_total", "unauthorized"); err != nil || n != 2 {
		t.Fatalf("actor counted %v unauthorized webhooks (%v), want the 2 forged ones", n, err)
	}

	// At most once across a restart: the actor restarts with an empty
	// memory, and an operator moves traffic back to green while the same
	// incident still fires. The next repeat finds the incident in the
	// cluster's history and changes nothing: the operator's choice stands.
	actor.Stop()
	procs = slices.DeleteFunc(procs, func(p *testenv.Process) bool { return p == actor })
	l.procs = procs
	if _, err := d.Switch(ctx, deployer.Green, deployer.SwitchOptions{Reason: "operator override", By: "operator:e2e"}); err != nil {
		t.Fatalf("operator switch back to green: %v", err)
	}
	st, err := d.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	overridden := len(st.History)
	actor = l.startActor("alert-actor-restarted")
	procs = append(procs, actor)
	l.procs = procs
	testenv.WaitFor(t, "a repeat to reach the restarted actor", 60*time.Second, 200*time.Millisecond, procs, func() (bool, error) {
		n, err := actorMetric(ctx, actorURL, "remla_alert_actor_webhooks_total", "duplicate")
		return n >= 1, err
	})
	assertState(t, ctx, d, selector, deployer.Green, overridden, "after a repeat to the restarted actor")

	// The operator fixes green in place with a good version; its answers
	// bring the share of empty predictions under 10%: the alert resolves and
	// Alertmanager sends the resolved notification, which changes nothing.
	if err := d.Deploy(ctx, deployer.Green, fixedVersion, deployer.DeployOptions{Timeout: 2 * time.Minute, InPlace: true}); err != nil {
		t.Fatalf("fix green in place: %v", err)
	}
	// The in-place upgrade is one Deployed record, and green bakes again at
	// the new version.
	if st, err = d.Status(ctx); err != nil {
		t.Fatal(err)
	}
	fixed := len(st.History)
	if g := st.Colors[deployer.Green].Standing; fixed != overridden+1 || g.Phase != deployer.Baking || g.Version != fixedVersion {
		t.Fatalf("after fixing green in place: %d records (was %d), green %+v; want one more, green baking at %s", fixed, overridden, g, fixedVersion)
	}
	// The old pods close their listener at SIGTERM, before their endpoints
	// are gone everywhere: the first requests after an in-place upgrade may
	// be refused (see docs/testing.md). Wait for the fixed pods' answers.
	testenv.WaitFor(t, "the fixed green to answer with tags", 30*time.Second, 20*time.Millisecond, procs, func() (bool, error) {
		a, err := clustertest.Predict(ctx, l.active, titles[0])
		return err == nil && a.Color == "green" && len(a.Tags) > 0, err
	})
	// Prometheus must scrape the fixed pods before their answers count:
	// increase() cannot see what a counter did before its first scrape, and
	// service discovery adds new targets only every few seconds.
	testenv.WaitFor(t, "prometheus to scrape both fixed green pods", 60*time.Second, 200*time.Millisecond, procs, func() (bool, error) {
		r, err := testenv.QueryVector(ctx, prom, `up{color="green", app_version="`+fixedVersion+`"} == 1`)
		return len(r) == 2, err
	})
	// The good model tags titles[0] (answeredByBlue checked); some other
	// titles get no tag from it either.
	for i := 0; i < 20*badPredictions; i++ {
		a, err := clustertest.Predict(ctx, l.active, titles[0])
		if err != nil || a.Color != "green" || len(a.Tags) == 0 {
			t.Fatalf("request %d to the fixed green: color %q, %d tags (%v); want green with tags", i, a.Color, len(a.Tags), err)
		}
		if i%10 == 0 {
			feedback(t, ctx, l.active, a.PredictionID, len(a.Tags) > 0)
		}
	}
	testenv.WaitFor(t, "the resolved notification to reach the actor", 90*time.Second, 200*time.Millisecond, procs, func() (bool, error) {
		n, err := actorMetric(ctx, actorURL, "remla_alert_actor_webhooks_total", "noop")
		return n >= 1, err
	})
	if r, err := testenv.QueryVector(ctx, prom, `ALERTS{alertname="`+wantAlert+`"}`); err != nil || len(r) != 0 {
		t.Fatalf("after the happy answers %s still shows in ALERTS: %v (%v)", wantAlert, r, err)
	}
	assertState(t, ctx, d, selector, deployer.Green, fixed, "after the resolved notification")
	if n, err := actorMetric(ctx, actorURL, "remla_alert_actor_rollbacks_total", "switched"); err != nil || n != 0 {
		t.Fatalf("restarted actor counted %v rollbacks (%v), want 0", n, err)
	}
}

// TestAlertLoopWaitsForReadyStable: while blue, the stable color, has no
// ready replica the actor answers 503 and traffic stays on green;
// Alertmanager keeps retrying, and once blue is ready again a retry rolls
// back.
func TestAlertLoopWaitsForReadyStable(t *testing.T) {
	t.Parallel()
	l := newLoop(t)
	deps := l.client.AppsV1().Deployments(l.ns)
	scaleBlue := func(n int32) {
		t.Helper()
		s, err := deps.GetScale(l.ctx, l.cfg.Release(deployer.Blue), metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s.Spec.Replicas = n
		if _, err := deps.UpdateScale(l.ctx, l.cfg.Release(deployer.Blue), s, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	blueReady := func(want func(int32) bool) func() (bool, error) {
		return func() (bool, error) {
			st, err := l.d.Status(l.ctx)
			if err != nil {
				return false, err
			}
			return want(st.Colors[deployer.Blue].Ready), nil
		}
	}
	scaleBlue(0)
	testenv.WaitFor(t, "blue to have no ready replica", 60*time.Second, 100*time.Millisecond, l.procs, blueReady(func(n int32) bool { return n == 0 }))

	l.badTraffic(t)
	testenv.WaitFor(t, "Alertmanager to deliver, and retry, the alert while blue is not ready", 60*time.Second, 100*time.Millisecond, l.procs, func() (bool, error) {
		n, err := actorMetric(l.ctx, l.actorURL, "remla_alert_actor_webhooks_total", "not_ready")
		return n >= 2, err
	})
	if c, err := l.selector(); err != nil || c != "green" {
		t.Fatalf("selector %q (%v) while blue had no ready replica, want green", c, err)
	}
	// The refusal is recorded once (with green marked failed: it was hit
	// while baking), however often Alertmanager retries.
	st, err := l.d.Status(l.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var added []string
	for _, r := range st.History[:len(st.History)-l.history] {
		added = append(added, string(r.Event))
	}
	if strings.Join(added, ",") != "RollbackRefused,MarkedFailed" || st.Colors[deployer.Green].Standing.Phase != deployer.Failed {
		t.Fatalf("while blue was not ready the history gained %v, green is %+v; want one refusal and green failed", added, st.Colors[deployer.Green].Standing)
	}

	scaleBlue(2)
	testenv.WaitFor(t, "blue ready again", 60*time.Second, 50*time.Millisecond, l.procs, blueReady(func(n int32) bool { return n > 0 }))
	ready := time.Now()
	l.waitForBlue(t, 60*time.Second)
	t.Logf("ALERT LOOP (not ready first): blue ready again -> selector on blue: %s", time.Since(ready).Round(time.Millisecond))
	l.answeredByBlue(t)
	l.assertRolledBack(t)
	if n, err := actorMetric(l.ctx, l.actorURL, "remla_alert_actor_rollbacks_total", "switched"); err != nil || n != 1 {
		t.Fatalf("actor counted %v rollbacks (%v), want exactly 1", n, err)
	}
}

// titles are StackOverflow-like questions for the apps to tag.
var titles = []string{
	"How to parse JSON in Python",
	"Java NullPointerException when calling a method on a list",
	"jQuery click event not firing on dynamically added button",
	"How do I merge two dictionaries in a single expression",
	"SQL query to select the latest row per group",
	"C# async await deadlock in a WinForms application",
}

func randomToken(t *testing.T) string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func postJSON(t *testing.T, ctx context.Context, url string, body any) []byte {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	out.ReadFrom(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("POST %s: %s: %s", url, resp.Status, out.String())
	}
	return out.Bytes()
}

func predict(t *testing.T, ctx context.Context, app, title string) string {
	t.Helper()
	var p struct {
		PredictionID string `json:"prediction_id"`
	}
	if err := json.Unmarshal(postJSON(t, ctx, app+"/api/v1/predict", map[string]string{"title": title}), &p); err != nil || p.PredictionID == "" {
		t.Fatalf("predict on %s: no prediction_id (%v)", app, err)
	}
	return p.PredictionID
}

func feedback(t *testing.T, ctx context.Context, app, id string, happy bool) {
	t.Helper()
	if err := clustertest.FeedbackRetrying(ctx, app, id, happy); err != nil {
		t.Fatal(err)
	}
}

func postWebhook(t *testing.T, url, auth, file string) int {
	t.Helper()
	body, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// renderAlertmanagerConfig takes the project's Alertmanager configuration
// and changes only what a test must: the actor's URL and token file, and
// shorter group_interval/repeat_interval so a repeat comes within seconds.
func renderAlertmanagerConfig(t *testing.T, src, dir, webhookURL, tokenFile string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	receiver := ""
	for _, r := range c["route"].(map[string]any)["routes"].([]any) {
		r := r.(map[string]any)
		for _, m := range r["matchers"].([]any) {
			if m == `rollback="true"` {
				receiver = r["receiver"].(string)
				r["group_interval"] = "1s"
				r["repeat_interval"] = "3s"
			}
		}
	}
	found := false
	for _, r := range c["receivers"].([]any) {
		r := r.(map[string]any)
		if r["name"] != receiver {
			continue
		}
		w := r["webhook_configs"].([]any)[0].(map[string]any)
		w["url"] = webhookURL
		w["http_config"].(map[string]any)["authorization"].(map[string]any)["credentials_file"] = tokenFile
		found = true
	}
	if !found {
		t.Fatalf("%s: no receiver for the rollback=\"true\" route", src)
	}
	out, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	if amtool, err := exec.LookPath("amtool"); err == nil {
		if out, err := exec.Command(amtool, "check-config", path).CombinedOutput(); err != nil {
			t.Fatalf("amtool check-config on the rendered configuration: %v\n%s", err, out)
		}
	}
	return path
}

// writePrometheusConfig discovers the app's pods through the test cluster's
// API, as the chart's ServiceMonitor does through the Prometheus operator:
// the pods of the app in ns that have a color label, on their http port,
// with the target labels the rules aggregate by: namespace (the operator
// sets it), app and color (the chart relabels them from the pod's labels).
// The pod's version label goes to app_version (model_info has a version
// label of its own: the model's).
func writePrometheusConfig(t *testing.T, path, rules, amAddr, kubeconfig, ns string, c *deployer.Config, actorAddr string) {
	t.Helper()
	label := func(k string) string {
		return "__meta_kubernetes_pod_label_" + strings.NewReplacer("-", "_", ".", "_", "/", "_").Replace(k)
	}
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - %q
alerting:
  alertmanagers:
    - static_configs:
        - targets: [%q]
scrape_configs:
  - job_name: remla-app
    kubernetes_sd_configs:
      - role: pod
        kubeconfig_file: %q
        namespaces:
          names: [%q]
    relabel_configs:
      - source_labels: [%s]
        regex: %s
        action: keep
      - source_labels: [%s]
        regex: .+
        action: keep
      - source_labels: [__meta_kubernetes_pod_container_port_name]
        regex: http
        action: keep
      - source_labels: [__meta_kubernetes_namespace]
        target_label: namespace
      - source_labels: [%s]
        target_label: app
      - source_labels: [%s]
        target_label: color
      - source_labels: [%s]
        target_label: app_version
      - source_labels: [__meta_kubernetes_pod_name]
        target_label: pod
  - job_name: remla-alert-actor
    static_configs:
      - targets: [%q]
`, rules, amAddr, kubeconfig, ns, label(c.Labels.App), regexp.QuoteMeta(c.App), label(c.Labels.Color),
		label(c.Labels.App), label(c.Labels.Color), label(c.Labels.Version), actorAddr)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
}

// checkDashboard runs every expression of the dashboard and wants data.
func checkDashboard(t *testing.T, ctx context.Context, prom promv1.API, path string) {
	t.Helper()
	d := testenv.ReadDashboard(t, path)
	n := 0
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			n++
			res, err := testenv.QueryVector(ctx, prom, tg.Expr)
			if err != nil {
				t.Errorf("dashboard panel %q: %v", p.Title, err)
				continue
			}
			if len(res) == 0 {
				t.Errorf("dashboard panel %q: %s returned no data", p.Title, tg.Expr)
				continue
			}
			t.Logf("dashboard %q: %s -> %d series, e.g. %v = %v", p.Title, tg.Expr, len(res), res[0].Metric, res[0].Value)
		}
	}
	if n == 0 {
		t.Fatal("the dashboard has no expression")
	}
}

// actorMetric reads one sample of family name, labelled result, from the
// actor's /metrics.
func actorMetric(ctx context.Context, actorURL, name, result string) (float64, error) {
	mf, err := testenv.Scrape(ctx, actorURL+"/metrics")
	if err != nil {
		return 0, err
	}
	v, ok := mf.Value(name, "result", result)
	if !ok {
		return 0, fmt.Errorf("%s{result=%q} not in the actor's /metrics", name, result)
	}
	return v, nil
}

// actorSwitchDuration reads the actor's own handling time of the webhook
// that switched, from its JSON log. The line is written when the answer is,
// after the Events that follow the switch: the selector moves before it, so
// wait for it a little.
func actorSwitchDuration(t *testing.T, logPath string) time.Duration {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(logPath)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			var l struct {
				Msg      string `json:"msg"`
				Result   string `json:"result"`
				Duration int64  `json:"duration"`
			}
			if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "webhook handled" && l.Result == "switched" {
				return time.Duration(l.Duration)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no \"webhook handled\" line with result switched in %s", logPath)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// assertState checks the selector, the active color, that blue stays the
// stable color, and the number of history records.
func assertState(t *testing.T, ctx context.Context, d *deployer.Deployer, selector func() (string, error), active deployer.Color, history int, when string) {
	t.Helper()
	st, err := d.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := selector()
	if err != nil {
		t.Fatal(err)
	}
	if blue := st.Colors[deployer.Blue].Standing.Phase; c != string(active) || st.Active != active || blue != deployer.Stable || len(st.History) != history {
		t.Fatalf("%s: selector %s, active %s, blue %s, %d history records; want %s, %s, stable, %d",
			when, c, st.Active, blue, len(st.History), active, active, history)
	}
}

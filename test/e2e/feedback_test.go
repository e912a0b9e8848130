package e2e_test

import (
	"context"
	"fmt"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/remla/tagger/deployer"
	fb "github.com/remla/tagger/feedback"
	"github.com/remla/tagger/test/clustertest"
	"github.com/remla/tagger/test/testenv"
)

// TestFeedbackSurvivesRedeploys is the operator's promise for answers, on
// the real node with the chart's own PostgreSQL: answers recorded through
// both colors (each also answering the other color's predictions), both
// colors redeployed at new versions, the database's pod restarted on its
// claim, a prediction made before all that answered afterwards, then an
// export through remla-train: every answer is there, with the model version
// and color of the release that predicted it, and nothing twice.
func TestFeedbackSurvivesRedeploys(t *testing.T) {
	t.Parallel()
	kubeconfig := clustertest.Kubeconfig(t)
	ns := clustertest.Namespace(t)
	clustertest.AppImage(t, clustertest.Good, "1.0.0", "2.0.0", "1.0.1", "2.0.1")
	client := clustertest.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel)

	d, cfg := postgresDeployer(t, kubeconfig, ns)
	t.Cleanup(func() {
		if t.Failed() {
			dumpLogs(t, ns)
		}
	})
	opts := deployer.DeployOptions{Timeout: 3 * time.Minute}
	if err := d.Init(ctx, "1.0.0", opts); err != nil {
		t.Fatalf("init: %v", err)
	}
	if err := d.Deploy(ctx, deployer.Green, "2.0.0", deployer.DeployOptions{Timeout: 3 * time.Minute, NoSwitch: true}); err != nil {
		t.Fatalf("deploy green: %v", err)
	}
	preview := map[string]string{
		"blue":  clustertest.ServiceURL(t, ns, cfg.Release(deployer.Blue)+"-preview"),
		"green": clustertest.ServiceURL(t, ns, cfg.Release(deployer.Green)+"-preview"),
	}
	active := clustertest.ServiceURL(t, ns, cfg.ActiveService)
	clustertest.WaitForStore(t, ctx, preview["blue"])
	clustertest.WaitForStore(t, ctx, preview["green"])

	type answer struct {
		color, version string
		happy          bool
	}
	want := map[string]answer{} // by title
	record := func(predictOn, answerOn, title string, happy bool) {
		t.Helper()
		a, err := clustertest.Predict(ctx, predictOn, title)
		if err != nil {
			t.Fatal(err)
		}
		if err := clustertest.FeedbackRetrying(ctx, answerOn, a.PredictionID, happy); err != nil {
			t.Fatalf("answer to %q: %v", title, err)
		}
		want[title] = answer{a.Color, a.ModelVersion, happy}
	}
	for i := range 6 {
		from, to := "blue", "green"
		if i%2 == 1 {
			from, to = to, from
		}
		record(preview[from], preview[to], fmt.Sprintf("How to sort a map by value %d (asked %s, answered %s)", i, from, to), i%3 != 0)
		record(preview[from], preview[from], fmt.Sprintf("Read a file line by line %d (%s)", i, from), i%2 == 0)
	}
	record(active, active, "Center a div with CSS (active)", true)
	kept, err := clustertest.Predict(ctx, preview["blue"], "Regex to match an email address (answered after everything)")
	if err != nil {
		t.Fatal(err)
	}

	// Redeploy both colors the blue-green way (green takes the traffic,
	// then blue again), then restart the database on its claim.
	if err := d.Deploy(ctx, deployer.Green, "2.0.1", opts); err != nil {
		t.Fatalf("redeploy green: %v", err)
	}
	if err := d.Deploy(ctx, deployer.Blue, "1.0.1", opts); err != nil {
		t.Fatalf("redeploy blue: %v", err)
	}
	if err := client.CoreV1().Pods(ns).Delete(ctx, "remla-postgresql-0", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitStatefulSet(t, ctx, ns)
	clustertest.WaitForStore(t, ctx, preview["green"])
	if err := clustertest.FeedbackRetrying(ctx, preview["green"], kept.PredictionID, true); err != nil {
		t.Fatalf("answer to a prediction of blue 1.0.0, given to green 2.0.1 after both were redeployed: %v", err)
	}
	want["Regex to match an email address (answered after everything)"] = answer{kept.Color, kept.ModelVersion, true}
	if err := clustertest.FeedbackRetrying(ctx, preview["blue"], kept.PredictionID, false); err == nil || !strings.Contains(err.Error(), "409") {
		t.Fatalf("a second answer to the same prediction: %v, want 409", err)
	}

	// Export from the host, through the database Service's ClusterIP.
	pg, err := url.Parse(clustertest.ServiceURL(t, ns, "remla-postgresql"))
	if err != nil {
		t.Fatal(err)
	}
	dsn := fmt.Sprintf("host=%s port=%s user=remla dbname=remla sslmode=disable password=%s", pg.Hostname(), pg.Port(), pgPassword(t, ctx, ns))
	store, err := fb.OpenPostgres(ctx, dsn, true)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	got := map[string]answer{}
	if err := store.Each(ctx, fb.Filter{}, func(r fb.Record) error {
		if _, dup := got[r.Title]; dup {
			t.Errorf("%q stored twice", r.Title)
		}
		got[r.Title] = answer{r.Color, r.ModelVersion, r.Happy}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("%d answers stored, want %d", len(got), len(want))
	}
	for title, w := range want {
		if g, ok := got[title]; !ok || g != w {
			t.Errorf("answer to %q: stored %+v (%v), want %+v", title, g, ok, w)
		}
	}
	out := filepath.Join(t.TempDir(), "green.tsv")
	cmd := exec.CommandContext(ctx, testenv.Binary(t, "remla-train"), "export-feedback", "--dsn", dsn, "--color", "green", "--out", out)
	if b, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(b), "exported") {
		t.Fatalf("remla-train export-feedback --color green: %v\n%s", err, b)
	} else {
		t.Logf("%s", strings.TrimSpace(string(b)))
	}
	t.Logf("%d answers through both colors survived redeploying both and restarting the database", len(got))
}

func waitStatefulSet(t *testing.T, ctx context.Context, ns string) {
	t.Helper()
	client := clustertest.Client(t)
	deadline := time.Now().Add(3 * time.Minute)
	var sts *appsv1.StatefulSet
	for time.Now().Before(deadline) {
		var err error
		sts, err = client.AppsV1().StatefulSets(ns).Get(ctx, "remla-postgresql", metav1.GetOptions{})
		if err == nil && sts.Status.ReadyReplicas == 1 && sts.Status.ObservedGeneration == sts.Generation {
			pod, err := client.CoreV1().Pods(ns).Get(ctx, "remla-postgresql-0", metav1.GetOptions{})
			if err == nil && pod.DeletionTimestamp == nil {
				for _, c := range pod.Status.Conditions {
					if c.Type == "Ready" && c.Status == "True" {
						return
					}
				}
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("the PostgreSQL StatefulSet did not come back: %+v", sts.Status)
}

func pgPassword(t *testing.T, ctx context.Context, ns string) string {
	t.Helper()
	s, err := clustertest.Client(t).CoreV1().Secrets(ns).Get(ctx, "remla-postgresql", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return string(s.Data["password"])
}

// dumpLogs logs the last lines of every container of the namespace.
func dumpLogs(t *testing.T, ns string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := clustertest.Client(t)
	pods, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Logf("list pods: %v", err)
		return
	}
	tail := int64(15)
	for _, p := range pods.Items {
		b, err := client.CoreV1().Pods(ns).GetLogs(p.Name, &corev1.PodLogOptions{TailLines: &tail}).Do(ctx).Raw()
		t.Logf("--- %s (%s) %v\n%s", p.Name, p.Status.Phase, err, b)
	}
}

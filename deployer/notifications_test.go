package deployer

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/remla/tagger/deployer/notify"
)

// TestCommitNotifies: a write's records reach each receiver once, in the
// generic and the Slack format, with URLs from a file and from a Secret.
func TestCommitNotifies(t *testing.T) {
	type post struct {
		path string
		body []byte
	}
	got := make(chan post, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- post{r.URL.Path, b}
	}))
	defer srv.Close()
	urlFile := filepath.Join(t.TempDir(), "url")
	os.WriteFile(urlFile, []byte(srv.URL+"/generic\n"), 0o600)

	one := int32(1)
	cs := fake.NewClientset(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ns"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "remla-notify", Namespace: "ns"}, Data: map[string][]byte{"slack": []byte(srv.URL + "/slack")}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "remla", Namespace: "ns"},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "remla", "color": "blue"}}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "remla-green", Namespace: "ns"},
			Spec:   appsv1.DeploymentSpec{Replicas: &one, Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"version": "2.0.0"}}}},
			Status: appsv1.DeploymentStatus{ReadyReplicas: 1}},
	)
	cfg := DefaultConfig()
	cfg.Notify = notify.Config{Receivers: []notify.ReceiverConfig{
		{Name: "ops", Type: notify.TypeWebhook, URLFile: urlFile},
		{Name: "chat", Type: notify.TypeSlack, URLSecret: &notify.SecretKey{Name: "remla-notify", Key: "slack"}},
	}}
	d, err := New(Options{Client: cs, Namespace: "ns", Config: cfg, Identity: "operator:test", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Switch(context.Background(), Green, SwitchOptions{Reason: "try green"}); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	close(got)
	byPath := map[string][]byte{}
	for p := range got {
		if _, dup := byPath[p.path]; dup {
			t.Errorf("%s posted twice", p.path)
		}
		byPath[p.path] = p.body
	}
	var generic notify.Payload
	if err := json.Unmarshal(byPath["/generic"], &generic); err != nil {
		t.Fatalf("generic body %q: %v", byPath["/generic"], err)
	}
	e := generic.Event
	if e.Kind != "Switched" || e.Namespace != "ns" || e.App != "remla" || e.From != "blue" || e.To != "green" || e.Version != "2.0.0" ||
		e.By != "operator:test" || e.Reason != "try green" || e.Severity != notify.SeverityInfo || e.Message == "" {
		t.Errorf("generic event %+v", e)
	}
	var slack notify.SlackMessage
	if err := json.Unmarshal(byPath["/slack"], &slack); err != nil || len(slack.Attachments) != 1 {
		t.Errorf("slack body %q: %v", byPath["/slack"], err)
	}
	if c := d.NotificationCounts(); c["ops"].Sent != 1 || c["chat"].Sent != 1 {
		t.Errorf("counts %+v", c)
	}
}

func TestNotifyConfigInRemlaYAML(t *testing.T) {
	c, err := ParseConfig([]byte("notify:\n  timeout: 2s\n  receivers:\n    - {name: ops, type: webhook, urlFile: /etc/remla/url}\n"))
	if err != nil || c.Notify.Timeout.Duration.Seconds() != 2 || len(c.Notify.Receivers) != 1 {
		t.Fatalf("%+v %v", c.Notify, err)
	}
	if _, err := ParseConfig([]byte("notify:\n  receivers:\n    - {name: ops, type: webhook}\n")); err == nil {
		t.Error("a receiver without a URL source must be refused")
	}
}

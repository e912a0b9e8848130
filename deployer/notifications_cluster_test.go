package deployer

// Notifications from real operations: a local receiver gets every record
// of init and deploy, in order, in the generic format; a dead receiver and
// a slow one beside it neither fail nor hold up the deploy.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/remla/tagger/deployer/notify"
	"github.com/remla/tagger/test/clustertest"
)

func TestNotificationsFromDeploy(t *testing.T) {
	t.Parallel()
	ns := clustertest.Namespace(t)
	var mu sync.Mutex
	var got []notify.Event
	good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p notify.Payload
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			t.Errorf("receiver: %v", err)
		}
		mu.Lock()
		got = append(got, p.Event)
		mu.Unlock()
	}))
	defer good.Close()
	// slow holds every post until the test releases it, after the deploy.
	release, held := make(chan struct{}), make(chan struct{}, 16)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		held <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	defer slow.Close()
	defer unblock()
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()

	dir := t.TempDir()
	for name, u := range map[string]string{"good": good.URL + "/hook", "dead": deadURL + "/hook"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(u), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cs := clustertest.Client(t)
	if _, err := cs.CoreV1().Secrets(ns).Create(context.Background(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "remla-notify"},
		StringData: map[string]string{"slack-url": slow.URL + "/services/T/B/x"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	d := newTestDeployer(t, ns, "operator:ana")
	d.cfg.Notify = notify.Config{Timeout: metav1.Duration{Duration: time.Minute}, Receivers: []notify.ReceiverConfig{
		{Name: "good", Type: notify.TypeWebhook, URLFile: filepath.Join(dir, "good")},
		{Name: "dead", Type: notify.TypeWebhook, URLFile: filepath.Join(dir, "dead")},
		{Name: "slow", Type: notify.TypeSlack, URLSecret: &notify.SecretKey{Name: "remla-notify", Key: "slack-url"}},
	}}
	var err error
	if d.notifier, err = d.newNotifier(); err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	if err := d.Init(ctx, "1.0.0", quick); err != nil {
		t.Fatal(err)
	}
	<-held // the slow receiver holds init's first post from here on
	if err := d.Deploy(ctx, Green, "2.0.0", quick); err != nil {
		t.Fatalf("deploy with a dead and a held receiver: %v", err)
	}
	// The deploy returned while the slow receiver still held its first
	// post: it did not wait for it.
	select {
	case <-release:
		t.Fatal("released early")
	default:
	}
	if st := mustStatus(t, d); st.Active != Green {
		t.Fatalf("active %s after the deploy, want green", st.Active)
	}
	cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() {
		// Let the slow receiver answer once Close is draining.
		time.Sleep(100 * time.Millisecond)
		unblock()
	}()
	if err := d.Close(cctx); err != nil {
		t.Fatalf("close: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	var kinds []string
	for _, e := range got {
		kinds = append(kinds, e.Kind)
		if e.Namespace != ns || e.App != "remla" || e.Message == "" || e.Time.IsZero() {
			t.Errorf("event %+v: want namespace, app, message and time", e)
		}
	}
	want := []string{"Deployed", "Switched", "Promoted", "Deployed", "Switched"}
	if !slices.Equal(kinds, want) {
		t.Errorf("the good receiver got %v, want %v", kinds, want)
	}
	c := d.NotificationCounts()
	if c["good"].Sent != 5 || c["dead"].Failed != 5 || c["dead"].Sent != 0 || c["slow"].Sent != 5 {
		t.Errorf("counts %+v: want good 5 sent, dead 5 failed, slow 5 sent once released", c)
	}
}

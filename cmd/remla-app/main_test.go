package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/remla/tagger/feedback"
	"github.com/remla/tagger/test/testenv"
)

// These tests run the real remla-app binary (testenv.Binary) on the real
// model (testenv.Model).

func TestMain(m *testing.M) { testenv.Main(m) }

// appProcess is a remla-app process that has said where it listens.
type appProcess struct {
	*testenv.Process
	base string
}

// start runs the binary with args and env (on top of the test's) and waits
// until it listens.
func start(t *testing.T, args []string, env []string) *appProcess {
	t.Helper()
	cmd := exec.Command(testenv.Binary(t, "remla-app"), args...)
	cmd.Env = append(os.Environ(), env...)
	return listening(t, testenv.Start(t, "remla-app", cmd))
}

// listening waits for the "listening" line of p's JSON log and returns p
// with the address the line names.
func listening(t *testing.T, p *testenv.Process) *appProcess {
	t.Helper()
	a := &appProcess{Process: p}
	testenv.WaitFor(t, p.Name+` to log "listening"`, 30*time.Second, 50*time.Millisecond, []*testenv.Process{p}, func() (bool, error) {
		sc := bufio.NewScanner(strings.NewReader(p.Logs()))
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
				a.base = "http://" + line.Addr
				return true, nil
			}
		}
		return false, nil
	})
	return a
}

func post(t *testing.T, url, body string) (int, map[string]any) {
	t.Helper()
	res, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func predict(t *testing.T, base, title string) string {
	t.Helper()
	code, out := post(t, base+"/api/v1/predict", fmt.Sprintf(`{"title": %q}`, title))
	id, _ := out["prediction_id"].(string)
	if code != http.StatusOK || id == "" {
		t.Fatalf("predict: %d %v", code, out)
	}
	return id
}

func answer(t *testing.T, base, id string, happy bool) {
	t.Helper()
	if code, out := post(t, base+"/api/v1/feedback", fmt.Sprintf(`{"prediction_id": %q, "happy": %v}`, id, happy)); code != http.StatusCreated {
		t.Fatalf("feedback: %d %v", code, out)
	}
}

// stored reads the answers in the SQLite file db, by title.
func stored(t *testing.T, db string) map[string]bool {
	t.Helper()
	s, err := feedback.OpenSQLite(context.Background(), db) // read-write, so a crashed writer's log is recovered
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out := map[string]bool{}
	if err := s.Each(context.Background(), feedback.Filter{}, func(r feedback.Record) error { out[r.Title] = r.Happy; return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestGracefulShutdownAndRestart sends SIGTERM while a request is in
// flight: the request must still be answered, new connections refused, the
// process must exit 0, and after a restart (configured by environment
// variables only) every acknowledged feedback must still be there.
func TestGracefulShutdownAndRestart(t *testing.T) {
	modelPath := testenv.Model(t)
	db := filepath.Join(t.TempDir(), "state", "feedback.db")
	p := start(t, []string{"-model", modelPath, "-addr", "127.0.0.1:0", "-color", "green", "-feedback-db", db, "-log-format", "json"}, nil)

	want := map[string]bool{}
	var unanswered string // predicted before the restart, answered after it
	for i, title := range []string{"How to parse JSON in Python", "Java NullPointerException in a loop", "Center a div with CSS"} {
		id := predict(t, p.base, title)
		if i < 2 {
			answer(t, p.base, id, i == 0)
			want[title] = i == 0
		} else {
			unanswered = id
		}
	}
	// With SQLite and no key given, the signing key was generated beside
	// the database, for the owner only, and is reused after the restart.
	if fi, err := os.Stat(filepath.Join(filepath.Dir(db), "signing.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("signing.key beside the database: %v %v; want a 0600 file", fi, err)
	}

	// A request in flight: headers and half the body sent, the rest later.
	conn, err := net.Dial("tcp", strings.TrimPrefix(p.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A first full request on the connection makes sure the server has
	// accepted it; the second one is then read as soon as it arrives.
	br := bufio.NewReader(conn)
	fmt.Fprint(conn, "GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
	if res, err := http.ReadResponse(br, nil); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("first request on the connection: %v", err)
	} else {
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	body := `{"title": "Segmentation fault with std::vector in C++"}`
	fmt.Fprintf(conn, "POST /api/v1/predict HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:10])
	time.Sleep(time.Second)

	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The listener closes at once, while the process waits for the request.
	refused := false
	for range 50 {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(p.base, "http://"), time.Second)
		if err != nil {
			refused = true
			break
		}
		c.Close()
		time.Sleep(20 * time.Millisecond)
	}
	if !refused {
		t.Fatal("new connections are still accepted after SIGTERM")
	}
	select {
	case <-p.Done():
		t.Fatalf("remla-app exited with a request still in flight:\n%s", p.Logs())
	default:
	}

	if _, err := io.WriteString(conn, body[10:]); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("the in-flight request got no answer: %v\n%s", err, p.Logs())
	}
	rb, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !strings.Contains(string(rb), `"c++"`) {
		t.Fatalf("in-flight request: %d %s", res.StatusCode, rb)
	}
	if code := p.Wait(t, 30*time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0:\n%s", code, p.Logs())
	}
	if !strings.Contains(p.Logs(), "stopped cleanly") {
		t.Fatalf("no clean-stop log line:\n%s", p.Logs())
	}
	if _, err := os.Stat(db + "-wal"); err == nil {
		if fi, _ := os.Stat(db + "-wal"); fi.Size() != 0 {
			t.Errorf("the write-ahead log still holds %d bytes after a clean stop; Close should fold it into the database", fi.Size())
		}
	}

	// Restart from the environment alone.
	p2 := start(t, nil, []string{"REMLA_MODEL=" + modelPath, "REMLA_ADDR=127.0.0.1:0", "REMLA_COLOR=blue", "REMLA_FEEDBACK_DB=" + db, "REMLA_LOG_FORMAT=json"})
	if code, body := get(t, p2.base+"/version"); code != http.StatusOK || !strings.Contains(body, `"color":"blue"`) {
		t.Fatalf("/version after restart: %d %s", code, body)
	}
	if code, body := get(t, p2.base+"/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz after restart: %d %s", code, body)
	}
	got := stored(t, db)
	if len(got) != len(want) {
		t.Fatalf("after restart the store holds %v, want %v", got, want)
	}
	for id, happy := range want {
		if h, ok := got[id]; !ok || h != happy {
			t.Fatalf("after restart the store holds %v, want %v", got, want)
		}
	}
	// The restarted server (now blue) takes the answer to a prediction the
	// green process made before it stopped, into the same file, once.
	answer(t, p2.base, unanswered, true)
	if got := stored(t, db); len(got) != len(want)+1 || !got["Center a div with CSS"] {
		t.Fatalf("after answering the pre-restart prediction the store holds %v", got)
	}
	if code, out := post(t, p2.base+"/api/v1/feedback", fmt.Sprintf(`{"prediction_id": %q, "happy": false}`, unanswered)); code != http.StatusConflict {
		t.Fatalf("second answer after the restart: %d %v, want 409", code, out)
	}
	p2.Signal(syscall.SIGINT)
	if code := p2.Wait(t, 30*time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGINT, want 0:\n%s", code, p2.Logs())
	}
}

// TestKillLosesNothingAcknowledged kills the server with SIGKILL right
// after the last acknowledged feedback: every 201 must be on disk.
func TestKillLosesNothingAcknowledged(t *testing.T) {
	modelPath := testenv.Model(t)
	db := filepath.Join(t.TempDir(), "feedback.db")
	p := start(t, []string{"-model", modelPath, "-addr", "127.0.0.1:0", "-feedback-db", db, "-log-format", "json"}, nil)
	want := map[string]bool{}
	for i := range 25 {
		title := fmt.Sprintf("How to sort a list %d times in Python", i)
		answer(t, p.base, predict(t, p.base, title), i%3 == 0)
		want[title] = i%3 == 0
	}
	if err := p.Signal(os.Kill); err != nil {
		t.Fatal(err)
	}
	p.Wait(t, 30*time.Second)
	got := stored(t, db)
	if len(got) != len(want) {
		t.Fatalf("%d of %d acknowledged answers survived SIGKILL", len(got), len(want))
	}
	for title, happy := range want {
		if got[title] != happy {
			t.Fatalf("answer to %q: stored happy=%v, want %v", title, got[title], happy)
		}
	}
}

// TestBadStart checks that the binary refuses bad settings with exit code 1
// and a message saying what to do.
func TestBadStart(t *testing.T) {
	modelPath := testenv.Model(t)
	dir := t.TempDir()
	notModel := filepath.Join(dir, "not.model")
	os.WriteFile(notModel, []byte("nope"), 0o644)
	for _, tt := range []struct {
		name string
		args []string
		says string
	}{
		{"missing model", []string{"-model", filepath.Join(dir, "none.model")}, "make train"},
		{"corrupt model", []string{"-model", notModel}, "load model"},
		{"bad color", []string{"-model", modelPath, "-color", "Not A Color"}, "-color"},
		{"bad address", []string{"-model", modelPath, "-addr", "127.0.0.1:99999"}, "-addr"},
		{"stray argument", []string{"-model", modelPath, "serve"}, "unexpected argument"},
		{"unknown flag", []string{"-port", "80"}, "flag provided but not defined"},
		{"short retention", []string{"-model", modelPath, "-feedback-retention", "1m"}, "at least 1h"},
		{"no burst", []string{"-model", modelPath, "-rate-limit-predict-burst", "0"}, "bursts 1 or more"},
		{"bad proxy", []string{"-model", modelPath, "-trusted-proxies", "not-an-ip"}, "trusted proxies"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// Defaults first: a later flag wins, and a stray argument stays last.
			args := append([]string{"-feedback-db", filepath.Join(dir, "feedback.db"), "-addr", "127.0.0.1:0"}, tt.args...)
			cmd := exec.Command(testenv.Binary(t, "remla-app"), args...)
			out, err := cmd.CombinedOutput()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() == 0 || !strings.Contains(string(out), tt.says) {
				t.Fatalf("err %v, output %q; want a failure saying %q", err, out, tt.says)
			}
		})
	}
}

// TestRateLimitFlags: with loopback limited, the third prediction in a
// burst of two is refused with 429 and Retry-After.
func TestRateLimitFlags(t *testing.T) {
	p := start(t, []string{"-model", testenv.Model(t), "-addr", "127.0.0.1:0", "-feedback-db", filepath.Join(t.TempDir(), "fb.db"),
		"-log-format", "json", "-rate-limit-loopback", "-rate-limit-predict", "0.1", "-rate-limit-predict-burst", "2"}, nil)
	for i := range 3 {
		res, err := http.Post(p.base+"/api/v1/predict", "application/json", strings.NewReader(`{"title": "How to parse JSON"}`))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		want := http.StatusOK
		if i == 2 {
			want = http.StatusTooManyRequests
		}
		if res.StatusCode != want || (i == 2 && res.Header.Get("Retry-After") == "") {
			t.Fatalf("prediction %d: %d Retry-After %q, want %d", i+1, res.StatusCode, res.Header.Get("Retry-After"), want)
		}
	}
}

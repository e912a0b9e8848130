package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/remla/tagger/feedback"
	"github.com/remla/tagger/test/testenv"
)

// These tests run real remla-app processes on a real PostgreSQL server
// (testenv.Postgres), as replicas of two colors would share it.

func keyFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "signing.key")
	if err := os.WriteFile(p, []byte("# shared by every replica\nk8p1c3G9qVb0Y2x7dZ4wR6sT1uA5nM8eL3jH0fK2gQ4=\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func startReplica(t *testing.T, dsn, key, color string) *appProcess {
	t.Helper()
	return start(t, []string{"-model", testenv.Model(t), "-addr", "127.0.0.1:0", "-color", color, "-log-format", "json"},
		[]string{"REMLA_FEEDBACK_DSN=" + dsn, "REMLA_SIGNING_KEY_FILE=" + key})
}

func pgRecords(t *testing.T, dsn string) []feedback.Record {
	t.Helper()
	s, err := feedback.OpenPostgres(context.Background(), dsn, true)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var out []feedback.Record
	if err := s.Each(context.Background(), feedback.Filter{}, func(r feedback.Record) error { out = append(out, r); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestReplicasSharePostgres: blue predicts, green takes the answer (201),
// blue refuses a second (409); after blue restarts, its answer to a
// prediction made before the restart is taken too. Every record names the
// release that predicted.
func TestReplicasSharePostgres(t *testing.T) {
	pg := testenv.Postgres(t)
	dsn, key := pg.DSN("remla"), keyFile(t)
	blue, green := startReplica(t, dsn, key, "blue"), startReplica(t, dsn, key, "green")

	id := predict(t, blue.base, "How to parse JSON in Python")
	answer(t, green.base, id, true) // fails the test unless 201
	if code, out := post(t, blue.base+"/api/v1/feedback", fmt.Sprintf(`{"prediction_id": %q, "happy": false}`, id)); code != http.StatusConflict {
		t.Fatalf("second answer on the other replica: %d %v, want 409", code, out)
	}
	before := predict(t, blue.base, "Java NullPointerException in a loop")
	blue.Signal(os.Interrupt)
	if code := blue.Wait(t, 30*time.Second); code != 0 {
		t.Fatalf("blue exit code %d", code)
	}
	blue = startReplica(t, dsn, key, "blue")
	answer(t, blue.base, before, false)

	got := pgRecords(t, dsn)
	if len(got) != 2 {
		t.Fatalf("%d records, want 2", len(got))
	}
	for _, r := range got {
		if r.Color != "blue" || r.ModelVersion == "" || r.PredictedAt.IsZero() || r.PredictedAt.After(r.CreatedAt) {
			t.Fatalf("record %+v; want blue's prediction with its model version and time", r)
		}
	}
	if got[0].Title != "How to parse JSON in Python" || !got[0].Happy || got[1].Happy {
		t.Fatalf("records %+v", got)
	}
}

// TestPostgresOutageKeepsPredicting stops the database under two running
// replicas: predictions go on, answers get 503 with Retry-After and are not
// stored, readiness stays up and reports the store; when the database is
// back, the same answer is taken.
func TestPostgresOutageKeepsPredicting(t *testing.T) {
	pg := testenv.Postgres(t)
	dsn, key := pg.DSN("remla"), keyFile(t)
	p := startReplica(t, dsn, key, "blue")
	id := predict(t, p.base, "Center a div with CSS")
	pg.Stop(t)

	if got := predict(t, p.base, "Regex to match an email address"); got == "" {
		t.Fatal("no prediction with the database down")
	}
	req, _ := http.NewRequest(http.MethodPost, p.base+"/api/v1/feedback", strings.NewReader(fmt.Sprintf(`{"prediction_id": %q, "happy": true}`, id)))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Fatalf("answer with the database down: %d, Retry-After %q; want 503 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"))
	}
	code, body := get(t, p.base+"/readyz")
	if code != http.StatusOK || !strings.Contains(body, `"feedback_store":"unavailable`) {
		t.Fatalf("readyz with the database down: %d %s; want 200 reporting the store", code, body)
	}

	pg.Start(t)
	answer(t, p.base, id, true)
	if got := pgRecords(t, dsn); len(got) != 1 || got[0].Title != "Center a div with CSS" {
		t.Fatalf("after the outage the store holds %+v; want the one answer, once", got)
	}
}

// TestStartsBeforeDatabase: a replica whose database is not up yet starts
// and predicts; it migrates and takes answers once the database comes.
func TestStartsBeforeDatabase(t *testing.T) {
	pg := testenv.Postgres(t)
	pg.Stop(t)
	p := startReplica(t, pg.DSN("remla"), keyFile(t), "green")
	if !strings.Contains(p.Logs(), "not reachable yet") {
		t.Fatalf("no warning about the missing database:\n%s", p.Logs())
	}
	id := predict(t, p.base, "How to parse JSON in Python")
	pg.Start(t)
	answer(t, p.base, id, true)
}

// TestRefusesStoreSettings: a schema from a newer release, and a shared
// store without a shared key, stop the start with what to do.
func TestRefusesStoreSettings(t *testing.T) {
	pg := testenv.Postgres(t)
	dsn := pg.DSN("remla")
	s, err := feedback.OpenPostgres(context.Background(), dsn, false)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	psql := filepath.Join(testenv.PostgresBinDir(t), "psql")
	if b, err := exec.Command(psql, "-X", "-q", "-d", dsn, "-c", "INSERT INTO remla_schema_version (version, name) VALUES (99, 'future')").CombinedOutput(); err != nil {
		t.Fatalf("psql: %v %s", err, b)
	}
	for _, tt := range []struct {
		name string
		env  []string
		says string
	}{
		{"newer schema", []string{"REMLA_FEEDBACK_DSN=" + dsn, "REMLA_SIGNING_KEY_FILE=" + keyFile(t)}, "schema version 99"},
		{"no shared key", []string{"REMLA_FEEDBACK_DSN=" + dsn}, "-signing-key-file"},
		{"short key", []string{"REMLA_FEEDBACK_DSN=" + dsn, "REMLA_SIGNING_KEY=short"}, "at least 32"},
		{"bad DSN", []string{"REMLA_FEEDBACK_DSN=postgres://u:hunter2@[::1", "REMLA_SIGNING_KEY_FILE=" + keyFile(t)}, "bad PostgreSQL DSN"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(testenv.Binary(t, "remla-app"), "-model", testenv.Model(t), "-addr", "127.0.0.1:0")
			cmd.Env = append(os.Environ(), tt.env...)
			done := make(chan struct{})
			var out []byte
			var err error
			go func() { out, err = cmd.CombinedOutput(); close(done) }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				t.Fatal("remla-app did not refuse to start")
			}
			if err == nil || !strings.Contains(string(out), tt.says) || strings.Contains(string(out), "hunter2") {
				t.Fatalf("err %v, output %q; want a failure saying %q (and no password)", err, out, tt.says)
			}
		})
	}
}

package alert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/remla/tagger/deployer"
)

// BenchmarkWebhookRollback measures the actor's own work for a notification
// that causes a rollback (token check, parse, decide), with the cluster
// replaced by the in-memory fake; the e2e log gives the time with the real
// API server.
func BenchmarkWebhookRollback(b *testing.B) {
	f := greenBad()
	s := NewServer(f, Options{Token: testToken, Logger: quietLogger()})
	var m Message
	raw, err := readFixture("firing.json")
	if err != nil {
		b.Fatal(err)
	}
	json.Unmarshal(raw, &m)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.Alerts[0].Fingerprint = fmt.Sprintf("%016x", i)
		body, _ := json.Marshal(m)
		f.mu.Lock()
		f.st.Active, f.st.LastGood, f.st.History = deployer.Green, deployer.Blue, nil
		f.mu.Unlock()
		req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testToken)
		rr := httptest.NewRecorder()
		s.ServeHTTP(rr, req)
		if rr.Code != 200 {
			b.Fatalf("%d %s", rr.Code, rr.Body)
		}
	}
}

// BenchmarkWebhookRepeat measures a repeat of a handled incident (the
// in-memory seen-set answers without reading the cluster).
func BenchmarkWebhookRepeat(b *testing.B) {
	f := greenBad()
	s := NewServer(f, Options{Token: testToken, Logger: quietLogger()})
	body, err := readFixture("firing.json")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testToken)
		rr := httptest.NewRecorder()
		s.ServeHTTP(rr, req)
		if rr.Code != 200 {
			b.Fatalf("%d %s", rr.Code, rr.Body)
		}
	}
}

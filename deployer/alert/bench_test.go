package alert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkWebhookRollback measures the actor's handling of a notification
// that causes a rollback (token check, parse, scope, the deployer's
// decision and its write) with the cluster faked in memory (client-go's
// fake clientset): the actor's and the decision's own cost. Each iteration
// is a new incident on a fresh fake cluster (not timed).
// BenchmarkRealRollback (cluster_test.go) is the same with the API server.
func BenchmarkWebhookRollback(b *testing.B) {
	var m Message
	raw, err := readFixture("firing.json")
	if err != nil {
		b.Fatal(err)
	}
	json.Unmarshal(raw, &m)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		f := greenBad(b, "remla")
		s := newTestServer(b, Options{Token: testToken}, f)
		m.Alerts[0].Fingerprint = fmt.Sprintf("%016x", i)
		body, _ := json.Marshal(m)
		req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testToken)
		rr := httptest.NewRecorder()
		b.StartTimer()
		s.ServeHTTP(rr, req)
		if rr.Code != 200 {
			b.Fatalf("%d %s", rr.Code, rr.Body)
		}
	}
}

// BenchmarkWebhookRepeat measures a repeat of a handled incident (the
// in-memory seen-set answers without reading the cluster).
func BenchmarkWebhookRepeat(b *testing.B) {
	s := newTestServer(b, Options{Token: testToken}, greenBad(b, "remla"))
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

package notify

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func static(u string) URLSource { return func(context.Context) (string, error) { return u, nil } }

var sample = Event{Kind: "RolledBack", Severity: SeverityWarning, Time: time.Date(2026, 12, 2, 11, 0, 0, 0, time.UTC),
	Namespace: "remla", App: "remla", Color: "blue", Version: "1.0.0", Standing: "stable", From: "green", To: "blue",
	Reason: "HighErrorRate", By: "alert:HighErrorRate", Incident: "abc@2026-12-02T10:59:00Z",
	Message: "traffic moved from green to blue (1.0.0): HighErrorRate; by alert:HighErrorRate"}

func TestWebhookPostsPayload(t *testing.T) {
	var got Payload
	var ctype string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctype = r.Header.Get("Content-Type")
		if err := json.NewDecoder(r.Body).Decode(&got); err != nil {
			t.Error(err)
		}
	}))
	defer srv.Close()
	w := NewWebhook("ops", static(srv.URL+"/hook"), nil, srv.Client(), "remlactl")
	if err := w.Send(context.Background(), sample); err != nil {
		t.Fatal(err)
	}
	if ctype != "application/json" || got.Version != PayloadVersion || got.Source != "remlactl" || !got.Event.Time.Equal(sample.Time) {
		t.Fatalf("payload %+v, content type %q", got, ctype)
	}
	got.Event.Time = sample.Time
	if got.Event.Kind != sample.Kind || got.Event.Incident != sample.Incident || got.Event.Message != sample.Message {
		t.Errorf("event %+v, want %+v", got.Event, sample)
	}
}

func TestWebhookErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		http.Error(w, "quota exceeded", http.StatusTooManyRequests)
	}))
	defer srv.Close()
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL + "/T000/B000/secret-token"
	dead.Close()
	for _, tc := range []struct {
		name, url string
		want      []string
		notWant   string
	}{
		{"non-2xx", srv.URL, []string{"receiver ops", "429", "quota exceeded"}, ""},
		{"refused", deadURL, []string{"receiver ops: post to 127.0.0.1", "connection refused"}, "secret-token"},
		{"not http", "ftp://example.com/x", []string{"not an http(s) URL"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := NewWebhook("ops", static(tc.url), nil, nil, "t").Send(context.Background(), sample)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%v: want %q in it", err, w)
				}
			}
			if tc.notWant != "" && strings.Contains(err.Error(), tc.notWant) {
				t.Errorf("%v: the URL's path (a credential) leaks", err)
			}
		})
	}
}

func TestWants(t *testing.T) {
	w := NewWebhook("ops", static("http://x"), []string{"RolledBack"}, nil, "t")
	if !w.Wants("RolledBack") || w.Wants("Deployed") {
		t.Error("events filter not applied")
	}
	if all := NewWebhook("all", static("http://x"), nil, nil, "t"); !all.Wants("Deployed") {
		t.Error("no filter must take every kind")
	}
}

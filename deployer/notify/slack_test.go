package notify

import (
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestSlackFormat compares the message with testdata/slack.golden.json
// (go test ./deployer/notify -update rewrites it).
func TestSlackFormat(t *testing.T) {
	e := sample
	e.Reason = "<script> & more"
	e.Details = map[string]string{"f1Weighted": "0.41 < 0.43"}
	got, err := json.MarshalIndent(SlackFormat(e), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	const golden = "testdata/slack.golden.json"
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != string(got)+"\n" {
		t.Errorf("slack message:\n%s\nwant (%s):\n%s", got, golden, want)
	}
}

func TestSlackPosts(t *testing.T) {
	var got SlackMessage
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewDecoder(r.Body).Decode(&got)
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	if err := NewSlack("chat", static(srv.URL), nil, nil).Send(context.Background(), sample); err != nil {
		t.Fatal(err)
	}
	if len(got.Attachments) != 1 || got.Attachments[0].Color != "danger" || got.Text == "" {
		t.Errorf("slack body %+v", got)
	}
}

package notify

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/remla/tagger/test/testenv"
)

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
	testenv.Golden(t, "testdata/slack.golden.json", append(got, '\n'))
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

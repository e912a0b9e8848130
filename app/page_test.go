package app

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/remla/tagger/feedback"
)

// postForm posts a form without following the redirect and returns the
// status, the Location header and the body.
func postForm(t *testing.T, target string, form url.Values) (int, string, string) {
	t.Helper()
	res, err := noRedirect.PostForm(target, form)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, res.Header.Get("Location"), responseBody(t, res)
}

// TestPageWithoutJavaScript walks the page's plain-HTML flow: post a
// title, follow the redirect, see the tags, answer with per-tag marks and a
// missing tag, see the thanks; and every error shown inline.
func TestPageWithoutJavaScript(t *testing.T) {
	ts := startServer(t, newFake())

	code, body := do(t, http.MethodGet, ts.URL+"/", "", "")
	for _, want := range []string{`<label for="title">Question title</label>`, `action="/"`, "fake-1", "slot-green", `lang="en"`} {
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Fatalf("GET /: %d, missing %q", code, want)
		}
	}

	code, loc, _ := postForm(t, ts.URL+"/", url.Values{"title": {"php sql"}})
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/?p=") {
		t.Fatalf("POST /: %d Location %q; want 303 to /?p=<id>", code, loc)
	}
	id := strings.TrimPrefix(loc, "/?p=")
	code, body = do(t, http.MethodGet, ts.URL+loc, "", "")
	for _, want := range []string{`<span class="tag-name">php</span>`, "90%", `<span class="tag-name">sql</span>`, "60%",
		"Are you happy with these tags?", `name="tag:php" value="wrong"`, `value="` + id + `"`, `name="missing" value="python"`} {
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Fatalf("result page: %d, missing %q", code, want)
		}
	}

	// An answer with no verdict is refused inline, keeping the marks.
	code, _, body = postForm(t, ts.URL+"/feedback", url.Values{"prediction_id": {id}, "tag:sql": {"wrong"}, "missing": {"python"}})
	if code != http.StatusBadRequest || !strings.Contains(body, "Press Yes or No") ||
		!strings.Contains(body, `name="tag:sql" value="wrong" checked`) || !strings.Contains(body, `value="python" checked`) {
		t.Fatalf("feedback without verdict: %d; want 400 with the error inline and marks kept", code)
	}

	code, loc, _ = postForm(t, ts.URL+"/feedback", url.Values{
		"prediction_id": {id}, "happy": {"no"}, "tag:php": {"right"}, "tag:sql": {"wrong"}, "missing": {"python"},
	})
	if code != http.StatusSeeOther || loc != "/?p="+id {
		t.Fatalf("POST /feedback: %d %q", code, loc)
	}
	_, body = do(t, http.MethodGet, ts.URL+loc, "", "")
	if !strings.Contains(body, "Thanks! Your feedback was recorded.") || !strings.Contains(body, `id="feedback-form" method="post" action="/feedback" hidden`) {
		t.Fatal("after feedback the page does not thank the user and hide the form")
	}
	var stored string
	ts.store.Each(t.Context(), feedback.Filter{}, func(r feedback.Record) error {
		stored = fmt.Sprint(r.Happy, r.CorrectTags, r.WrongTags, r.MissingTags)
		return nil
	})
	if stored != "false [php] [sql] [python]" {
		t.Fatalf("stored %q", stored)
	}

	long := strings.Repeat("x", MaxTitleRunes+1)
	for _, tt := range []struct {
		name, path string
		form       url.Values
		raw        string
		status     int
		says       string
	}{
		{"empty title", "/", url.Values{"title": {"   "}}, "", 400, "the title is empty"},
		{"long title", "/", url.Values{"title": {long}}, "", 400, "1001 characters"},
		{"invalid UTF-8", "/", nil, "title=caf%E9", 400, "not valid UTF-8"},
		{"body over 64 KiB", "/", nil, "title=" + strings.Repeat("a", 70<<10), 413, "64 KiB"},
		{"feedback twice", "/feedback", url.Values{"prediction_id": {id}, "happy": {"yes"}}, "", 409, "already recorded"},
		{"feedback, made-up prediction", "/feedback", url.Values{"prediction_id": {"NOPE"}, "happy": {"yes"}}, "", 400, "not one this service issued"},
		{"feedback, unknown missing tag", "/feedback", url.Values{"prediction_id": {predictID(t, ts.URL, "go sort")}, "happy": {"no"}, "missing": {"cobol"}}, "", 400, "not a tag this model knows"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.raw
			if tt.form != nil {
				body = tt.form.Encode()
			}
			code, page := do(t, http.MethodPost, ts.URL+tt.path, "application/x-www-form-urlencoded", body)
			if code != tt.status || !strings.Contains(page, tt.says) || !strings.Contains(page, `class="error" role="alert"`) && !strings.Contains(page, `class="notice card"`) {
				t.Fatalf("status %d, want %d with %q inline", code, tt.status, tt.says)
			}
			if !strings.Contains(page, "<!doctype html>") {
				t.Fatal("the error is not shown on the page")
			}
		})
	}

	// A link to a prediction that was never made, and an unknown page.
	if code, body := do(t, http.MethodGet, ts.URL+"/?p=GONE", "", ""); code != http.StatusNotFound || !strings.Contains(body, "link is not valid") {
		t.Fatalf("GET /?p=GONE: %d", code)
	}
	if code, body := do(t, http.MethodGet, ts.URL+"/nope", "", ""); code != http.StatusNotFound || !strings.Contains(body, "Page not found") {
		t.Fatalf("GET /nope: %d", code)
	}
	if code, _ := do(t, http.MethodGet, ts.URL+"/static/", "", ""); code != http.StatusNotFound {
		t.Fatalf("GET /static/ lists the directory: %d", code)
	}
	if code, body := do(t, http.MethodGet, ts.URL+"/static/app.js", "", ""); code != http.StatusOK || !strings.Contains(body, "/api/v1/predict") {
		t.Fatalf("GET /static/app.js: %d", code)
	}
}

// TestPageEscapesTitles makes sure a title is text, never markup.
func TestPageEscapesTitles(t *testing.T) {
	ts := startServer(t, newFake())
	_, loc, _ := postForm(t, ts.URL+"/", url.Values{"title": {`<script>alert(1)</script>`}})
	_, body := do(t, http.MethodGet, ts.URL+loc, "", "")
	if strings.Contains(body, "<script>alert(1)") || !strings.Contains(body, "&lt;script&gt;alert(1)") {
		t.Fatal("the title is not escaped on the page")
	}
}

package app

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/remla/tagger/test/testenv"
)

// TestJSONAPIRequiresJSON: what a page on another site can send without a
// preflight (text/plain, a form encoding, no type) gets 415 on every JSON
// route, and nothing is predicted or stored.
func TestJSONAPIRequiresJSON(t *testing.T) {
	ts := startServer(t, newFake())
	id := predictID(t, ts.URL, "php sql")
	evil := map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
	for _, path := range []string{"/api/v1/predict", "/predict", "/api/v1/feedback"} {
		body := `{"title": "php sql"}`
		if strings.HasSuffix(path, "feedback") {
			body = `{"prediction_id": "` + id + `", "happy": false}`
		}
		for _, ct := range []string{"text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""} {
			code, out := send(t, http.MethodPost, ts.URL+path, ct, body, evil)
			if code != http.StatusUnsupportedMediaType || !strings.Contains(out, "Content-Type: application/json") {
				t.Errorf("POST %s as %q from another site: %d %s; want 415", path, ct, code, out)
			}
		}
		for _, ct := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON"} {
			if code, out := send(t, http.MethodPost, ts.URL+path, ct, body, nil); code >= 400 && code != http.StatusConflict {
				t.Errorf("POST %s as %q: %d %s; want it accepted", path, ct, code, out)
			}
		}
	}
	if v, _ := testenv.MustScrape(t, ts.URL+"/metrics").Value("feedback_total", "verdict", "unhappy"); v != 1 {
		t.Fatalf("feedback_total{unhappy} = %v; only the one JSON answer may count", v)
	}
	// application/json with a foreign Origin (a preflight this server never
	// grants, or a tool faking a browser) is refused too.
	if code, _ := send(t, http.MethodPost, ts.URL+"/api/v1/predict", "application/json", `{"title": "x"}`, evil); code != http.StatusForbidden {
		t.Fatalf("JSON from another site's origin: %d, want 403", code)
	}
}

// TestFormsRefuseCrossSitePosts: the page's forms work from the page
// itself (Sec-Fetch-Site, or Origin matching Host as browsers send it over
// plain HTTP) and without any browser header (curl), and refuse a post
// from another site.
func TestFormsRefuseCrossSitePosts(t *testing.T) {
	ts := startServer(t, newFake())
	host := strings.TrimPrefix(ts.URL, "http://")
	form := url.Values{"title": {"php sql"}}.Encode()
	for _, tt := range []struct {
		name   string
		header map[string]string
		status int
	}{
		{"no browser headers", nil, http.StatusSeeOther},
		{"same origin by fetch metadata", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": ts.URL}, http.StatusSeeOther},
		{"same origin by Origin (plain HTTP, no fetch metadata)", map[string]string{"Origin": "http://" + host}, http.StatusSeeOther},
		{"typed into the address bar", map[string]string{"Sec-Fetch-Site": "none"}, http.StatusSeeOther},
		{"another site by fetch metadata", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, http.StatusForbidden},
		{"another site by Origin", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"sibling subdomain", map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "http://evil." + host}, http.StatusForbidden},
		{"opaque origin", map[string]string{"Origin": "null"}, http.StatusForbidden},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, page := send(t, http.MethodPost, ts.URL+"/", "application/x-www-form-urlencoded", form, tt.header)
			if code != tt.status {
				t.Fatalf("POST / : %d, want %d", code, tt.status)
			}
			if code == http.StatusForbidden && !strings.Contains(page, "sent from another site") {
				t.Fatal("the refusal is not explained on the page")
			}
		})
	}
	id := predictID(t, ts.URL, "go sort")
	answer := url.Values{"prediction_id": {id}, "happy": {"no"}}.Encode()
	if code, _ := send(t, http.MethodPost, ts.URL+"/feedback", "application/x-www-form-urlencoded", answer,
		map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}); code != http.StatusForbidden {
		t.Fatalf("cross-site feedback form: %d, want 403", code)
	}
	if v, _ := testenv.MustScrape(t, ts.URL+"/metrics").Value("cross_site_refused_total"); v < 5 {
		t.Fatalf("cross_site_refused_total = %v", v)
	}
	if code, _ := send(t, http.MethodPost, ts.URL+"/feedback", "application/x-www-form-urlencoded", answer,
		map[string]string{"Origin": ts.URL}); code != http.StatusSeeOther {
		t.Fatalf("same-origin feedback form after the refusal: %d, want 303 (the refused post stored nothing)", code)
	}
	// The page tells browsers to send its origin on its own posts.
	res, err := http.Get(ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := res.Header.Get("Referrer-Policy"); got != "same-origin" {
		t.Fatalf("Referrer-Policy %q: with no-referrer browsers send Origin: null on the page's own posts", got)
	}
}

func TestTrustedOrigins(t *testing.T) {
	if _, err := New(Config{Predictor: newFake(), Store: startServer(t, newFake()).store, SigningKeys: testKeys, TrustedOrigins: []string{"not a url"}}); err == nil {
		t.Fatal("a bad trusted origin was accepted")
	}
}

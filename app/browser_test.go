package app

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/remla/tagger/feedback"

	"github.com/remla/tagger/test/testenv"
)

const chromiumPath = "/usr/bin/chromium"

// browser starts Debian's Chromium headless with a fresh profile. The
// returned context is cancelled (and Chromium stopped) at the end of the
// test or after four minutes, whichever comes first.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		testenv.Need(t, "Chromium is not installed at "+chromiumPath+"; apt-get install chromium (test/run-all.sh does)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1100, 1000),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	deadline := time.AfterFunc(4*time.Minute, cancel)
	t.Cleanup(func() { deadline.Stop(); cancel(); cancelAlloc() })
	return ctx
}

// artifact writes a screenshot under test/artifacts/ (git-ignored).
func artifact(t *testing.T, name string, png []byte) {
	t.Helper()
	dir := filepath.Join("..", "test", "artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

func storedRecords(t *testing.T, ts *testServer) []feedback.Record {
	t.Helper()
	var out []feedback.Record
	if err := ts.store.Each(t.Context(), feedback.Filter{}, func(r feedback.Record) error { out = append(out, r); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBrowserWithJavaScript types a title in real headless Chromium,
// submits, sees the tags appear without a reload, marks a tag wrong, adds a
// missing tag, answers No, and checks that the answer was stored and that
// /metrics moved.
func TestBrowserWithJavaScript(t *testing.T) {
	ts := startServer(t, realModel(t))
	ctx := browser(t)
	const title = "How to parse JSON in Python with pandas"

	err := chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("title")),
		chromedp.Evaluate[chromedp.Void](`window.__sameDocument = true`),
		chromedp.SendKeys(chromedp.ID("title"), title),
		chromedp.Click(chromedp.CSS(`#predict-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#tags .tag-row`)),
	)
	if err != nil {
		t.Fatalf("predict in the browser: %v", err)
	}
	tags, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#tags .tag-name")].map(e => e.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(tags, "python") {
		t.Fatalf("tags shown: %q; want python among them", tags)
	}
	same, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__sameDocument === true`))
	if err != nil || !same {
		t.Fatalf("the page reloaded on submit (JavaScript should update it in place): %v", err)
	}
	if doc, _ := chromedp.Run(ctx, chromedp.Title()); !strings.Contains(doc, title) {
		t.Fatalf("document title %q does not name the question", doc)
	}
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	if !strings.Contains(loc, "/?p=") {
		t.Fatalf("location %q does not name the prediction", loc)
	}
	scores, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#tags .pct`)))
	if !strings.HasSuffix(strings.TrimSpace(scores), "% sure") && !strings.Contains(scores, "%") {
		t.Fatalf("first score shown as %q", scores)
	}

	wrong := tags[len(tags)-1]
	missing := "javascript"
	if slices.Contains(tags, missing) {
		missing = "java"
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#tags input[name="tag:%s"][value=wrong]`, wrong))),
		chromedp.Click(chromedp.CSS(`details.missing summary`)),
		chromedp.WaitVisible(chromedp.ID("missing-filter")),
		chromedp.SendKeys(chromedp.ID("missing-filter"), missing),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#tag-grid input[value=%q]`, missing))),
	)
	if err != nil {
		t.Fatalf("mark tags: %v", err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	artifact(t, "browser-js-result.png", shot)

	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#feedback-form button.no`)),
		chromedp.WaitVisible(chromedp.ID("thanks")),
	)
	if err != nil {
		t.Fatalf("answer No: %v", err)
	}
	if shot, err = chromedp.Run(ctx, chromedp.FullScreenshot(100)); err != nil {
		t.Fatal(err)
	}
	artifact(t, "browser-js-thanks.png", shot)

	recs := storedRecords(t, ts)
	if len(recs) != 1 {
		t.Fatalf("%d feedback records stored, want 1", len(recs))
	}

	// A second title, submitted with the Enter key: the feedback form is back.
	const second = "Center a div horizontally with CSS"
	err = chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](`document.getElementById("title").value = ""`),
		chromedp.SendKeys(chromedp.ID("title"), second+kb.Enter),
		chromedp.WaitVisible(chromedp.ID("feedback-form")),
		chromedp.WaitNotVisible(chromedp.ID("thanks")),
	)
	if err != nil {
		t.Fatalf("second title with Enter: %v", err)
	}
	if shown, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("result-title"))); shown != second {
		t.Fatalf("result title %q after the second submit, want %q", shown, second)
	}
	r := recs[0]
	if r.Happy || r.Title != title || !slices.Equal(r.WrongTags, []string{wrong}) || !slices.Equal(r.MissingTags, []string{missing}) {
		t.Fatalf("stored %+v; want unhappy, %q wrong, %q missing", r, wrong, missing)
	}
	checkSamples(t, ts.URL, []sample{
		{"num_pred", nil, 2},
		{"feedback_total", []string{"verdict", "unhappy"}, 1},
		{"feedback_total", []string{"verdict", "happy"}, 0},
		{"user_satisfaction", nil, 0},
		{"http_requests_total", []string{"method", "POST", "route", "/api/v1/predict", "code", "200"}, 2},
		{"http_requests_total", []string{"method", "POST", "route", "/api/v1/feedback", "code", "201"}, 1},
	})
}

// TestBrowserWithoutJavaScript does the same on a phone-sized screen with
// scripts disabled: plain form posts and redirects must carry the flow.
func TestBrowserWithoutJavaScript(t *testing.T) {
	ts := startServer(t, realModel(t))
	ctx := browser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatalf("disable scripts: %v", err)
	}
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(ts.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("title")),
		// An empty title first: the error must show inline.
		chromedp.Click(chromedp.CSS(`#predict-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("title-error")),
	)
	if err != nil {
		t.Fatalf("submit an empty title: %v", err)
	}
	msg, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("title-error")))
	if !strings.Contains(msg, "the title is empty") {
		t.Fatalf("inline error %q", msg)
	}
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("title"), "Segmentation fault when using std::vector in C++"),
		chromedp.Click(chromedp.CSS(`#predict-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#tags .tag-row`)),
	)
	if err != nil {
		t.Fatalf("predict without JavaScript: %v", err)
	}
	scripted, _ := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.ID("missing-filter"), "hidden"))
	if !scripted.Exists {
		t.Fatal("the tag filter is visible, so the page script ran; scripts should be off in this test")
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	artifact(t, "browser-nojs-phone-result.png", shot)
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#tags .tag-row:first-child input[value=right]`)),
		chromedp.Click(chromedp.CSS(`#feedback-form button.yes`)),
		chromedp.WaitVisible(chromedp.ID("thanks")),
	)
	if err != nil {
		t.Fatalf("answer Yes without JavaScript: %v", err)
	}
	recs := storedRecords(t, ts)
	if len(recs) != 1 || !recs[0].Happy || len(recs[0].CorrectTags) != 1 {
		t.Fatalf("stored %+v; want one happy answer with one tag marked right", recs)
	}
	checkSamples(t, ts.URL, []sample{
		{"num_pred", nil, 1}, {"feedback_total", []string{"verdict", "happy"}, 1}, {"user_satisfaction", nil, 1},
		{"http_requests_total", []string{"method", "POST", "route", "/", "code", "400"}, 1},
		{"http_requests_total", []string{"method", "POST", "route", "/feedback", "code", "303"}, 1},
	})
}

// TestBrowserRefusesCrossSitePosts opens a page of another site (served on
// localhost, the app on 127.0.0.1) in real Chromium. Its script sends the
// simple requests any site may send without asking: text/plain to the JSON
// API and a text/plain form to the feedback API. Then it submits a plain
// form to the page's predict route. Everything is refused and nothing is
// predicted or counted.
func TestBrowserRefusesCrossSitePosts(t *testing.T) {
	ts := startServer(t, newFake())
	id := predictID(t, ts.URL, "php sql")
	app := ts.URL
	// The other site's page: its forms and script post to %[1]s, the
	// prediction's ID is %[2]s.
	page, err := os.ReadFile("testdata/cross-site.html")
	if err != nil {
		t.Fatal(err)
	}
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, string(page), app, id)
	}))
	defer evil.Close()
	evilURL := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)

	ctx := browser(t)
	var body string
	err = chromedp.Do(ctx,
		chromedp.Navigate(evilURL+"/"),
		chromedp.WaitVisible(chromedp.ID("main")), // the app's page, reached by the form post
	)
	if err != nil {
		t.Fatalf("the other site's form post did not land on the app's page: %v", err)
	}
	body, _ = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if !strings.Contains(body, "sent from another site") {
		t.Fatalf("the cross-site form post was not refused on the page:\n%s", body)
	}
	checkSamples(t, ts.URL, []sample{
		{"num_pred", nil, 1}, // the test's own prediction only
		{"feedback_total", []string{"verdict", "unhappy"}, 0},
		{"http_requests_total", []string{"method", "POST", "route", "/api/v1/predict", "code", "415"}, 1},
		{"http_requests_total", []string{"method", "POST", "route", "/predict", "code", "415"}, 1},
		{"http_requests_total", []string{"method", "POST", "route", "/api/v1/feedback", "code", "415"}, 1},
		{"http_requests_total", []string{"method", "POST", "route", "/", "code", "403"}, 1},
	})
	if recs := storedRecords(t, ts); len(recs) != 0 {
		t.Fatalf("stored %+v from another site", recs)
	}
}

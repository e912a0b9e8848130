package app

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/remla/tagger/test/testenv"
)

// axeVersion is the axe-core release the accessibility test runs. The test
// fetches it once with npm into .run/ (or reads REMLA_AXE_JS).
const axeVersion = "4.14.1"

func axeSource(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("REMLA_AXE_JS"); p != "" {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("REMLA_AXE_JS: %v", err)
		}
		return string(b)
	}
	cache := filepath.Join("..", ".run", "axe-core-"+axeVersion, "axe.min.js")
	if b, err := os.ReadFile(cache); err == nil {
		return string(b)
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		testenv.Need(t, "npm is needed once to fetch axe-core "+axeVersion+" (apt-get install npm), or set REMLA_AXE_JS to an axe.min.js")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	if out, err := exec.CommandContext(ctx, npm, "pack", "--silent", "axe-core@"+axeVersion, "--pack-destination", dir).CombinedOutput(); err != nil {
		testenv.Need(t, fmt.Sprintf("npm pack axe-core@%s failed (is the npm registry reachable?): %v\n%s", axeVersion, err, out))
	}
	f, err := os.Open(filepath.Join(dir, "axe-core-"+axeVersion+".tgz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("axe.min.js not found in the axe-core package: %v", err)
		}
		if h.Name == "package/axe.min.js" {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			os.MkdirAll(filepath.Dir(cache), 0o755)
			os.WriteFile(cache, b, 0o644)
			return string(b)
		}
	}
}

type axeResult struct {
	Passes     int            `json:"passes"`
	Violations []axeViolation `json:"violations"`
}

type axeViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
}

// TestAccessibility runs axe-core (WCAG 2.1 A and AA rules, which include
// labels, names, landmarks and colour contrast) in real Chromium on the
// page's states: empty, with an inline error, with a result and the tag
// list open, and after feedback, in the light and the dark colour scheme
// and on a phone-sized screen.
func TestAccessibility(t *testing.T) {
	axe := axeSource(t)
	ts := startServer(t, realModel(t))
	ctx := browser(t)
	id := predictID(t, ts.URL, "How to parse JSON in Python with pandas")
	answered := predictID(t, ts.URL, "Segmentation fault with std::vector in C++")
	feedbackFor(t, ts.URL, answered, true)

	states := []struct {
		name  string
		steps []chromedp.Action[chromedp.Void]
	}{
		{"empty page", []chromedp.Action[chromedp.Void]{chromedp.Navigate(ts.URL + "/")}},
		{"inline error", []chromedp.Action[chromedp.Void]{
			chromedp.Navigate(ts.URL + "/"),
			chromedp.Click(chromedp.CSS(`#predict-form button[type=submit]`)),
			chromedp.WaitVisible(chromedp.ID("title-error")),
		}},
		{"result with tag list open", []chromedp.Action[chromedp.Void]{
			chromedp.Navigate(ts.URL + "/?p=" + id),
			chromedp.Click(chromedp.CSS(`details.missing summary`)),
			chromedp.WaitVisible(chromedp.ID("tag-grid")),
		}},
		{"after feedback", []chromedp.Action[chromedp.Void]{chromedp.Navigate(ts.URL + "/?p=" + answered)}},
		{"page not found", []chromedp.Action[chromedp.Void]{chromedp.Navigate(ts.URL + "/nope")}},
	}
	for _, scheme := range []string{"light", "dark"} {
		for _, width := range []int64{1100, 390} {
			for _, st := range states {
				t.Run(fmt.Sprintf("%s/%s/%dpx", st.name, scheme, width), func(t *testing.T) {
					setup := []chromedp.Action[chromedp.Void]{
						chromedp.EmulateViewport(width, 900),
						chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
							_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
								Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
							})
							return err
						}),
					}
					if err := chromedp.Do(ctx, append(setup, st.steps...)...); err != nil {
						t.Fatalf("reach the state: %v", err)
					}
					if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](axe)); err != nil {
						t.Fatalf("load axe-core: %v", err)
					}
					res, err := chromedp.Run(ctx, chromedp.Evaluate[axeResult](`
						axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
						  .then(r => ({passes: r.passes.length, violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
						    targets: v.nodes.map(n => n.target.join(" "))}))}))`, chromedp.EvalAwaitPromise))
					if err != nil {
						t.Fatalf("run axe-core: %v", err)
					}
					// A page axe found nothing to check on would pass vacuously.
					if res.Passes < 10 {
						t.Fatalf("axe-core passed only %d rules; did it run on the page?", res.Passes)
					}
					violations := res.Violations
					for _, v := range violations {
						t.Errorf("%s (%s): %s at %s", v.ID, v.Impact, v.Help, strings.Join(v.Targets, ", "))
					}
					if len(violations) > 0 && width == 1100 {
						if shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
							artifact(t, fmt.Sprintf("a11y-%s-%s.png", strings.ReplaceAll(st.name, " ", "-"), scheme), shot)
						}
					}
				})
			}
		}
	}
}

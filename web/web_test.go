package web

import (
	"bytes"
	"fmt"
	"io/fs"
	"strings"
	"testing"
)

func TestTemplatesParse(t *testing.T) {
	tpl, err := Templates()
	if err != nil {
		t.Fatal(err)
	}
	if tpl.Lookup("page.html") == nil {
		t.Fatal("page.html is missing")
	}
}

func TestStaticAssets(t *testing.T) {
	for _, name := range []string{"app.js", "style.css", "favicon.svg"} {
		if b, err := fs.ReadFile(Static(), name); err != nil || len(b) == 0 {
			t.Errorf("static asset %s: %v", name, err)
		}
	}
	// Nothing may come from elsewhere: the page must work offline.
	for _, name := range []string{"app.js", "style.css"} {
		b, _ := fs.ReadFile(Static(), name)
		for _, bad := range []string{"http://", "https://", "@import"} {
			if bytes.Contains(b, []byte(bad)) {
				t.Errorf("%s refers to %q; embed it instead", name, bad)
			}
		}
	}
}

// TestBarWidthClasses checks that every class the width function can give
// a score bar exists in the CSS (the CSP forbids inline styles).
func TestBarWidthClasses(t *testing.T) {
	tpl, err := Templates()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tpl.New("w").Parse(`{{width .}}`); err != nil {
		t.Fatal(err)
	}
	css, _ := fs.ReadFile(Static(), "style.css")
	for _, score := range []float64{0, 0.024, 0.026, 0.5, 0.974, 0.976, 1} {
		var b strings.Builder
		if err := tpl.ExecuteTemplate(&b, "w", score); err != nil {
			t.Fatal(err)
		}
		class := fmt.Sprintf(".w-%s {", b.String())
		if !bytes.Contains(css, []byte(class)) {
			t.Errorf("score %v gives class %q, which style.css lacks", score, class)
		}
	}
}

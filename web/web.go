// Package web holds the page's templates and static assets (CSS, script,
// icon), embedded into the binary so the app needs no CDN and no files
// beside it.
package web

import (
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"math"
)

//go:embed templates/*.html
var templates embed.FS

//go:embed static
var static embed.FS

// Templates parses the page templates. The page is "page.html"; it expects
// the view the app package builds.
func Templates() (*template.Template, error) {
	t, err := template.New("").Funcs(template.FuncMap{
		"percent": func(score float64) int { return int(math.Round(score * 100)) },
		// width rounds a score to the nearest 5 % for the bar's CSS class
		// (the CSP forbids inline styles).
		"width": func(score float64) int { return int(math.Round(score*20)) * 5 },
	}).ParseFS(templates, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse embedded templates: %w", err)
	}
	return t, nil
}

// Static returns the assets served under /static/.
func Static() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the directory is embedded above; this cannot fail
	}
	return sub
}

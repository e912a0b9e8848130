// Package charts holds the Helm charts of the project, built into the
// binaries that install them so remlactl needs no checkout of the repository.
package charts

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
)

//go:embed all:remla-app
var files embed.FS

// AppDir is the chart directory relative to this package, for tools (helm
// lint) that read a directory.
const AppDir = "remla-app"

// App loads the remla-app chart built into the binary.
func App() (*chart.Chart, error) {
	var bf []*loader.BufferedFile
	err := fs.WalkDir(files, AppDir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := relPath(AppDir, p)
		bf = append(bf, &loader.BufferedFile{Name: rel, Data: data})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read built-in chart: %w", err)
	}
	c, err := loader.LoadFiles(bf)
	if err != nil {
		return nil, fmt.Errorf("load built-in chart: %w", err)
	}
	return c, nil
}

func relPath(base, p string) (string, bool) {
	if len(p) > len(base) && p[:len(base)] == base && p[len(base)] == '/' {
		return path.Clean(p[len(base)+1:]), true
	}
	return p, false
}

// generated matches the Secret values the chart generates at install
// (random, then kept by lookup on upgrades).
var generated = regexp.MustCompile(`(?m)^(  (?:signing-key|password): )\S+$`)

// MaskGenerated replaces the values the chart generates at install (the
// prediction-id signing key, the bundled PostgreSQL's password) by
// <generated>, so that two renders of the same values compare equal.
func MaskGenerated(manifest string) string {
	return generated.ReplaceAllString(manifest, "${1}<generated>")
}

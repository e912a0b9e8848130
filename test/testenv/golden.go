package testenv

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// update is the one -update flag of every test binary that compares golden
// files: go test ./... -update rewrites them from the current output, and
// the diff is reviewed before it is committed.
var update = flag.Bool("update", false, "rewrite the golden files under testdata/ from the current output")

// Golden compares got with the golden file at path (under the package's
// testdata/), byte for byte. With -update it first writes got there,
// creating the directory. A difference fails the test with the lines that
// differ and how to rewrite the file.
func Golden(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test with -update to create it, then review it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s; review and run go test with -update to rewrite it\n%s", path, lineDiff(string(got), string(want)))
	}
}

// lineDiff names, line by line, where got and want differ: at most
// maxDiffLines lines, then how many more.
func lineDiff(got, want string) string {
	const maxDiffLines = 20
	g, w := strings.SplitAfter(got, "\n"), strings.SplitAfter(want, "\n")
	var b strings.Builder
	fmt.Fprintf(&b, "got %d bytes in %d lines, want %d bytes in %d lines\n", len(got), len(g), len(want), len(w))
	shown, more := 0, 0
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl == wl {
			continue
		}
		if shown == maxDiffLines {
			more++
			continue
		}
		shown++
		fmt.Fprintf(&b, "line %d:\n  got:  %q\n  want: %q\n", i+1, gl, wl)
	}
	if more > 0 {
		fmt.Fprintf(&b, "(and %d more lines differ)\n", more)
	}
	return b.String()
}

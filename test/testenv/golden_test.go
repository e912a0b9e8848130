package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// recorder is a testing.TB that keeps what a helper reported; Fatal ends
// the helper's goroutine as it would a test's.
type recorder struct {
	testing.TB
	errors []string
	fatal  bool
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }

func (r *recorder) Fatalf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
	r.fatal = true
	runtime.Goexit()
}

// run calls f with a recorder in a goroutine of its own, as the testing
// package runs a test, and returns the recorder when f has returned.
func run(t *testing.T, f func(testing.TB)) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() { defer close(done); f(r) }()
	<-done
	return r
}

func TestGolden(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.golden")
	if err := os.WriteFile(path, []byte("a\nb\nc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		path  string
		got   string
		fatal bool
		says  []string
	}{
		{name: "same", path: path, got: "a\nb\nc\n"},
		{name: "one line differs", path: path, got: "a\nB\nc\n", says: []string{"line 2:", `"B\n"`, `"b\n"`, "-update"}},
		{name: "trailing newline missing", path: path, got: "a\nb\nc", says: []string{"line 3:", `"c"`}},
		{name: "a line more", path: path, got: "a\nb\nc\nd\n", says: []string{"line 4:", `"d\n"`}},
		{name: "no golden file", path: filepath.Join(dir, "none.golden"), got: "a\n", fatal: true, says: []string{"none.golden", "-update"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, func(tb testing.TB) { Golden(tb, tt.path, []byte(tt.got)) })
			if r.fatal != tt.fatal {
				t.Errorf("fatal = %v, want %v (%q)", r.fatal, tt.fatal, r.errors)
			}
			if len(tt.says) == 0 && len(r.errors) > 0 {
				t.Fatalf("reported %q, want nothing", r.errors)
			}
			if len(tt.says) > 0 && len(r.errors) == 0 {
				t.Fatalf("reported nothing, want a failure saying %q", tt.says)
			}
			msg := strings.Join(r.errors, "\n")
			for _, s := range tt.says {
				if !strings.Contains(msg, s) {
					t.Errorf("failure %q does not say %q", msg, s)
				}
			}
		})
	}
}

func TestGoldenUpdate(t *testing.T) {
	defer func(old bool) { *update = old }(*update)
	*update = true
	path := filepath.Join(t.TempDir(), "testdata", "new.golden")
	if r := run(t, func(tb testing.TB) { Golden(tb, path, []byte("fresh\n")) }); len(r.errors) > 0 {
		t.Fatalf("with -update: %q", r.errors)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "fresh\n" {
		t.Fatalf("with -update the file holds %q (%v), want the output", b, err)
	}
	*update = false
	if r := run(t, func(tb testing.TB) { Golden(tb, path, []byte("changed\n")) }); len(r.errors) == 0 {
		t.Fatal("without -update a changed output passed against the rewritten file")
	}
}

func TestLineDiffIsBounded(t *testing.T) {
	got := strings.Repeat("x\n", 50)
	want := strings.Repeat("y\n", 50)
	d := lineDiff(got, want)
	if n := strings.Count(d, "\n  got:"); n != 20 {
		t.Errorf("shows %d lines, want 20", n)
	}
	if !strings.Contains(d, "(and 30 more lines differ)") {
		t.Errorf("does not say how many more differ:\n%s", d)
	}
}

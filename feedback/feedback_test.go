package feedback

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func TestLabels(t *testing.T) {
	pred := []string{"php", "sql", "mysql"}
	tests := []struct {
		name string
		r    Record
		want []string
		ok   bool
	}{
		{"happy, no marks: all predicted", Record{Predicted: pred, Happy: true}, pred, true},
		{"happy with missing", Record{Predicted: pred, Happy: true, MissingTags: []string{"pdo"}}, []string{"php", "sql", "mysql", "pdo"}, true},
		{"unhappy, no marks: unlabelled", Record{Predicted: pred}, nil, false},
		{"unhappy, wrong marked", Record{Predicted: pred, WrongTags: []string{"sql"}}, []string{"php", "mysql"}, true},
		{"correct marks win over the rest", Record{Predicted: pred, CorrectTags: []string{"mysql"}, MissingTags: []string{"pdo"}}, []string{"mysql", "pdo"}, true},
		{"unhappy, only missing", Record{Predicted: nil, MissingTags: []string{"c#", "c#"}}, []string{"c#"}, true},
		{"everything wrong, nothing missing", Record{Predicted: []string{"php"}, WrongTags: []string{"php"}}, nil, false},
		{"nothing predicted, happy", Record{Happy: true}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.r.Labels()
			if ok != tt.ok || !slices.Equal(got, tt.want) {
				t.Fatalf("Labels() = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestTSVRow(t *testing.T) {
	tests := []struct {
		name string
		r    Record
		want string
		ok   bool
	}{
		{"data set format", Record{Title: "Why odbc_exec always fail?", Predicted: []string{"php", "sql"}, Happy: true}, "Why odbc_exec always fail?\t['php', 'sql']\n", true},
		{"tabs and newlines in title", Record{Title: " a\tb\nc ", Predicted: []string{"c++"}, Happy: true}, "a b c\t['c++']\n", true},
		{"quote in tag", Record{Title: "x", MissingTags: []string{"it's", `a\b`}}, "x\t\"[\"\"it's\"\", 'a\\\\b']\"\n", true},
		{"quotes in title", Record{Title: `"Hello" says "world"`, Predicted: []string{"c"}, Happy: true}, "\"\"\"Hello\"\" says \"\"world\"\"\"\t['c']\n", true},
		{"blank title", Record{Title: " \t", Predicted: []string{"php"}, Happy: true}, "", false},
		{"no labels", Record{Title: "x", Predicted: []string{"php"}}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := TSVRow(tt.r)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("TSVRow() = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func openTemp(t *testing.T) (*SQLite, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sub", "feedback.db")
	s, err := OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return s, path
}

func TestSaveDuplicateAndReopen(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	at := time.Date(2026, 11, 26, 1, 2, 3, 0, time.UTC)
	r := Record{PredictionID: "p1", Title: "t", Predicted: []string{"go"}, Happy: true, ModelVersion: "v1", Color: "blue", CreatedAt: at}
	if err := s.Save(ctx, r); err != nil {
		t.Fatal(err)
	}
	r2 := r
	r2.Happy = false
	if err := s.Save(ctx, r2); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("second Save = %v, want ErrDuplicate", err)
	}
	if err := s.Save(ctx, Record{}); err == nil {
		t.Fatal("Save with no prediction id succeeded")
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got []Record
	if err := s.Each(ctx, func(r Record) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("after reopen: %d records, want 1", len(got))
	}
	g := got[0]
	if g.PredictionID != "p1" || !g.Happy || !slices.Equal(g.Predicted, []string{"go"}) || g.ModelVersion != "v1" || g.Color != "blue" || !g.CreatedAt.Equal(at) {
		t.Fatalf("after reopen: %+v; want the first answer back", g)
	}
	if g.CorrectTags == nil || len(g.CorrectTags) != 0 {
		t.Fatalf("CorrectTags = %#v, want empty non-nil", g.CorrectTags)
	}
}

func TestConcurrentSaves(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	defer s.Close()
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		for range 2 { // every id twice: exactly one must win
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- s.Save(ctx, Record{PredictionID: fmt.Sprint("p", i), Title: "t", Happy: true})
			}()
		}
	}
	wg.Wait()
	close(errs)
	var ok, dup int
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, ErrDuplicate):
			dup++
		default:
			t.Fatal(err)
		}
	}
	if c, _ := s.Count(ctx); ok != n || dup != n || c != n {
		t.Fatalf("ok=%d dup=%d count=%d, want %d each", ok, dup, c, n)
	}
}

func TestExportTSVGolden(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	at := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	for i, r := range []Record{
		{Title: "Why odbc_exec always fail?", Predicted: []string{"php", "sql"}, Happy: true},
		{Title: "Access a base classes variable from within a child class", Predicted: []string{"php"}, WrongTags: []string{"php"}, MissingTags: []string{"javascript"}},
		{Title: "unhappy without saying why", Predicted: []string{"java"}},
		{Title: "How to std::sort\ta vector", Predicted: []string{"c++", "c#"}, CorrectTags: []string{"c++"}},
	} {
		r.PredictionID = fmt.Sprint("p", i)
		r.CreatedAt = at.Add(time.Duration(i) * time.Second)
		if err := s.Save(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	// Export through a second, read-only handle while the writer is open, as
	// the export command does next to a running server.
	ro, err := OpenSQLiteReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	var buf bytes.Buffer
	st, err := ro.ExportTSV(ctx, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if st != (ExportStats{Records: 4, Written: 3, Skipped: 1}) {
		t.Fatalf("stats = %+v", st)
	}
	golden := filepath.Join("testdata", "export.tsv")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./feedback -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("export differs from %s:\n got: %q\nwant: %q", golden, buf.String(), want)
	}
	s.Close()
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := OpenSQLite(ctx, ""); err == nil {
		t.Fatal("empty path accepted")
	}
	if _, err := OpenSQLiteReadOnly(ctx, filepath.Join(t.TempDir(), "missing.db")); err == nil {
		t.Fatal("missing file opened read-only")
	}
	notDB := filepath.Join(t.TempDir(), "not.db")
	os.WriteFile(notDB, bytes.Repeat([]byte("not a database "), 100), 0o644)
	if s, err := OpenSQLite(ctx, notDB); err == nil {
		s.Close()
		t.Fatal("a file that is not SQLite opened as a feedback store")
	}
}

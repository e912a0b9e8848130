package feedback

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/remla/tagger/test/testenv"
)

// opener opens the same store every time it is called: a test closes one
// handle and opens another to see what survived.
type opener func(t *testing.T) Store

// testContract is what every Store must do. It runs unchanged against each
// backend (sqlite_test.go, postgres_test.go); newStore gives each subtest
// an empty store of its own.
func testContract(t *testing.T, newStore func(t *testing.T) opener) {
	ctx := context.Background()
	at := time.Date(2026, 11, 26, 1, 2, 3, 456_000_000, time.UTC)

	t.Run("save, get and reopen", func(t *testing.T) {
		open := newStore(t)
		s := open(t)
		r := Record{PredictionID: "p1", Title: "Ünïcode “title” with 'quotes' and \\ backslash", Predicted: []string{"c#", ".net"},
			Happy: false, CorrectTags: []string{"c#"}, WrongTags: []string{".net"}, MissingTags: []string{"linq", "it's"},
			ModelVersion: "v1", Color: "blue", PredictedAt: at.Add(-time.Minute), CreatedAt: at}
		if err := s.Save(ctx, r); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s = open(t)
		defer s.Close()
		got, err := s.Get(ctx, "p1")
		if err != nil {
			t.Fatal(err)
		}
		if !equal(got, r) {
			t.Fatalf("after reopen Get = %+v\nwant %+v", got, r)
		}
		if _, err := s.Get(ctx, "p2"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get of an unknown id = %v, want ErrNotFound", err)
		}
		if err := s.Ping(ctx); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("empty lists and no prediction time", func(t *testing.T) {
		s := newStore(t)(t)
		defer s.Close()
		if err := s.Save(ctx, Record{PredictionID: "e", Title: "t", Happy: true, CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(ctx, "e")
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range [][]string{got.Predicted, got.CorrectTags, got.WrongTags, got.MissingTags} {
			if l == nil || len(l) != 0 {
				t.Fatalf("lists of %+v: want empty, non-nil", got)
			}
		}
		if !got.PredictedAt.IsZero() || !got.CreatedAt.Equal(at) {
			t.Fatalf("times %v %v", got.PredictedAt, got.CreatedAt)
		}
	})

	t.Run("one answer per prediction", func(t *testing.T) {
		s := newStore(t)(t)
		defer s.Close()
		r := Record{PredictionID: "p1", Title: "t", Predicted: []string{"go"}, Happy: true, CreatedAt: at}
		if err := s.Save(ctx, r); err != nil {
			t.Fatal(err)
		}
		r.Happy = false
		if err := s.Save(ctx, r); !errors.Is(err, ErrDuplicate) {
			t.Fatalf("second Save = %v, want ErrDuplicate", err)
		}
		if got, _ := s.Get(ctx, "p1"); !got.Happy {
			t.Fatal("the second answer replaced the first")
		}
	})

	t.Run("concurrent saves", func(t *testing.T) {
		s := newStore(t)(t)
		defer s.Close()
		const n = 40
		var wg sync.WaitGroup
		errs := make(chan error, 2*n)
		for i := range n {
			for range 2 { // every id twice: exactly one must win
				wg.Go(func() {
					errs <- s.Save(ctx, Record{PredictionID: fmt.Sprint("p", i), Title: "t", Happy: true})
				})
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
		if c := count(t, s, Filter{}); ok != n || dup != n || c != n {
			t.Fatalf("ok=%d dup=%d count=%d, want %d each", ok, dup, c, n)
		}
	})

	t.Run("refused records write nothing", func(t *testing.T) {
		s := newStore(t)(t)
		defer s.Close()
		for _, r := range []Record{
			{Title: "no id"},
			{PredictionID: "nul", Title: "a\x00b"},
			{PredictionID: "nul-tag", Title: "t", MissingTags: []string{"x\x00"}},
		} {
			if err := s.Save(ctx, r); err == nil || errors.Is(err, ErrUnavailable) {
				t.Fatalf("Save(%+v) = %v; want a refusal that is not ErrUnavailable", r, err)
			}
		}
		if c := count(t, s, Filter{}); c != 0 {
			t.Fatalf("%d records after refusals, want 0", c)
		}
	})

	t.Run("filters and order", func(t *testing.T) {
		s := newStore(t)(t)
		defer s.Close()
		var all []Record
		// Saved out of time order: Each returns oldest answer first.
		for i, k := range []int{3, 0, 4, 1, 5, 2} {
			r := Record{PredictionID: fmt.Sprint("id", i), Title: fmt.Sprint("title ", k), Happy: k%2 == 0,
				Predicted: []string{"php"}, ModelVersion: []string{"v1", "v2"}[k%2], Color: []string{"blue", "green", "blue"}[k%3],
				CreatedAt: at.Add(time.Duration(k) * time.Hour)}
			if err := s.Save(ctx, r); err != nil {
				t.Fatal(err)
			}
			all = append(all, r)
		}
		slices.SortFunc(all, func(a, b Record) int { return a.CreatedAt.Compare(b.CreatedAt) })
		for _, f := range []Filter{
			{},
			{ModelVersion: "v1"},
			{Color: "green"},
			{ModelVersion: "v2", Color: "blue"},
			{Since: at.Add(2 * time.Hour)},
			{Until: at.Add(2 * time.Hour)},
			{Since: at.Add(time.Hour), Until: at.Add(4 * time.Hour), Color: "blue"},
			{Since: at.Add(90 * time.Minute), Until: at.Add(90 * time.Minute)},
			{ModelVersion: "v9"},
		} {
			var want, got []string
			for _, r := range all {
				if f.Match(r) {
					want = append(want, r.Title)
				}
			}
			if err := s.Each(ctx, f, func(r Record) error { got = append(got, r.Title); return nil }); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("Each(%+v) = %q, want %q", f, got, want)
			}
		}
		stop := errors.New("stop")
		n := 0
		if err := s.Each(ctx, Filter{}, func(Record) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
			t.Fatalf("Each did not stop at fn's error: %v after %d", err, n)
		}
	})

	t.Run("export", func(t *testing.T) {
		s := newStore(t)(t)
		defer s.Close()
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
		var buf bytes.Buffer
		st, err := ExportTSV(ctx, s, Filter{}, &buf)
		if err != nil {
			t.Fatal(err)
		}
		if st != (ExportStats{Records: 4, Written: 3, Skipped: 1}) {
			t.Fatalf("stats = %+v", st)
		}
		testenv.Golden(t, filepath.Join("testdata", "export.tsv"), buf.Bytes())
	})

	t.Run("closed store is unavailable", func(t *testing.T) {
		s := newStore(t)(t)
		s.Close()
		err := s.Save(ctx, Record{PredictionID: "late", Title: "t"})
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Save on a closed store = %v, want ErrUnavailable", err)
		}
		if err := s.Ping(ctx); err == nil {
			t.Fatal("Ping on a closed store succeeded")
		}
	})
}

func equal(a, b Record) bool {
	return a.PredictionID == b.PredictionID && a.Title == b.Title && a.Happy == b.Happy &&
		slices.Equal(a.Predicted, b.Predicted) && slices.Equal(a.CorrectTags, b.CorrectTags) &&
		slices.Equal(a.WrongTags, b.WrongTags) && slices.Equal(a.MissingTags, b.MissingTags) &&
		a.ModelVersion == b.ModelVersion && a.Color == b.Color &&
		a.CreatedAt.Equal(b.CreatedAt) && a.PredictedAt.Equal(b.PredictedAt) &&
		a.CreatedAt.Location() == time.UTC
}

func count(t *testing.T, s Store, f Filter) int {
	t.Helper()
	n := 0
	if err := s.Each(context.Background(), f, func(Record) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

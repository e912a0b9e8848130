package feedback

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSQLiteContract(t *testing.T) {
	testContract(t, func(t *testing.T) opener {
		path := filepath.Join(t.TempDir(), "sub", "feedback.db")
		return func(t *testing.T) Store {
			s, err := OpenSQLite(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	})
}

// TestSQLiteMigratesVersion1 opens a database as the first release wrote
// it (schema 1, RFC 3339 times of varying width, a readiness table) and
// checks that the rows survive, times sort, and the schema is current.
func TestSQLiteMigratesVersion1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "feedback.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		sqliteMigrations[0].sql,
		`PRAGMA user_version = 1`,
		`INSERT INTO readiness VALUES (1, '2026-11-26T00:00:00Z')`,
		`INSERT INTO feedback VALUES ('late', '2026-11-26T01:02:03Z', 'b', '["go"]', 1, '[]', '[]', '[]', 'v1', 'blue')`,
		`INSERT INTO feedback VALUES ('early', '2026-11-26T01:02:03.5Z', 'a', '["go"]', 0, '[]', '[]', '["c"]', 'v1', 'blue')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	// Read-only, an old schema is refused with what to do.
	if _, err := OpenSQLiteReadOnly(ctx, path); err == nil || !strings.Contains(err.Error(), "start remla-app on it once") {
		t.Fatalf("read-only open of schema 1: %v", err)
	}
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var v int
	s.db.QueryRow(`PRAGMA user_version`).Scan(&v)
	if v != latest(sqliteMigrations) {
		t.Fatalf("schema version %d after open, want %d", v, latest(sqliteMigrations))
	}
	var titles []string
	s.Each(ctx, Filter{Since: time.Date(2026, 11, 26, 1, 2, 3, 0, time.UTC)}, func(r Record) error {
		titles = append(titles, r.Title)
		return nil
	})
	// 01:02:03 sorts before 01:02:03.5 once the times are fixed width.
	if strings.Join(titles, ",") != "b,a" {
		t.Fatalf("migrated rows in order %q, want b,a", titles)
	}
	if r, err := s.Get(ctx, "early"); err != nil || r.MissingTags[0] != "c" || !r.CreatedAt.Equal(time.Date(2026, 11, 26, 1, 2, 3, 5e8, time.UTC)) {
		t.Fatalf("migrated row: %+v %v", r, err)
	}
	// Opening again changes nothing.
	s2, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
}

func TestSQLiteRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "feedback.db")
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(`PRAGMA user_version = 99`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for name, open := range map[string]func(context.Context, string) (*SQLite, error){"read-write": OpenSQLite, "read-only": OpenSQLiteReadOnly} {
		_, err := open(ctx, path)
		if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), "schema version 99") || !strings.Contains(err.Error(), "newer release") {
			t.Errorf("%s open of schema 99: %v; want ErrSchemaTooNew saying what to do", name, err)
		}
	}
}

// TestSQLiteExportWhileWriting reads through a read-only handle while the
// writer is open, as the export command does next to a running server.
func TestSQLiteExportWhileWriting(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "feedback.db")
	w, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Save(ctx, Record{PredictionID: "a", Title: "x", Predicted: []string{"go"}, Happy: true}); err != nil {
		t.Fatal(err)
	}
	ro, err := OpenSQLiteReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	var buf bytes.Buffer
	if st, err := ExportTSV(ctx, ro, Filter{}, &buf); err != nil || st.Written != 1 {
		t.Fatalf("export: %+v %v", st, err)
	}
	if err := ro.Save(ctx, Record{PredictionID: "b", Title: "y"}); err == nil {
		t.Fatal("a read-only store took a write")
	}
}

func TestSQLiteOpenErrors(t *testing.T) {
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

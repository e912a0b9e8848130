package feedback

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

const schema = `
CREATE TABLE IF NOT EXISTS feedback (
	prediction_id TEXT PRIMARY KEY,
	created_at    TEXT NOT NULL,
	title         TEXT NOT NULL,
	predicted     TEXT NOT NULL,
	happy         INTEGER NOT NULL,
	correct_tags  TEXT NOT NULL,
	wrong_tags    TEXT NOT NULL,
	missing_tags  TEXT NOT NULL,
	model_version TEXT NOT NULL,
	color         TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS readiness (id INTEGER PRIMARY KEY CHECK (id = 1), checked_at TEXT NOT NULL);
PRAGMA user_version = 1;
`

// SQLite is a [Store] in one SQLite database file. It is safe for concurrent
// use; writes are serialised on a single connection.
type SQLite struct {
	db   *sql.DB
	path string
}

var _ Store = (*SQLite)(nil)

// OpenSQLite opens (creating if needed) the feedback database at path.
//
// The database runs in WAL mode with synchronous=FULL: a committed write has
// been fsynced, so Save's return means the record is durable, and a reader
// such as the TSV export can run while the server writes.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	if path == "" {
		return nil, errors.New("open feedback store: no path given; pass a file path such as .run/feedback.db")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("open feedback store: create directory %s: %w", dir, err)
		}
	}
	return open(ctx, path, false)
}

// OpenSQLiteReadOnly opens an existing feedback database for reading, e.g.
// to export it while a server is still writing to it.
func OpenSQLiteReadOnly(ctx context.Context, path string) (*SQLite, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open feedback store %s: %w; point to the file given to remla-app -feedback-db", path, err)
	}
	return open(ctx, path, true)
}

func open(ctx context.Context, path string, readOnly bool) (*SQLite, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	if readOnly {
		q.Add("mode", "ro")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(FULL)")
		q.Add("_txlock", "immediate")
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open feedback store %s: %w", path, err)
	}
	// One connection: SQLite has one writer anyway, and this keeps the
	// pragmas on the only connection there is.
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	s := &SQLite{db: db, path: path}
	if !readOnly {
		if _, err := db.ExecContext(ctx, schema); err != nil {
			db.Close()
			return nil, fmt.Errorf("open feedback store %s: create schema: %w; check the file is a feedback database and the directory is writable", path, err)
		}
	} else if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open feedback store %s: %w", path, err)
	}
	return s, nil
}

// Path returns the database file's path.
func (s *SQLite) Path() string { return s.path }

// Save implements [Store].
func (s *SQLite) Save(ctx context.Context, r Record) error {
	if r.PredictionID == "" {
		return errors.New("save feedback: empty prediction id")
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = time.Now()
	}
	happy := 0
	if r.Happy {
		happy = 1
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO feedback
		(prediction_id, created_at, title, predicted, happy, correct_tags, wrong_tags, missing_tags, model_version, color)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (prediction_id) DO NOTHING`,
		r.PredictionID, r.CreatedAt.UTC().Format(time.RFC3339Nano), r.Title, list(r.Predicted), happy,
		list(r.CorrectTags), list(r.WrongTags), list(r.MissingTags), r.ModelVersion, r.Color)
	if err != nil {
		return fmt.Errorf("save feedback for prediction %s: %w", r.PredictionID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("save feedback for prediction %s: %w", r.PredictionID, err)
	} else if n == 0 {
		return fmt.Errorf("save feedback for prediction %s: %w", r.PredictionID, ErrDuplicate)
	}
	return nil
}

// Ping implements [Store]: it commits a tiny write, so it fails when the
// disk is full, the file became read-only or the database is locked.
func (s *SQLite) Ping(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO readiness (id, checked_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at`,
		time.Now().UTC().Format(time.RFC3339Nano))
	if err != nil {
		return fmt.Errorf("feedback store %s is not writable: %w", s.path, err)
	}
	return nil
}

// Close implements [Store]: it folds the write-ahead log back into the
// database file and closes it.
func (s *SQLite) Close() error {
	var errs []error
	if _, err := s.db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		errs = append(errs, fmt.Errorf("checkpoint feedback store %s: %w", s.path, err))
	}
	if err := s.db.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close feedback store %s: %w", s.path, err))
	}
	return errors.Join(errs...)
}

// Count returns how many records the store holds.
func (s *SQLite) Count(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM feedback`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count feedback in %s: %w", s.path, err)
	}
	return n, nil
}

// Each calls fn for every record, oldest first, and stops at fn's first error.
func (s *SQLite) Each(ctx context.Context, fn func(Record) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT prediction_id, created_at, title, predicted, happy,
		correct_tags, wrong_tags, missing_tags, model_version, color FROM feedback ORDER BY created_at, rowid`)
	if err != nil {
		return fmt.Errorf("read feedback from %s: %w", s.path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			r                                   Record
			created, pred, correct, wrong, miss string
			happy                               int
		)
		if err := rows.Scan(&r.PredictionID, &created, &r.Title, &pred, &happy, &correct, &wrong, &miss, &r.ModelVersion, &r.Color); err != nil {
			return fmt.Errorf("read feedback from %s: %w", s.path, err)
		}
		r.Happy = happy != 0
		r.CreatedAt, _ = time.Parse(time.RFC3339Nano, created)
		for _, f := range []struct {
			dst *[]string
			src string
		}{{&r.Predicted, pred}, {&r.CorrectTags, correct}, {&r.WrongTags, wrong}, {&r.MissingTags, miss}} {
			if err := json.Unmarshal([]byte(f.src), f.dst); err != nil {
				return fmt.Errorf("read feedback for prediction %s from %s: bad tag list %q: %w", r.PredictionID, s.path, f.src, err)
			}
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read feedback from %s: %w", s.path, err)
	}
	return nil
}

func list(tags []string) string {
	if tags == nil {
		tags = []string{}
	}
	b, _ := json.Marshal(tags) // a []string always marshals
	return string(b)
}

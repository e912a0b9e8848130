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
	"strings"

	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

// sqliteMigrations is the SQLite schema, step by step. The version lives
// in the database header (PRAGMA user_version), where SQLite tools show it.
// One server owns the file, so a newer schema is always refused: there is
// no older color to roll back to on the same file.
var sqliteMigrations = []migration{
	{version: 1, name: "feedback table", sql: `
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
CREATE TABLE IF NOT EXISTS readiness (id INTEGER PRIMARY KEY CHECK (id = 1), checked_at TEXT NOT NULL);`},
	{version: 2, name: "prediction time, sortable answer times, no readiness writes", sql: `
ALTER TABLE feedback ADD COLUMN predicted_at TEXT NOT NULL DEFAULT '';
UPDATE feedback SET created_at = strftime('%Y-%m-%dT%H:%M:%fZ', created_at);
CREATE INDEX feedback_created_at ON feedback (created_at);
DROP TABLE readiness;`},
}

// SQLite is a [Store] in one SQLite database file: the embedded default,
// for one server. It is safe for concurrent use; writes are serialised on a
// single connection.
type SQLite struct {
	db   *sql.DB
	path string
}

var _ Store = (*SQLite)(nil)

// OpenSQLite opens (creating if needed) the feedback database at path and
// migrates its schema.
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
	s, err := openSQLite(ctx, path, false)
	if err != nil {
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	return s, nil
}

// OpenSQLiteReadOnly opens an existing feedback database for reading, e.g.
// to export it while a server is still writing to it. It refuses a schema
// other than the one this binary writes.
func OpenSQLiteReadOnly(ctx context.Context, path string) (*SQLite, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open feedback store %s: %w; point to the file given to remla-app -feedback-db", path, err)
	}
	s, err := openSQLite(ctx, path, true)
	if err != nil {
		return nil, err
	}
	have, err := s.version(ctx, s.db)
	if err == nil {
		err = checkReadable("SQLite feedback store "+path, have, sqliteMigrations)
	}
	if err != nil {
		s.db.Close()
		return nil, err
	}
	return s, nil
}

func openSQLite(ctx context.Context, path string, readOnly bool) (*SQLite, error) {
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
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open feedback store %s: %w; check the file is a feedback database and the directory is writable", path, err)
	}
	return &SQLite{db: db, path: path}, nil
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *SQLite) version(ctx context.Context, q querier) (int, error) {
	var v int
	if err := q.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read the schema version of feedback store %s: %w; is it a feedback database?", s.path, err)
	}
	return v, nil
}

// migrate applies the pending migrations, each in one immediate
// transaction, so two servers opening the same file cannot both apply one.
func (s *SQLite) migrate(ctx context.Context) error {
	for {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migrate feedback store %s: %w", s.path, err)
		}
		have, err := s.version(ctx, tx)
		if err != nil {
			tx.Rollback()
			return err
		}
		todo, err := pending("SQLite feedback store "+s.path, have, sqliteMigrations)
		if err != nil || len(todo) == 0 {
			tx.Rollback()
			return err
		}
		m := todo[0]
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate feedback store %s to version %d (%s): %w; check the file is a feedback database and the directory is writable", s.path, m.version, m.name, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, m.version)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate feedback store %s to version %d: %w", s.path, m.version, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate feedback store %s to version %d: %w", s.path, m.version, err)
		}
	}
}

// Path returns the database file's path.
func (s *SQLite) Path() string { return s.path }

// Save implements [Store].
func (s *SQLite) Save(ctx context.Context, r Record) error {
	r, err := prepare(r)
	if err != nil {
		return err
	}
	happy := 0
	if r.Happy {
		happy = 1
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO feedback
		(prediction_id, created_at, predicted_at, title, predicted, happy, correct_tags, wrong_tags, missing_tags, model_version, color)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (prediction_id) DO NOTHING`,
		r.PredictionID, formatTime(r.CreatedAt), formatTime(r.PredictedAt), r.Title, list(r.Predicted), happy,
		list(r.CorrectTags), list(r.WrongTags), list(r.MissingTags), r.ModelVersion, r.Color)
	if err != nil {
		// A full disk, a read-only file, a lock held too long, a closed
		// store: the statement did not commit, so nothing was written.
		return fmt.Errorf("save feedback for prediction %s in %s: %w: %w", r.PredictionID, s.path, ErrUnavailable, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("save feedback for prediction %s: %w: %w", r.PredictionID, ErrUnavailable, err)
	} else if n == 0 {
		return fmt.Errorf("save feedback for prediction %s: %w", r.PredictionID, ErrDuplicate)
	}
	return nil
}

const sqliteColumns = `prediction_id, created_at, predicted_at, title, predicted, happy,
	correct_tags, wrong_tags, missing_tags, model_version, color`

// Get implements [Store].
func (s *SQLite) Get(ctx context.Context, id string) (Record, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+sqliteColumns+` FROM feedback WHERE prediction_id = ?`, id)
	if err != nil {
		return Record{}, fmt.Errorf("read feedback for prediction %s from %s: %w: %w", id, s.path, ErrUnavailable, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return Record{}, fmt.Errorf("read feedback for prediction %s from %s: %w: %w", id, s.path, ErrUnavailable, err)
		}
		return Record{}, fmt.Errorf("prediction %s: %w", id, ErrNotFound)
	}
	return s.scan(rows)
}

// Each implements [Store].
func (s *SQLite) Each(ctx context.Context, f Filter, fn func(Record) error) error {
	var (
		where []string
		args  []any
	)
	if f.ModelVersion != "" {
		where, args = append(where, "model_version = ?"), append(args, f.ModelVersion)
	}
	if f.Color != "" {
		where, args = append(where, "color = ?"), append(args, f.Color)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "created_at >= ?"), append(args, formatTime(f.Since))
	}
	if !f.Until.IsZero() {
		where, args = append(where, "created_at < ?"), append(args, formatTime(f.Until))
	}
	q := `SELECT ` + sqliteColumns + ` FROM feedback`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY created_at, rowid`, args...)
	if err != nil {
		return fmt.Errorf("read feedback from %s: %w: %w", s.path, ErrUnavailable, err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := s.scan(rows)
		if err != nil {
			return err
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

func (s *SQLite) scan(rows *sql.Rows) (Record, error) {
	var (
		r                          Record
		created, predicted         string
		pred, correct, wrong, miss string
		happy                      int
	)
	if err := rows.Scan(&r.PredictionID, &created, &predicted, &r.Title, &pred, &happy, &correct, &wrong, &miss, &r.ModelVersion, &r.Color); err != nil {
		return r, fmt.Errorf("read feedback from %s: %w", s.path, err)
	}
	r.Happy = happy != 0
	var err error
	if r.CreatedAt, err = parseTime(created); err != nil {
		return r, fmt.Errorf("read feedback for prediction %s from %s: bad answer time %q: %w", r.PredictionID, s.path, created, err)
	}
	if r.PredictedAt, err = parseTime(predicted); err != nil {
		return r, fmt.Errorf("read feedback for prediction %s from %s: bad prediction time %q: %w", r.PredictionID, s.path, predicted, err)
	}
	for _, f := range []struct {
		dst *[]string
		src string
	}{{&r.Predicted, pred}, {&r.CorrectTags, correct}, {&r.WrongTags, wrong}, {&r.MissingTags, miss}} {
		if err := json.Unmarshal([]byte(f.src), f.dst); err != nil {
			return r, fmt.Errorf("read feedback for prediction %s from %s: bad tag list %q: %w", r.PredictionID, s.path, f.src, err)
		}
	}
	return r, nil
}

// Ping implements [Store]: one read, no write.
func (s *SQLite) Ping(ctx context.Context) error {
	var one int
	if err := s.db.QueryRowContext(ctx, `SELECT 1 FROM feedback LIMIT 1`).Scan(&one); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("feedback store %s does not answer: %w: %w", s.path, ErrUnavailable, err)
	}
	return nil
}

// Close implements [Store]: it folds the write-ahead log back into the
// database file and closes it.
func (s *SQLite) Close() error {
	var errs []error
	if _, err := s.db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil && !strings.Contains(err.Error(), "database is closed") {
		errs = append(errs, fmt.Errorf("checkpoint feedback store %s: %w", s.path, err))
	}
	if err := s.db.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close feedback store %s: %w", s.path, err))
	}
	return errors.Join(errs...)
}

func list(tags []string) string {
	if tags == nil {
		tags = []string{}
	}
	b, _ := json.Marshal(tags) // a []string always marshals
	return string(b)
}

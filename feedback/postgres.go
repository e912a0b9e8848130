package feedback

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// postgresMigrations is the PostgreSQL schema, step by step. Applied steps
// are rows of remla_schema_version.
var postgresMigrations = []migration{
	{version: 1, name: "feedback table", sql: `
CREATE TABLE feedback (
	id            bigint GENERATED ALWAYS AS IDENTITY,
	prediction_id text PRIMARY KEY,
	created_at    timestamptz NOT NULL,
	predicted_at  timestamptz,
	title         text NOT NULL,
	predicted     text[] NOT NULL,
	happy         boolean NOT NULL,
	correct_tags  text[] NOT NULL,
	wrong_tags    text[] NOT NULL,
	missing_tags  text[] NOT NULL,
	model_version text NOT NULL,
	color         text NOT NULL
);
CREATE INDEX feedback_created_at ON feedback (created_at, id);
CREATE INDEX feedback_release ON feedback (model_version, color);`},
}

// newerButCompatible says whether every applied step past what this binary
// knows was marked compatible by the release that applied it, so this
// binary may keep using the store.
func newerButCompatible(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, known int) (bool, error) {
	var ok *bool
	err := q.QueryRow(ctx, `SELECT bool_and(compatible) FROM remla_schema_version WHERE version > $1`, known).Scan(&ok)
	return ok != nil && *ok, err
}

// migrationLock is the advisory lock key that serialises migrations, so
// that every replica of both colors can start at once on a new database.
const migrationLock = 0x72656d6c61 // "remla"

// pgUniqueViolation is SQLSTATE unique_violation.
const pgUniqueViolation = "23505"

// Postgres is a [Store] in a PostgreSQL database, shared by every replica
// of every color. It holds one connection pool; it is safe for concurrent
// use.
type Postgres struct {
	pool     *pgxpool.Pool
	name     string // host/database, for messages (never the password)
	readOnly bool

	migrated atomic.Bool
	mu       sync.Mutex // held while migrating
}

var _ Store = (*Postgres)(nil)

// OpenPostgres connects to the database dsn names and migrates its schema
// (or, read-only, checks it). The pool connects lazily: when the database
// cannot be reached, the store is still returned, with an error wrapping
// ErrUnavailable, and it migrates on its first successful use. Any other
// error (a bad DSN, a schema newer than this binary) returns no store.
func OpenPostgres(ctx context.Context, dsn string, readOnly bool) (*Postgres, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx masks the password in its parse errors.
		return nil, fmt.Errorf("open feedback store: bad PostgreSQL DSN: %w; use postgres://user:password@host:5432/database?sslmode=disable or host=... dbname=... pairs", err)
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		// Every request that answers runs one short INSERT; 16 covers the
		// load tests' 16 connections without queueing.
		cfg.MaxConns = 16
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	host := cfg.ConnConfig.Host
	if !strings.HasPrefix(host, "/") {
		host = net.JoinHostPort(host, fmt.Sprint(cfg.ConnConfig.Port))
	}
	s := &Postgres{name: fmt.Sprintf("PostgreSQL feedback store %s/%s", host, cfg.ConnConfig.Database), readOnly: readOnly}
	if s.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, fmt.Errorf("open %s: %w", s.name, err)
	}
	if err := s.ready(ctx); err != nil {
		if errors.Is(err, ErrUnavailable) {
			return s, err
		}
		s.pool.Close()
		return nil, err
	}
	return s, nil
}

// Name says which database this is, without credentials.
func (s *Postgres) Name() string { return s.name }

// ready migrates (or checks) the schema once per process.
func (s *Postgres) ready(ctx context.Context) error {
	if s.migrated.Load() {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.migrated.Load() {
		return nil
	}
	var err error
	if s.readOnly {
		err = s.check(ctx)
	} else {
		err = s.migrate(ctx)
	}
	if err != nil {
		return err
	}
	s.migrated.Store(true)
	return nil
}

func (s *Postgres) check(ctx context.Context) error {
	var have *int
	err := s.pool.QueryRow(ctx, `SELECT max(version) FROM remla_schema_version`).Scan(&have)
	if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) && pe.Code == "42P01" { // undefined_table
		return fmt.Errorf("%s holds no feedback schema: has remla-app ever run with this -feedback-dsn?", s.name)
	}
	if err != nil {
		return s.wrap("read the schema version of", err)
	}
	v := 0
	if have != nil {
		v = *have
	}
	if v > latest(postgresMigrations) {
		if ok, err := newerButCompatible(ctx, s.pool, latest(postgresMigrations)); err != nil {
			return s.wrap("read the schema version of", err)
		} else if ok {
			return nil
		}
	}
	return checkReadable(s.name, v, postgresMigrations)
}

func (s *Postgres) migrate(ctx context.Context) error {
	for {
		done, err := s.migrateStep(ctx)
		if err != nil || done {
			return err
		}
	}
}

// migrateStep applies the next pending migration in one transaction that
// holds the advisory lock, and says whether there was none left.
func (s *Postgres) migrateStep(ctx context.Context) (bool, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return false, s.wrap("migrate", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
		return false, s.wrap("lock the schema of", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS remla_schema_version (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		compatible boolean NOT NULL DEFAULT false,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return false, s.wrap("migrate", err)
	}
	var have int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM remla_schema_version`).Scan(&have); err != nil {
		return false, s.wrap("read the schema version of", err)
	}
	if have > latest(postgresMigrations) {
		// A newer release migrated the store. Go on only if it said that
		// binaries like this one still fit (a rollback to an older color).
		if ok, err := newerButCompatible(ctx, tx, latest(postgresMigrations)); err != nil {
			return false, s.wrap("read the schema version of", err)
		} else if ok {
			return true, tx.Commit(ctx)
		}
	}
	todo, err := pending(s.name, have, postgresMigrations)
	if err != nil {
		return false, err
	}
	if len(todo) == 0 {
		return true, tx.Commit(ctx)
	}
	m := todo[0]
	if _, err := tx.Exec(ctx, m.sql); err != nil {
		return false, s.wrap(fmt.Sprintf("migrate to version %d (%s)", m.version, m.name), err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO remla_schema_version (version, name, compatible) VALUES ($1, $2, $3)`, m.version, m.name, m.compatible); err != nil {
		return false, s.wrap("record the schema version of", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, s.wrap("migrate", err)
	}
	return false, nil
}

// wrap says what failed on which store, and marks errors that are about
// reaching the database (not about the statement) as ErrUnavailable.
func (s *Postgres) wrap(doing string, err error) error {
	if unavailable(err) {
		return fmt.Errorf("%s %s: %w: %w", doing, s.name, ErrUnavailable, err)
	}
	return fmt.Errorf("%s %s: %w", doing, s.name, err)
}

// unavailable says whether err means the database could not be reached or
// could not take the statement right now, as opposed to a statement the
// database refused for what it is.
func unavailable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code[:2] {
		case "08", // connection exception
			"53", // insufficient resources (disk full, too many connections)
			"57", // operator intervention (shutdown, cannot connect now)
			"58", // system error (I/O)
			"40": // transaction rollback (serialization, deadlock)
			return true
		}
		return false
	}
	// Everything else happened before or around the statement: dial and
	// TLS errors, timeouts, a closed pool, a broken connection.
	return true
}

// Save implements [Store]. The INSERT is one statement in its own
// transaction: it commits whole or not at all, and with PostgreSQL's
// default synchronous_commit it is on disk when Save returns.
func (s *Postgres) Save(ctx context.Context, r Record) error {
	r, err := prepare(r)
	if err != nil {
		return err
	}
	if err := s.ready(ctx); err != nil {
		return fmt.Errorf("save feedback for prediction %s: %w", r.PredictionID, err)
	}
	var predictedAt *time.Time
	if !r.PredictedAt.IsZero() {
		predictedAt = &r.PredictedAt
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO feedback
		(prediction_id, created_at, predicted_at, title, predicted, happy, correct_tags, wrong_tags, missing_tags, model_version, color)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		r.PredictionID, r.CreatedAt, predictedAt, r.Title, r.Predicted, r.Happy,
		r.CorrectTags, r.WrongTags, r.MissingTags, r.ModelVersion, r.Color)
	if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) && pe.Code == pgUniqueViolation {
		return fmt.Errorf("save feedback for prediction %s: %w", r.PredictionID, ErrDuplicate)
	}
	if err != nil {
		return s.wrap("save feedback for prediction "+r.PredictionID+" in", err)
	}
	return nil
}

const pgColumns = `prediction_id, created_at, predicted_at, title, predicted, happy,
	correct_tags, wrong_tags, missing_tags, model_version, color`

// Get implements [Store].
func (s *Postgres) Get(ctx context.Context, id string) (Record, error) {
	if err := s.ready(ctx); err != nil {
		return Record{}, err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+pgColumns+` FROM feedback WHERE prediction_id = $1`, id)
	if err != nil {
		return Record{}, s.wrap("read feedback for prediction "+id+" from", err)
	}
	r, err := pgx.CollectExactlyOneRow(rows, scanPG)
	if errors.Is(err, pgx.ErrNoRows) {
		return Record{}, fmt.Errorf("prediction %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Record{}, s.wrap("read feedback for prediction "+id+" from", err)
	}
	return r, nil
}

// Each implements [Store].
func (s *Postgres) Each(ctx context.Context, f Filter, fn func(Record) error) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	var (
		where []string
		args  []any
	)
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.ModelVersion != "" {
		add("model_version = $%d", f.ModelVersion)
	}
	if f.Color != "" {
		add("color = $%d", f.Color)
	}
	if !f.Since.IsZero() {
		add("created_at >= $%d", f.Since)
	}
	if !f.Until.IsZero() {
		add("created_at < $%d", f.Until)
	}
	q := `SELECT ` + pgColumns + ` FROM feedback`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.pool.Query(ctx, q+` ORDER BY created_at, id`, args...)
	if err != nil {
		return s.wrap("read feedback from", err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanPG(rows)
		if err != nil {
			return s.wrap("read feedback from", err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return s.wrap("read feedback from", err)
	}
	return nil
}

func scanPG(row pgx.CollectableRow) (Record, error) {
	var (
		r           Record
		predictedAt *time.Time
	)
	err := row.Scan(&r.PredictionID, &r.CreatedAt, &predictedAt, &r.Title, &r.Predicted, &r.Happy,
		&r.CorrectTags, &r.WrongTags, &r.MissingTags, &r.ModelVersion, &r.Color)
	r.CreatedAt = r.CreatedAt.UTC()
	if predictedAt != nil {
		r.PredictedAt = predictedAt.UTC()
	}
	return r, err
}

// Ping implements [Store]: a round trip on a pooled connection, no write.
func (s *Postgres) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return s.wrap("reach", err)
	}
	return s.ready(ctx)
}

// Close implements [Store]: it waits for the connections in use and
// closes them all. Every acknowledged Save had already committed.
func (s *Postgres) Close() error {
	s.pool.Close()
	return nil
}

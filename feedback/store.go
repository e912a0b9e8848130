package feedback

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrDuplicate is returned by [Store.Save] when the prediction already has
// feedback. The first answer is kept; a second one is refused.
var ErrDuplicate = errors.New("feedback for this prediction was already recorded")

// ErrNotFound is returned by [Store.Get] when a prediction has no feedback.
var ErrNotFound = errors.New("no feedback recorded for this prediction")

// ErrUnavailable wraps every error that means the store cannot be reached
// or cannot take the write right now (a database that is down, a full
// disk): the caller may retry later, and nothing was written.
var ErrUnavailable = errors.New("feedback store unavailable")

// ErrSchemaTooNew is returned when a store's schema was migrated by a newer
// release than this one. This binary refuses to touch it.
var ErrSchemaTooNew = errors.New("feedback store schema is newer than this binary knows")

// Store keeps feedback records durably. Every backend passes the same
// contract suite (contract_test.go).
type Store interface {
	// Save stores r and returns only once it is durable. It returns an
	// error wrapping ErrDuplicate when r.PredictionID already has a record,
	// and one wrapping ErrUnavailable when the store cannot take it; in
	// both cases nothing of r was written.
	Save(ctx context.Context, r Record) error
	// Get returns the record of a prediction, or an error wrapping
	// ErrNotFound.
	Get(ctx context.Context, predictionID string) (Record, error)
	// Each calls fn for every record that f selects, oldest answer first,
	// and stops at fn's first error.
	Each(ctx context.Context, f Filter, fn func(Record) error) error
	// Ping reports whether the store answers. It reads, never writes, so
	// frequent probes cost the database nothing durable.
	Ping(ctx context.Context) error
	// Close flushes everything to disk and releases the store.
	Close() error
}

// Filter selects records for export. The zero Filter selects everything.
type Filter struct {
	ModelVersion string    // only answers about this model version
	Color        string    // only answers about predictions this color made
	Since        time.Time // answers given at or after Since
	Until        time.Time // answers given before Until
}

// Match reports whether r passes f. Backends filter in their query; Match
// is the reference they are tested against.
func (f Filter) Match(r Record) bool {
	return (f.ModelVersion == "" || r.ModelVersion == f.ModelVersion) &&
		(f.Color == "" || r.Color == f.Color) &&
		(f.Since.IsZero() || !r.CreatedAt.Before(f.Since)) &&
		(f.Until.IsZero() || r.CreatedAt.Before(f.Until))
}

// Config says which store to open.
type Config struct {
	// DSN selects PostgreSQL (postgres://user:pass@host/db?sslmode=...,
	// or key=value pairs). Empty selects SQLite at Path.
	DSN string
	// Path is the SQLite file, used when DSN is empty.
	Path string
	// ReadOnly opens an existing store for reading (export): it never
	// creates or migrates a schema.
	ReadOnly bool
}

// Open opens the store cfg describes and brings its schema up to date
// (unless cfg.ReadOnly). A PostgreSQL store that cannot be reached yet is
// still returned, with an error wrapping ErrUnavailable: it migrates on
// its first successful use, so a server can start before its database.
func Open(ctx context.Context, cfg Config) (Store, error) {
	if strings.TrimSpace(cfg.DSN) != "" {
		return OpenPostgres(ctx, cfg.DSN, cfg.ReadOnly)
	}
	if cfg.ReadOnly {
		return OpenSQLiteReadOnly(ctx, cfg.Path)
	}
	return OpenSQLite(ctx, cfg.Path)
}

// prepare checks r and normalises what every backend stores the same way:
// times to the millisecond in UTC, empty (never nil) tag lists, the answer
// time defaulting to now.
func prepare(r Record) (Record, error) {
	if r.PredictionID == "" {
		return r, errors.New("save feedback: empty prediction id")
	}
	// PostgreSQL text cannot hold NUL; refuse it everywhere so that the
	// backends agree (the app never sends one).
	for _, l := range [][]string{{r.PredictionID, r.Title, r.ModelVersion, r.Color}, r.Predicted, r.CorrectTags, r.WrongTags, r.MissingTags} {
		for _, s := range l {
			if strings.IndexByte(s, 0) >= 0 {
				return r, fmt.Errorf("save feedback for prediction %q: a field holds a NUL character", r.PredictionID)
			}
		}
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = time.Now()
	}
	r.CreatedAt = r.CreatedAt.UTC().Truncate(time.Millisecond)
	if !r.PredictedAt.IsZero() {
		r.PredictedAt = r.PredictedAt.UTC().Truncate(time.Millisecond)
	}
	for _, l := range []*[]string{&r.Predicted, &r.CorrectTags, &r.WrongTags, &r.MissingTags} {
		if *l == nil {
			*l = []string{}
		}
	}
	return r, nil
}

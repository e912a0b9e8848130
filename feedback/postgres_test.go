package feedback

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/remla/tagger/test/testenv"
)

func TestPostgresContract(t *testing.T) {
	pg := testenv.Postgres(t)
	var n atomic.Int32
	testContract(t, func(t *testing.T) opener {
		dsn := pg.CreateDatabase(t, fmt.Sprint("contract", n.Add(1)))
		return func(t *testing.T) Store {
			s, err := OpenPostgres(context.Background(), dsn, false)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	})
}

// TestPostgresMigrations: replicas starting at once on an empty database
// migrate it once; a reader checks without migrating; a schema from a newer
// release is refused by writers and readers.
func TestPostgresMigrations(t *testing.T) {
	ctx := context.Background()
	pg := testenv.Postgres(t)
	dsn := pg.CreateDatabase(t, "migrations")

	if _, err := OpenPostgres(ctx, dsn, true); err == nil || !strings.Contains(err.Error(), "holds no feedback schema") {
		t.Fatalf("read-only open of an empty database: %v", err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			s, err := OpenPostgres(ctx, dsn, false)
			if err == nil {
				s.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent first open: %v", err)
		}
	}
	s, err := OpenPostgres(ctx, dsn, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var versions int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM remla_schema_version`).Scan(&versions); err != nil || versions != len(postgresMigrations) {
		t.Fatalf("%d schema versions recorded (%v), want %d", versions, err, len(postgresMigrations))
	}
	ro, err := OpenPostgres(ctx, dsn, true)
	if err != nil {
		t.Fatalf("read-only open of a current schema: %v", err)
	}
	ro.Close()

	// A newer release's additive step: this binary goes on, reads and
	// writes (a rollback to an older color).
	if _, err := s.pool.Exec(ctx, `ALTER TABLE feedback ADD COLUMN client text;
		INSERT INTO remla_schema_version (version, name, compatible) VALUES (98, 'a nullable column', true)`); err != nil {
		t.Fatal(err)
	}
	for _, readOnly := range []bool{false, true} {
		older, err := OpenPostgres(ctx, dsn, readOnly)
		if err != nil {
			t.Fatalf("open (read-only %v) of a newer, compatible schema: %v", readOnly, err)
		}
		if !readOnly {
			if err := older.Save(ctx, Record{PredictionID: "rollback", Title: "t"}); err != nil {
				t.Fatalf("save through a newer, compatible schema: %v", err)
			}
		}
		older.Close()
	}
	// One that is not compatible stops every binary that does not know it.
	if _, err := s.pool.Exec(ctx, `INSERT INTO remla_schema_version (version, name) VALUES (99, 'from the future')`); err != nil {
		t.Fatal(err)
	}
	for _, readOnly := range []bool{false, true} {
		_, err := OpenPostgres(ctx, dsn, readOnly)
		if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), "schema version 99") {
			t.Errorf("open (read-only %v) of schema 99: %v; want ErrSchemaTooNew", readOnly, err)
		}
	}
}

// TestPostgresOutage stops the database under an open store: saves fail
// as unavailable and write nothing, then succeed once it is back. A store
// opened while the database is down migrates when it comes up.
func TestPostgresOutage(t *testing.T) {
	ctx := context.Background()
	pg := testenv.Postgres(t)
	dsn := pg.DSN("remla")
	s, err := OpenPostgres(ctx, dsn, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Save(ctx, Record{PredictionID: "before", Title: "t"}); err != nil {
		t.Fatal(err)
	}
	pg.Stop(t)

	short, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := s.Save(short, Record{PredictionID: "during", Title: "t"}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Save with the database down = %v, want ErrUnavailable", err)
	}
	if err := s.Ping(short); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Ping with the database down = %v, want ErrUnavailable", err)
	}
	late, err := OpenPostgres(ctx, pg.DSN("fresh"), false)
	if !errors.Is(err, ErrUnavailable) || late == nil {
		t.Fatalf("open with the database down = %v, %v; want a store and ErrUnavailable", late, err)
	}
	defer late.Close()

	pg.Start(t)
	pg.CreateDatabase(t, "fresh")
	if err := s.Save(ctx, Record{PredictionID: "after", Title: "t"}); err != nil {
		t.Fatalf("Save after the database came back: %v", err)
	}
	if err := late.Save(ctx, Record{PredictionID: "x", Title: "t"}); err != nil {
		t.Fatalf("a store opened during the outage does not work once the database is up: %v", err)
	}
	var ids []string
	s.Each(ctx, Filter{}, func(r Record) error { ids = append(ids, r.PredictionID); return nil })
	if strings.Join(ids, ",") != "before,after" {
		t.Fatalf("stored %q, want before,after (the failed save wrote nothing)", ids)
	}
}

func TestPostgresBadDSN(t *testing.T) {
	_, err := OpenPostgres(context.Background(), "postgres://u:secret@[bad", false)
	if err == nil || strings.Contains(err.Error(), "secret") || !strings.Contains(err.Error(), "DSN") {
		t.Fatalf("bad DSN: %v; want an error naming the DSN without its password", err)
	}
}

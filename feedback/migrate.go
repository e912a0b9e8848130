package feedback

import (
	"fmt"
	"time"
)

// migration is one step of a backend's schema. Steps are numbered from 1
// without gaps, applied in order, each in its own transaction together with
// the new version number, and never edited once released: a change is a
// new step.
type migration struct {
	version int
	name    string
	sql     string
	// compatible marks an additive step (a nullable column, an index, a
	// new table) that binaries knowing only the versions before it can
	// keep reading and writing through. A blue-green rollback runs the
	// older color against the newer schema, so every step that can be
	// compatible should be; the others need the older color retired
	// first (docs/operations.md, "Schema migrations").
	compatible bool
}

// latest is the schema version a list of migrations leads to.
func latest(ms []migration) int { return ms[len(ms)-1].version }

// pending returns the migrations a store at version have still needs, or
// an error wrapping ErrSchemaTooNew when have is past what this binary
// knows: a newer release migrated the store, and an older one must not
// write to a schema it does not understand.
func pending(store string, have int, ms []migration) ([]migration, error) {
	if want := latest(ms); have > want {
		return nil, fmt.Errorf("%w: %s is at schema version %d, this binary knows versions up to %d; "+
			"a newer release migrated it in a way older ones cannot use, so run that release (or a later one) or point this one at another store",
			ErrSchemaTooNew, store, have, want)
	}
	for i, m := range ms {
		if m.version > have {
			return ms[i:], nil
		}
	}
	return nil, nil
}

// checkReadable is pending for a reader that never migrates: the schema
// must be exactly the one this binary reads.
func checkReadable(store string, have int, ms []migration) error {
	todo, err := pending(store, have, ms)
	if err != nil {
		return err
	}
	if len(todo) > 0 {
		return fmt.Errorf("%s is at schema version %d, older than the %d this binary reads: "+
			"start remla-app on it once (it migrates at start), then export again", store, have, latest(ms))
	}
	return nil
}

// timeLayout is how SQLite keeps times: fixed width in UTC, so that text
// order is time order and range filters can compare strings.
const timeLayout = "2006-01-02T15:04:05.000Z"

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		// Rows written before migration 2 normalised them.
		t, err = time.Parse(time.RFC3339Nano, s)
	}
	return t, err
}

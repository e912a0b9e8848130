// Package feedback keeps what users say about predicted tags.
//
// A [Store] records one [Record] per prediction: the user's yes/no answer to
// "Are you happy with these tags?", which predicted tags were right or wrong,
// which tags were missing, and which release (model version, color) made
// the prediction. Two backends implement it and pass one contract suite
// (contract_test.go):
//   - [SQLite] (sqlite.go): an embedded, pure-Go SQLite file
//     (modernc.org/sqlite) for one server, the default of `make run`;
//   - [Postgres] (postgres.go): a PostgreSQL database through one pgx
//     connection pool, shared by every replica of every color.
//
// Both commit a record durably before Save returns, enforce one answer per
// prediction with the table's primary key, and report a store they cannot
// reach as [ErrUnavailable] with nothing written. [Open] picks the backend
// from a [Config].
//
// Schemas are versioned (migrate.go): each backend has a list of numbered
// steps, applied in order at open, and a store whose schema is newer than
// the binary knows is refused ([ErrSchemaTooNew]) rather than written to.
//
// [ExportTSV] (export.go) turns the records that a [Filter] selects into a
// labelled TSV in the training data's format (title<TAB>['tag1', 'tag2'])
// so the model can be retrained on them; [Record.Labels] decides which tags
// a record vouches for.
package feedback

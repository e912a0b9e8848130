// Package feedback keeps what users say about predicted tags.
//
// A [Store] records one [Record] per prediction: the user's yes/no answer to
// "Are you happy with these tags?", which predicted tags were right or wrong,
// and which tags were missing. [SQLite] is the real store: an embedded,
// pure-Go SQLite database (modernc.org/sqlite) that commits every record to
// disk before Save returns, so an acknowledged answer survives a crash or a
// restart. [SQLite.ExportTSV] turns the records into a labelled TSV in the
// training data's format (title<TAB>['tag1', 'tag2']) so the model can be
// retrained on them; [Record.Labels] decides which tags a record vouches for.
package feedback

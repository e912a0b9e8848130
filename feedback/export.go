package feedback

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
)

// ExportStats says what an export wrote.
type ExportStats struct {
	Records int // records read
	Written int // labelled rows written
	Skipped int // records that said too little to label (see Record.Labels)
}

// ExportTSV writes every record of s that f selects and that yields labels
// as a row of the training data's TSV format, header included:
//
//	title	tags
//	Why odbc_exec always fail?	['php', 'sql']
func ExportTSV(ctx context.Context, s Store, f Filter, w io.Writer) (ExportStats, error) {
	var st ExportStats
	bw := bufio.NewWriter(w)
	if _, err := bw.WriteString("title\ttags\n"); err != nil {
		return st, fmt.Errorf("export feedback: %w", err)
	}
	err := s.Each(ctx, f, func(r Record) error {
		st.Records++
		row, ok := TSVRow(r)
		if !ok {
			st.Skipped++
			return nil
		}
		st.Written++
		_, err := bw.WriteString(row)
		return err
	})
	if err != nil {
		return st, fmt.Errorf("export feedback: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return st, fmt.Errorf("export feedback: %w", err)
	}
	return st, nil
}

// TSVRow formats r as one line of the training TSV, newline included, or
// returns false when r has no labels.
func TSVRow(r Record) (string, bool) {
	labels, ok := r.Labels()
	title := strings.Join(strings.Fields(r.Title), " ") // no tab or newline may break the row
	if !ok || title == "" {
		return "", false
	}
	var tags strings.Builder
	tags.WriteString("[")
	for i, t := range labels {
		if i > 0 {
			tags.WriteString(", ")
		}
		tags.WriteString(pyQuote(t))
	}
	tags.WriteString("]")
	return tsvField(title) + "\t" + tsvField(tags.String()) + "\n", true
}

// tsvField quotes a field the way pandas' to_csv(sep='\t') does, so that
// pandas.read_csv and the trainer read it back unchanged: a field with a
// double quote is put in double quotes, with its quotes doubled. (Tabs and
// newlines never reach here.)
func tsvField(s string) string {
	if !strings.Contains(s, `"`) {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// pyQuote quotes s the way Python's repr quotes a str, which is how the
// data set writes its tag lists.
func pyQuote(s string) string {
	q := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, c := range s {
		switch {
		case c == '\\':
			b.WriteString(`\\`)
		case c == rune(q):
			b.WriteByte('\\')
			b.WriteRune(c)
		default:
			b.WriteRune(c)
		}
	}
	b.WriteByte(q)
	return b.String()
}

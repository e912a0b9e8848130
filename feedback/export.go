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

// ExportTSV writes every record that yields labels as a row of the training
// data's TSV format, header included:
//
//	title	tags
//	Why odbc_exec always fail?	['php', 'sql']
func (s *SQLite) ExportTSV(ctx context.Context, w io.Writer) (ExportStats, error) {
	var st ExportStats
	bw := bufio.NewWriter(w)
	if _, err := bw.WriteString("title\ttags\n"); err != nil {
		return st, fmt.Errorf("export feedback: %w", err)
	}
	err := s.Each(ctx, func(r Record) error {
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
	var b strings.Builder
	b.WriteString(title)
	b.WriteString("\t[")
	for i, t := range labels {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(pyQuote(t))
	}
	b.WriteString("]\n")
	return b.String(), true
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

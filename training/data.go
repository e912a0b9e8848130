package training

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Dataset is a file of StackOverflow titles, with their tags when the file has a tags column.
type Dataset struct {
	Path   string
	Titles []string
	Tags   [][]string // nil for an unlabelled file (title column only)
	SHA256 string     // of the file's bytes as stored (compressed or not)
}

// LoadDataset reads a tab-separated file (.tsv or .tsv.gz) with a header line: `title` and
// optionally `tags`, the tags a Python list literal such as ['php', 'mysql']. Fields are parsed as
// pandas.read_csv(sep='\t') does: a field starting with a double quote is quoted, "" inside it
// is a quote. A malformed row fails the whole load with file:line and the reason; no row is skipped.
func LoadDataset(path string) (*Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load data: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	var r io.Reader = bufio.NewReader(io.TeeReader(f, h))
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("%s: not a gzip file (%v); give a .tsv or a gzip-compressed .tsv.gz", path, err)
		}
		defer gz.Close()
		r = gz
	}
	d, err := parseTSV(path, r)
	if err != nil {
		return nil, err
	}
	// Drain so the digest covers the whole file (gzip may stop before its trailer is hashed).
	if _, err := io.Copy(io.Discard, r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	d.SHA256 = hex.EncodeToString(h.Sum(nil))
	return d, nil
}

func parseTSV(path string, r io.Reader) (*Dataset, error) {
	cr := csv.NewReader(r)
	cr.Comma = '\t'
	cr.LazyQuotes = true
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty file; want a header line `title<TAB>tags` and one row per title", path)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: header: %w", path, err)
	}
	labelled := false
	switch {
	case len(head) == 1 && head[0] == "title":
	case len(head) == 2 && head[0] == "title" && head[1] == "tags":
		labelled = true
	default:
		return nil, fmt.Errorf("%s:1: header is %q; want `title<TAB>tags` (or `title` for unlabelled titles)", path, strings.Join(head, "\t"))
	}
	d := &Dataset{Path: path}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("%s:%d: %v", path, pe.Line, pe.Err)
			}
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(head) {
			return nil, fmt.Errorf("%s:%d: %d fields, want %d (a title with a tab must be quoted)", path, line, len(rec), len(head))
		}
		if strings.TrimSpace(rec[0]) == "" {
			return nil, fmt.Errorf("%s:%d: empty title", path, line)
		}
		d.Titles = append(d.Titles, rec[0])
		if labelled {
			tags, err := ParseTagList(rec[1])
			if err != nil {
				return nil, fmt.Errorf("%s:%d: tags %q: %w", path, line, rec[1], err)
			}
			d.Tags = append(d.Tags, tags)
		}
	}
	if len(d.Titles) == 0 {
		return nil, fmt.Errorf("%s: no rows after the header", path)
	}
	return d, nil
}

// ParseTagList parses a Python list literal of string literals, e.g. ['c#', "it's"], as
// ast.literal_eval would. Tags must be non-empty; repeats are an error.
func ParseTagList(s string) ([]string, error) {
	p := strings.TrimSpace(s)
	if len(p) < 2 || p[0] != '[' || p[len(p)-1] != ']' {
		return nil, errors.New("not a Python list: want ['tag', ...]")
	}
	p = p[1 : len(p)-1]
	var tags []string
	seen := map[string]bool{}
	for {
		p = strings.TrimLeft(p, " \t")
		if p == "" {
			break
		}
		q := p[0]
		if q != '\'' && q != '"' {
			return nil, fmt.Errorf("element %d is not a quoted string", len(tags)+1)
		}
		var b strings.Builder
		i := 1
		closed := false
		for i < len(p) {
			c := p[i]
			if c == '\\' && i+1 < len(p) {
				b.WriteByte(p[i+1])
				i += 2
				continue
			}
			i++
			if c == q {
				closed = true
				break
			}
			b.WriteByte(c)
		}
		if !closed {
			return nil, fmt.Errorf("element %d has no closing quote", len(tags)+1)
		}
		tag := b.String()
		if tag == "" {
			return nil, fmt.Errorf("element %d is an empty tag", len(tags)+1)
		}
		if seen[tag] {
			return nil, fmt.Errorf("tag %q is repeated", tag)
		}
		seen[tag] = true
		tags = append(tags, tag)
		p = strings.TrimLeft(p[i:], " \t")
		if p == "" {
			break
		}
		if p[0] != ',' {
			return nil, fmt.Errorf("want a comma after element %d", len(tags))
		}
		p = p[1:]
	}
	return tags, nil
}

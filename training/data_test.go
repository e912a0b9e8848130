package training

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	data := []byte(content)
	if strings.HasSuffix(name, ".gz") {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(data)
		zw.Close()
		data = b.Bytes()
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadDataset(t *testing.T) {
	content := "title\ttags\n" +
		"Why odbc_exec always fail?\t['php', 'sql']\n" +
		"\"Content-Type \"\"application/json\"\" not required in rails\"\t['ruby-on-rails', 'ruby']\n" +
		"null\t[\"it's\"]\n" +
		"NaN\t[]\n"
	for _, name := range []string{"d.tsv", "d.tsv.gz"} {
		t.Run(name, func(t *testing.T) {
			d, err := LoadDataset(writeFile(t, name, content))
			if err != nil {
				t.Fatal(err)
			}
			wantTitles := []string{"Why odbc_exec always fail?", `Content-Type "application/json" not required in rails`, "null", "NaN"}
			if !slices.Equal(d.Titles, wantTitles) {
				t.Fatalf("titles %q, want %q", d.Titles, wantTitles)
			}
			if !slices.Equal(d.Tags[1], []string{"ruby-on-rails", "ruby"}) || !slices.Equal(d.Tags[2], []string{"it's"}) || len(d.Tags[3]) != 0 {
				t.Fatalf("tags %q", d.Tags)
			}
			if len(d.SHA256) != 64 {
				t.Fatalf("sha256 %q", d.SHA256)
			}
		})
	}
	d, err := LoadDataset(writeFile(t, "test.tsv", "title\nA title only\n"))
	if err != nil || d.Tags != nil || len(d.Titles) != 1 {
		t.Fatalf("unlabelled file: %v %v", d, err)
	}
}

func TestLoadDatasetErrors(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"empty", "", "empty file"},
		{"bad header", "question\tlabels\nx\t['a']\n", ":1: header is"},
		{"missing tags field", "title\ttags\nok\t['a']\nno tags here\n", ":3: 1 fields, want 2"},
		{"extra field", "title\ttags\nok\t['a']\textra\n", ":2: 3 fields, want 2"},
		{"not a list", "title\ttags\nok\tphp, sql\n", ":2: tags \"php, sql\": not a Python list"},
		{"unquoted element", "title\ttags\nok\t[php]\n", ":2: tags \"[php]\": element 1 is not a quoted string"},
		{"unclosed quote", "title\ttags\nok\t['php]\n", "no closing quote"},
		{"missing comma", "title\ttags\nok\t['php' 'sql']\n", "want a comma after element 1"},
		{"repeated tag", "title\ttags\nok\t['php', 'php']\n", "tag \"php\" is repeated"},
		{"empty title", "title\ttags\n \t['php']\n", ":2: empty title"},
		{"no rows", "title\ttags\n", "no rows after the header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "bad.tsv", tt.content)
			_, err := LoadDataset(path)
			if err == nil {
				t.Fatal("accepted a malformed file")
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q should name the file and say %q", err, tt.want)
			}
		})
	}
	t.Run("not gzip", func(t *testing.T) {
		path := writeFile(t, "plain.tsv.gz", "")
		os.WriteFile(path, []byte("title\ttags\n"), 0o644)
		if _, err := LoadDataset(path); err == nil || !strings.Contains(err.Error(), "not a gzip file") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("missing", func(t *testing.T) {
		if _, err := LoadDataset(filepath.Join(t.TempDir(), "nope.tsv")); err == nil {
			t.Fatal("accepted a missing file")
		}
	})
}

// TestLoadShippedData checks the committed data files against data/README.md.
func TestLoadShippedData(t *testing.T) {
	for _, tt := range []struct {
		file string
		rows int
	}{{"train.tsv.gz", 20000}, {"validation.tsv.gz", 5000}, {"test.tsv.gz", 20000}} {
		d, err := LoadDataset(filepath.Join("..", "data", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Titles) != tt.rows {
			t.Errorf("%s: %d rows, want %d", tt.file, len(d.Titles), tt.rows)
		}
		if tt.file == "train.tsv.gz" {
			if n := len(tagList(d.Tags)); n != 100 {
				t.Errorf("train has %d distinct tags, want 100", n)
			}
		}
	}
}

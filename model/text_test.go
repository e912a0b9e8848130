package model

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/remla/tagger/test/testenv"
)

func TestPrepareText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SQL Server - any equivalent of Excel's CHOOSE function?", "sql server equivalent excels choose function"},
		{"How to free c++ memory vector<int> * arr?", "free c++ memory vectorint arr"},
		{"C# /(){}[]|@,; separated", "c# separated"},
		{"a/b", "b"}, // "a" is a stopword once the slash splits it off
		{"ÄÖÜ node.js ＡＢＣ", "nodejs"},
		{"The the THE", ""},
		{"tab\tand\nnewline", "tabandnewline"},  // tab and newline are deleted, not spaces
		{"KELVIN \u212aelvin", "kelvin kelvin"}, // U+212A KELVIN SIGN lowercases to k in Python
		{"\u0130stanbul", "istanbul"},           // U+0130 lowercases to i + combining dot
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := PrepareText(tt.in); got != tt.want {
				t.Errorf("PrepareText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestStopwordsAreNLTKs(t *testing.T) {
	if n := NumStopwords(); n != 179 {
		t.Errorf("%d stopwords, want NLTK's 179", n)
	}
	for _, w := range []string{"i", "the", "wouldn't", "y", "ma"} {
		if !IsStopword(w) {
			t.Errorf("%q should be a stopword", w)
		}
	}
	for _, w := range []string{"c#", "java", "sql"} {
		if IsStopword(w) {
			t.Errorf("%q should not be a stopword", w)
		}
	}
}

// TestPrepareTextGolden runs every title of data/text_prepare_tests.tsv through PrepareText and
// compares with testdata/text_prepare.golden, which was produced by the notebook's Python
// text_prepare (training/parity/sklearn_ref.py). -update rewrites it from the Go output.
func TestPrepareTextGolden(t *testing.T) {
	f, err := os.Open("../data/text_prepare_tests.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		got = append(got, PrepareText(sc.Text()))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 100 {
		t.Fatalf("read %d titles, want 100", len(got))
	}
	testenv.Golden(t, "testdata/text_prepare.golden", []byte(strings.Join(got, "\n")+"\n"))
}

package feedback

import (
	"slices"
	"testing"
)

func TestLabels(t *testing.T) {
	pred := []string{"php", "sql", "mysql"}
	tests := []struct {
		name string
		r    Record
		want []string
		ok   bool
	}{
		{"happy, no marks: all predicted", Record{Predicted: pred, Happy: true}, pred, true},
		{"happy with missing", Record{Predicted: pred, Happy: true, MissingTags: []string{"pdo"}}, []string{"php", "sql", "mysql", "pdo"}, true},
		{"unhappy, no marks: unlabelled", Record{Predicted: pred}, nil, false},
		{"unhappy, wrong marked", Record{Predicted: pred, WrongTags: []string{"sql"}}, []string{"php", "mysql"}, true},
		{"correct marks win over the rest", Record{Predicted: pred, CorrectTags: []string{"mysql"}, MissingTags: []string{"pdo"}}, []string{"mysql", "pdo"}, true},
		{"unhappy, only missing", Record{Predicted: nil, MissingTags: []string{"c#", "c#"}}, []string{"c#"}, true},
		{"everything wrong, nothing missing", Record{Predicted: []string{"php"}, WrongTags: []string{"php"}}, nil, false},
		{"nothing predicted, happy", Record{Happy: true}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.r.Labels()
			if ok != tt.ok || !slices.Equal(got, tt.want) {
				t.Fatalf("Labels() = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestTSVRow(t *testing.T) {
	tests := []struct {
		name string
		r    Record
		want string
		ok   bool
	}{
		{"data set format", Record{Title: "Why odbc_exec always fail?", Predicted: []string{"php", "sql"}, Happy: true}, "Why odbc_exec always fail?\t['php', 'sql']\n", true},
		{"tabs and newlines in title", Record{Title: " a\tb\nc ", Predicted: []string{"c++"}, Happy: true}, "a b c\t['c++']\n", true},
		{"quote in tag", Record{Title: "x", MissingTags: []string{"it's", `a\b`}}, "x\t\"[\"\"it's\"\", 'a\\\\b']\"\n", true},
		{"quotes in title", Record{Title: `"Hello" says "world"`, Predicted: []string{"c"}, Happy: true}, "\"\"\"Hello\"\" says \"\"world\"\"\"\t['c']\n", true},
		{"blank title", Record{Title: " \t", Predicted: []string{"php"}, Happy: true}, "", false},
		{"no labels", Record{Title: "x", Predicted: []string{"php"}}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := TSVRow(tt.r)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("TSVRow() = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

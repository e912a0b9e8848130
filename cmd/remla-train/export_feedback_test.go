package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/remla/tagger/feedback"
	"github.com/remla/tagger/training"
)

func TestExportFeedback(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "feedback.db")
	s, err := feedback.OpenSQLite(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	for i, r := range []feedback.Record{
		{PredictionID: "a", Title: "Why odbc_exec always fail?", Predicted: []string{"php", "sql"}, Happy: true},
		{PredictionID: "b", Title: "no marks, unhappy", Predicted: []string{"java"}},
		{PredictionID: "c", Title: "Sort a vector", Predicted: []string{"c#"}, WrongTags: []string{"c#"}, MissingTags: []string{"c++"}},
		{PredictionID: "d", Title: `"Hello" in C# with a "quote" inside`, Predicted: []string{"c#", ".net"}, Happy: true},
	} {
		r.CreatedAt = at.Add(time.Duration(i) * time.Second)
		if err := s.Save(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	// The server may still be running: export while the writer is open.
	out := filepath.Join(dir, "feedback.tsv")
	if err := runExportFeedback(ctx, []string{"-db", db, "-out", out}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want := "title\ttags\nWhy odbc_exec always fail?\t['php', 'sql']\nSort a vector\t['c++']\n" +
		"\"\"\"Hello\"\" in C# with a \"\"quote\"\" inside\"\t['c#', '.net']\n"
	if string(got) != want {
		t.Fatalf("export:\n%q\nwant\n%q", got, want)
	}

	// The trainer reads the export back as it reads the data set.
	ds, err := training.LoadDataset(out)
	if err != nil {
		t.Fatalf("the trainer cannot read the export: %v", err)
	}
	wantTitles := []string{"Why odbc_exec always fail?", "Sort a vector", `"Hello" in C# with a "quote" inside`}
	wantTags := [][]string{{"php", "sql"}, {"c++"}, {"c#", ".net"}}
	if !slices.Equal(ds.Titles, wantTitles) || len(ds.Tags) != len(wantTags) {
		t.Fatalf("trainer read titles %q, tags %q", ds.Titles, ds.Tags)
	}
	for i := range wantTags {
		if !slices.Equal(ds.Tags[i], wantTags[i]) {
			t.Fatalf("trainer read tags %q for %q, want %q", ds.Tags[i], ds.Titles[i], wantTags[i])
		}
	}

	for _, tt := range []struct {
		name string
		args []string
		says string
	}{
		{"missing database", []string{"-db", filepath.Join(dir, "none.db")}, "-feedback-db"},
		{"stray argument", []string{"-db", db, "extra"}, "unexpected argument"},
		{"unwritable output", []string{"-db", db, "-out", filepath.Join(dir, "no", "such", "dir.tsv")}, "create"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := runExportFeedback(ctx, tt.args)
			if err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("err = %v; want one saying %q", err, tt.says)
			}
		})
	}
}

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/remla/tagger/feedback"
	"github.com/remla/tagger/test/testenv"
	"github.com/remla/tagger/training"
)

var exportAt = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)

// exportRecords are answers from two releases over three days.
var exportRecords = []feedback.Record{
	{PredictionID: "a", Title: "Why odbc_exec always fail?", Predicted: []string{"php", "sql"}, Happy: true, ModelVersion: "v1", Color: "blue"},
	{PredictionID: "b", Title: "no marks, unhappy", Predicted: []string{"java"}, ModelVersion: "v1", Color: "blue"},
	{PredictionID: "c", Title: "Sort a vector", Predicted: []string{"c#"}, WrongTags: []string{"c#"}, MissingTags: []string{"c++"}, ModelVersion: "v2", Color: "green"},
	{PredictionID: "d", Title: `"Hello" in C# with a "quote" inside`, Predicted: []string{"c#", ".net"}, Happy: true, ModelVersion: "v2", Color: "green"},
}

// runExportFeedback runs export-feedback with args in-process, on a fresh
// command tree, and returns its error.
func runExportFeedback(ctx context.Context, args []string) error {
	root := newRootCmd()
	root.SetArgs(append([]string{"export-feedback"}, args...))
	root.SetOut(io.Discard)
	root.SetErr(io.Discard)
	return root.ExecuteContext(ctx)
}

func fill(t *testing.T, s feedback.Store) {
	t.Helper()
	for i, r := range exportRecords {
		r.CreatedAt = exportAt.Add(time.Duration(i) * 24 * time.Hour)
		if err := s.Save(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
}

const (
	rowA = "Why odbc_exec always fail?\t['php', 'sql']\n"
	rowC = "Sort a vector\t['c++']\n"
	rowD = "\"\"\"Hello\"\" in C# with a \"\"quote\"\" inside\"\t['c#', '.net']\n"
)

// checkExports runs the filters against one store.
func checkExports(t *testing.T, source []string) {
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"everything", nil, rowA + rowC + rowD},
		{"model version", []string{"--model-version", "v2"}, rowC + rowD},
		{"color", []string{"--color", "blue"}, rowA},
		{"since a date", []string{"--since", "2026-11-27"}, rowC + rowD},
		{"time range", []string{"--since", "2026-11-26T12:00:00Z", "--until", "2026-11-29T00:00:00Z"}, rowC},
		{"nothing matches", []string{"--color", "green", "--model-version", "v1"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "feedback.tsv")
			if err := runExportFeedback(ctx, append(append(slices.Clone(source), tt.args...), "--out", out)); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if want := "title\ttags\n" + tt.want; string(got) != want {
				t.Fatalf("export:\n%q\nwant\n%q", got, want)
			}
		})
	}
}

func TestExportFeedbackSQLite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "feedback.db")
	s, err := feedback.OpenSQLite(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fill(t, s)
	// The server may still be running: export while the writer is open.
	checkExports(t, []string{"--db", db})

	// The trainer reads the export back as it reads the data set.
	out := filepath.Join(dir, "feedback.tsv")
	if err := runExportFeedback(ctx, []string{"--db", db, "--out", out}); err != nil {
		t.Fatal(err)
	}
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
		{"missing database", []string{"--db", filepath.Join(dir, "none.db")}, "-feedback-db"},
		{"stray argument", []string{"--db", db, "extra"}, "unexpected argument"},
		{"unwritable output", []string{"--db", db, "--out", filepath.Join(dir, "no", "such", "dir.tsv")}, "create"},
		{"bad time", []string{"--db", db, "--since", "yesterday"}, "RFC 3339"},
		{"empty range", []string{"--db", db, "--since", "2026-11-28", "--until", "2026-11-27"}, "not before"},
		{"unreachable PostgreSQL", []string{"--dsn", "host=" + dir + " port=1 user=x dbname=x connect_timeout=2"}, "unavailable"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := runExportFeedback(ctx, tt.args)
			if err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("err = %v; want one saying %q", err, tt.says)
			}
		})
	}
}

func TestExportFeedbackPostgres(t *testing.T) {
	pg := testenv.Postgres(t)
	dsn := pg.DSN("remla")
	s, err := feedback.OpenPostgres(context.Background(), dsn, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fill(t, s)
	checkExports(t, []string{"--dsn", dsn})
	t.Setenv("REMLA_FEEDBACK_DSN", dsn) // as remla-app reads it
	out := filepath.Join(t.TempDir(), "env.tsv")
	if err := runExportFeedback(context.Background(), []string{"--out", out}); err != nil {
		t.Fatalf("export with REMLA_FEEDBACK_DSN: %v", err)
	}
}

// TestRetrainLoop is the README's loop: answers are stored, exported, and
// a model trained with --extra learns what they say. The answers teach a
// word the data set never uses ("zorblaxify") as a ruby title.
func TestRetrainLoop(t *testing.T) {
	ctx := context.Background()
	bin := testenv.Binary(t, "remla-train")
	data := smallData(t, 1000)
	db := filepath.Join(t.TempDir(), "feedback.db")
	s, err := feedback.OpenSQLite(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		err := s.Save(ctx, feedback.Record{PredictionID: fmt.Sprint("z", i), Title: fmt.Sprintf("How to zorblaxify a list %d", i),
			Predicted: []string{"python"}, WrongTags: []string{"python"}, MissingTags: []string{"ruby"}, ModelVersion: "v1", Color: "blue"})
		if err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	tsv := filepath.Join(t.TempDir(), "feedback.tsv")
	if _, stderr, err := run(t, bin, "export-feedback", "--db", db, "--out", tsv); err != nil || !strings.Contains(stderr, `"rows":40`) {
		t.Fatalf("export: %v %s", err, stderr)
	}
	out := filepath.Join(t.TempDir(), "models")
	_, stderr, err := run(t, bin, "train", "--data", data, "--extra", tsv, "--out", out)
	if err != nil || !strings.Contains(stderr, `"msg":"added labelled titles","titles":40,"file":"`+tsv) {
		t.Fatalf("train --extra: %v\n%s", err, stderr)
	}
	stdout, stderr, err := run(t, bin, "predict", "--model", filepath.Join(out, "latest.model"), "How do I zorblaxify my code")
	if err != nil || !strings.Contains(stdout, "ruby") {
		t.Fatalf("the retrained model does not predict what the answers taught: %v\n%s%s", err, stdout, stderr)
	}
	if _, stderr, err := run(t, bin, "train", "--data", data, "--extra", filepath.Join(data, "missing.tsv"), "--out", out); err == nil || !strings.Contains(stderr, "--extra") {
		t.Fatalf("a missing --extra file: %v %s", err, stderr)
	}
}

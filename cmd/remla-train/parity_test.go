package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/remla/tagger/app"
	"github.com/remla/tagger/feedback"
	"github.com/remla/tagger/model"
	"github.com/remla/tagger/test/testenv"
	"github.com/remla/tagger/training"
)

// TestEvaluateAndPredictMatchServing: on all 5,000 validation titles, the tags and scores that
// `evaluate --predictions` and `predict --json` print are exactly what the server's
// POST /api/v1/predict answers, bit for bit (int8 weights, the tuned rule: the default preset).
func TestEvaluateAndPredictMatchServing(t *testing.T) {
	bin := testenv.Binary(t, "remla-train")
	data := smallData(t, 1500)
	out := filepath.Join(t.TempDir(), "models")
	if _, stderr, err := run(t, bin, "train", "--data", data, "--out", out); err != nil {
		t.Fatalf("train: %v\n%s", err, stderr)
	}
	latest := filepath.Join(out, "latest.model")
	validation := filepath.Join("..", "..", "data", "validation.tsv.gz")
	d, err := training.LoadDataset(validation)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Titles) != 5000 {
		t.Fatalf("%s has %d titles, want 5000", validation, len(d.Titles))
	}

	evalFile := filepath.Join(t.TempDir(), "predictions.jsonl")
	if _, stderr, err := run(t, bin, "evaluate", "--model", latest, "--data", validation, "--json", "--predictions", evalFile); err != nil {
		t.Fatalf("evaluate: %v\n%s", err, stderr)
	}
	evaluated := readLines(t, mustOpen(t, evalFile))

	cmd := exec.Command(bin, "predict", "--model", latest, "--json", "-")
	cmd.Stdin = strings.NewReader(strings.Join(d.Titles, "\n") + "\n")
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("predict --json: %v", err)
	}
	predicted := readLines(t, strings.NewReader(string(stdout)))

	m, err := model.Load(latest)
	if err != nil {
		t.Fatal(err)
	}
	base := servingAPI(t, m)
	tagged := 0
	for i, title := range d.Titles {
		served := servedTags(t, base, title)
		for name, got := range map[string][]predictionLine{"evaluate --predictions": evaluated, "predict --json": predicted} {
			if i >= len(got) {
				t.Fatalf("%s printed %d lines for %d titles", name, len(got), len(d.Titles))
			}
			if got[i].Title != title || !slices.Equal(got[i].Tags, served) {
				t.Fatalf("title %d %q: %s says %v, the server %v", i, title, name, got[i].Tags, served)
			}
		}
		if len(served) > 0 {
			tagged++
		}
	}
	if len(evaluated) != len(d.Titles) || len(predicted) != len(d.Titles) {
		t.Fatalf("evaluate printed %d lines, predict %d, for %d titles", len(evaluated), len(predicted), len(d.Titles))
	}
	if tagged < len(d.Titles)/2 {
		t.Fatalf("only %d of %d titles got a tag: the comparison says little", tagged, len(d.Titles))
	}
}

// servingAPI serves m as remla-app does, on httptest with a real SQLite store.
func servingAPI(t *testing.T, m *model.Model) string {
	t.Helper()
	store, err := feedback.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "feedback.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	s, err := app.New(app.Config{Predictor: m, Store: store, SigningKeys: [][]byte{[]byte("parity test signing key, at least 32 bytes long")},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return hs.URL
}

func servedTags(t *testing.T, base, title string) []model.TagScore {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"title": title})
	resp, err := http.Post(base+"/api/v1/predict", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Tags []model.TagScore `json:"tags"`
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("POST /api/v1/predict %q: %s %s", title, resp.Status, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	return got.Tags
}

func mustOpen(t *testing.T, path string) io.Reader {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func readLines(t *testing.T, r io.Reader) []predictionLine {
	t.Helper()
	var out []predictionLine
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l predictionLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %d %q: %v", len(out)+1, sc.Text(), err)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

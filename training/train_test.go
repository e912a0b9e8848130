package training

import (
	"bytes"
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/remla/tagger/model"
)

func loadShipped(t testing.TB, name string) *Dataset {
	t.Helper()
	d, err := LoadDataset(filepath.Join("..", "data", name))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func head(d *Dataset, n int) *Dataset {
	return &Dataset{Path: d.Path, Titles: d.Titles[:n], Tags: d.Tags[:n], SHA256: d.SHA256}
}

// TestTrainingIsDeterministic trains the default configuration twice, with different numbers of
// workers, and expects byte-identical model files when the creation time is the same.
func TestTrainingIsDeterministic(t *testing.T) {
	train := head(loadShipped(t, "train.tsv.gz"), 1500)
	cfg := Presets["default"]
	created := time.Date(2026, 11, 26, 1, 42, 0, 0, time.UTC)
	var files [][]byte
	var versions []string
	for _, opt := range []Options{{Workers: 1, Created: created}, {Workers: 3, Created: created}, {Workers: 2, Created: created.Add(time.Hour)}} {
		m, _, err := Train(context.Background(), cfg, train, opt)
		if err != nil {
			t.Fatal(err)
		}
		b, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, b)
		versions = append(versions, m.Version())
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Fatal("same data, config, seed and creation time gave different model files")
	}
	if bytes.Equal(files[0], files[2]) {
		t.Fatal("a different creation time should change the file (it is stored)")
	}
	if versions[0] != "20261126T0142Z"+versions[0][len("20261126T0142Z"):] || !strings.HasSuffix(versions[2], versions[0][len("20261126T0142Z"):]) {
		t.Fatalf("versions %v: the digest part should not depend on the creation time", versions)
	}
}

// TestReferenceFidelity reproduces the notebook's scikit-learn 1.2.1 scores (liblinear,
// random_state=0) on validation.tsv within 0.01.
func TestReferenceFidelity(t *testing.T) {
	if testing.Short() {
		t.Skip("fits five reference configurations on the full training file")
	}
	train, val := loadShipped(t, "train.tsv.gz"), loadShipped(t, "validation.tsv.gz")
	tests := []struct {
		config   string
		acc, f1w float64
	}{
		{"bow-l1-1", 0.3394, 0.6291},
		{"tfidf-l1-1", 0.3242, 0.6156},
		{"bow-l2-1", 0.3136, 0.6058},
		{"tfidf-l2-1", 0.2544, 0.5204},
		{"tfidf-l2-10", 0.3290, 0.6154},
	}
	for _, tt := range tests {
		t.Run(tt.config, func(t *testing.T) {
			m, _, err := Train(context.Background(), Presets[tt.config], train, Options{})
			if err != nil {
				t.Fatal(err)
			}
			ev, err := EvaluateModel(m, val)
			if err != nil {
				t.Fatal(err)
			}
			got := ev.Metrics
			t.Logf("%s: accuracy %.4f (sklearn %.4f), F1 weighted %.4f (sklearn %.4f)", tt.config, got.Accuracy, tt.acc, got.F1Weighted, tt.f1w)
			if math.Abs(got.Accuracy-tt.acc) > 0.01 || math.Abs(got.F1Weighted-tt.f1w) > 0.01 {
				t.Fatalf("%s: accuracy %.4f / F1 weighted %.4f, want within 0.01 of %.4f / %.4f", tt.config, got.Accuracy, got.F1Weighted, tt.acc, tt.f1w)
			}
		})
	}
}

func TestTrainRefusesBadConfig(t *testing.T) {
	train := head(loadShipped(t, "train.tsv.gz"), 200)
	bad := []func(c *Config){
		func(c *Config) { c.Solver.Penalty = "elasticnet" },
		func(c *Config) { c.Solver.C = 0 },
		func(c *Config) { c.Rule.Kind = "magic" },
		func(c *Config) { c.Rule.Holdout = 1.5 },
		func(c *Config) { c.Features.Kind = "lda" },
	}
	for i, edit := range bad {
		cfg := Presets["default"]
		edit(&cfg)
		if _, _, err := Train(context.Background(), cfg, train, Options{}); err == nil {
			t.Errorf("bad config %d accepted", i)
		}
	}
	unlabelled := &Dataset{Path: "test.tsv", Titles: []string{"x"}}
	if _, _, err := Train(context.Background(), Presets["default"], unlabelled, Options{}); err == nil {
		t.Error("trained on an unlabelled file")
	}
	_ = model.CodeVersion
}

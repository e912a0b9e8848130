package clustertest

import (
	"path/filepath"
	"testing"

	"github.com/remla/tagger/model"
	"github.com/remla/tagger/training"
)

// TestWorseModel: the Worse variant's model scores lower F1 weighted on
// data/validation.tsv.gz than the test model by more than the quality
// gate's default margin, so the gate has something real to refuse.
func TestWorseModel(t *testing.T) {
	val, err := training.LoadDataset(filepath.Join(repoRoot(), "data", "validation.tsv.gz"))
	if err != nil {
		t.Fatal(err)
	}
	score := func(path string) float64 {
		m, err := model.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := training.EvaluateModel(m, val)
		if err != nil {
			t.Fatal(err)
		}
		return ev.Metrics.F1Weighted
	}
	good, worse := score(variantModel(t, Good)), score(variantModel(t, Worse))
	t.Logf("F1 weighted on validation: good %.4f, worse %.4f", good, worse)
	if worse >= good-0.01 {
		t.Fatalf("the worse model (%.4f) is not worse than the good one (%.4f) by more than 0.01", worse, good)
	}
}

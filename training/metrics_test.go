package training

import (
	"math"
	"testing"
)

func TestRankingMetrics(t *testing.T) {
	// scikit-learn: average_precision_score([0,0,1,1],[.1,.4,.35,.8]) = 0.8333…,
	// roc_auc_score(...) = 0.75.
	s := []float64{0.1, 0.4, 0.35, 0.8}
	y := []bool{false, false, true, true}
	if ap := AveragePrecision(s, y); math.Abs(ap-5.0/6) > 1e-12 {
		t.Errorf("AP = %v, want 0.8333", ap)
	}
	if auc := ROCAUC(s, y); math.Abs(auc-0.75) > 1e-12 {
		t.Errorf("AUC = %v, want 0.75", auc)
	}
	// Ties: all scores equal → AUC 0.5, AP = prevalence.
	tied := []float64{1, 1, 1, 1}
	if auc := ROCAUC(tied, y); auc != 0.5 {
		t.Errorf("tied AUC = %v, want 0.5", auc)
	}
	if ap := AveragePrecision(tied, y); ap != 0.5 {
		t.Errorf("tied AP = %v, want 0.5", ap)
	}
}

func TestEvaluate(t *testing.T) {
	tags := []string{"a", "b", "c"}
	truth := [][]int{{0}, {0, 1}, {2}, {1}}
	pred := [][]int{{0}, {0}, {}, {1, 2}}
	m := Evaluate(tags, truth, pred, nil)
	// exact: row 0 only → 0.25. Per tag: a tp2 → F1 1; b tp1 fn1 → 2/3; c fp1 fn1 → 0.
	if m.Accuracy != 0.25 {
		t.Errorf("accuracy %v", m.Accuracy)
	}
	if want := (2*1 + 2*(2.0/3) + 1*0) / 5; math.Abs(m.F1Weighted-want) > 1e-12 {
		t.Errorf("F1 weighted %v, want %v", m.F1Weighted, want)
	}
	if want := (1 + 2.0/3) / 3; math.Abs(m.F1Macro-want) > 1e-12 {
		t.Errorf("F1 macro %v, want %v", m.F1Macro, want)
	}
	// micro: tp 3, fp 1, fn 2 → 6/9.
	if math.Abs(m.F1Micro-6.0/9) > 1e-12 {
		t.Errorf("F1 micro %v", m.F1Micro)
	}
	if m.NoTag != 1 || m.MeanTags != 1 || m.MeanTrueTags != 1.25 {
		t.Errorf("counts: no tag %d, mean %v, true mean %v", m.NoTag, m.MeanTags, m.MeanTrueTags)
	}
}

func TestMicroPRCurve(t *testing.T) {
	truth := [][]int{{0}, {1}, {0, 1}}
	scores := [][]float64{{0.9, 0.2}, {0.3, 0.8}, {0.6, 0.1}}
	// Pairs by score: .9 T, .8 T, .6 T, .3 F, .2 F, .1 T → 4 positives.
	c := MicroPRCurve(truth, scores, 100)
	if len(c) != 6 {
		t.Fatalf("%d points, want 6", len(c))
	}
	want := []PRPoint{{0.9, 1, 0.25}, {0.8, 1, 0.5}, {0.6, 1, 0.75}, {0.3, 0.75, 0.75}, {0.2, 0.6, 0.75}, {0.1, 4.0 / 6, 1}}
	for i := range want {
		if math.Abs(c[i].Precision-want[i].Precision) > 1e-12 || c[i].Recall != want[i].Recall || c[i].Threshold != want[i].Threshold {
			t.Fatalf("point %d = %+v, want %+v", i, c[i], want[i])
		}
	}
}

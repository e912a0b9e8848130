package training

import (
	"math/rand/v2"
	"testing"

	"github.com/remla/tagger/model"
)

// TestTuneRule builds held-out probabilities where tag 0's positives score about 0.3 and its
// negatives about 0.1, and tag 1 is well calibrated: the tuned threshold of tag 0 must fall
// between the two, and the tuned rule must beat the 0.5 rule on F1 without losing exact matches.
func TestTuneRule(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tags := []string{"under-confident", "calibrated"}
	var p [][]float64
	var truth [][]int
	for i := 0; i < 2000; i++ {
		var row []float64
		var ts []int
		has0, has1 := rng.Float64() < 0.5, rng.Float64() < 0.3
		if has0 {
			row = append(row, 0.3+0.05*rng.Float64())
			ts = append(ts, 0)
		} else {
			row = append(row, 0.1+0.05*rng.Float64())
		}
		if has1 {
			row = append(row, 0.8+0.1*rng.Float64())
			ts = append(ts, 1)
		} else {
			row = append(row, 0.1*rng.Float64())
		}
		p = append(p, row)
		truth = append(truth, ts)
	}
	z := logits(p)
	rule, err := TuneRule(tags, z, truth, RuleConfig{Kind: "tuned", Shrink: 10})
	if err != nil {
		t.Fatal(err)
	}
	if th := rule.Thresholds[0]; th < 0.15 || th > 0.3 {
		t.Errorf("threshold of the under-confident tag %v, want in [0.15, 0.3]", th)
	}
	mt := Evaluate(tags, truth, decide(model.NewDecision(rule), z), p)
	mf := Evaluate(tags, truth, decide(model.NewDecision(model.FixedRule(2)), z), p)
	if mt.F1Weighted <= mf.F1Weighted || mt.Accuracy < mf.Accuracy {
		t.Errorf("tuned rule F1 %.3f accuracy %.3f vs 0.5 rule %.3f / %.3f", mt.F1Weighted, mt.Accuracy, mf.F1Weighted, mf.Accuracy)
	}
	if _, err := TuneRule(tags, nil, nil, RuleConfig{}); err == nil {
		t.Error("tuned on no rows")
	}
}

func logits(p [][]float64) [][]float64 {
	z := make([][]float64, len(p))
	for i, row := range p {
		z[i] = make([]float64, len(row))
		for t, pt := range row {
			z[i][t] = model.Logit(pt)
		}
	}
	return z
}

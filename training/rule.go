package training

import (
	"fmt"
	"math"

	"github.com/remla/tagger/model"
)

// RuleConfig says how the decision rule is chosen.
type RuleConfig struct {
	// Kind is "fixed" (the notebook's: probability ≥ 0.5) or "tuned" (per-tag thresholds and the
	// top-tag and relative settings chosen on a held-out slice of the training file).
	Kind string `json:"kind"`
	// Holdout is the fraction of the training rows held out from fitting to tune the rule on.
	Holdout float64 `json:"holdout"`
	// Folds is how many of the 1/Holdout folds are held out in turn (each from its own fit on the
	// rest), so the rule is tuned on Folds×Holdout of the training rows. 0 means 1.
	Folds int `json:"folds,omitempty"`
	// Shrink pulls each tag's threshold towards the global one by Shrink/(Shrink+positives), so a
	// tag with few held-out examples does not get a threshold fitted to noise.
	Shrink float64 `json:"shrink"`
	// AccuracyMargin: the tuned rule maximises F1 weighted among the settings whose held-out subset
	// accuracy is at least the 0.5 rule's plus this margin, so F1 is not bought with exact matches.
	AccuracyMargin float64 `json:"accuracy_margin"`
}

// thresholdGrid is the candidate probability thresholds.
var thresholdGrid = func() []float64 {
	var g []float64
	for t := 0.05; t < 0.951; t += 0.01 {
		g = append(g, math.Round(t*100)/100)
	}
	return g
}()

// TuneRule chooses a decision rule from held-out logits z (rows × tags, the scores before the
// sigmoid, as the serving weights give them) and true tags. Every candidate is applied with
// model.Decision, the function that serves.
//
//  1. a global threshold maximising micro F1, then per-tag thresholds maximising each tag's F1,
//     shrunk towards the global one for tags with few positives;
//  2. the top tag is always emitted when its probability clears Floor, and another tag needs at
//     least Relative × the top probability: Floor and Relative are chosen on a grid to maximise
//     F1 weighted among the settings that keep subset accuracy at least the 0.5 rule's plus
//     AccuracyMargin (per-tag thresholds alone buy F1 with extra tags that break exact matches).
//     If no setting keeps it, the one with the best F1 weighted + accuracy is taken.
func TuneRule(tags []string, z [][]float64, truth [][]int, cfg RuleConfig) (model.Rule, error) {
	nt := len(tags)
	if len(z) == 0 {
		return model.Rule{}, fmt.Errorf("no held-out rows to tune the decision rule on")
	}
	has := make([][]bool, nt)
	pos := make([]int, nt)
	for t := range has {
		has[t] = make([]bool, len(z))
	}
	for i, ts := range truth {
		for _, t := range ts {
			has[t][i] = true
			pos[t]++
		}
	}
	// Global threshold by micro F1.
	global, best := 0.5, -1.0
	for _, pth := range thresholdGrid {
		th := model.Logit(pth)
		var tp, fp, fn int
		for i, row := range z {
			for t, zt := range row {
				switch {
				case zt >= th && has[t][i]:
					tp++
				case zt >= th:
					fp++
				case has[t][i]:
					fn++
				}
			}
		}
		if f := ratio(2*tp, 2*tp+fp+fn); f > best {
			global, best = pth, f
		}
	}
	thr := make([]float64, nt)
	for t := 0; t < nt; t++ {
		bt, bf := global, -1.0
		for _, pth := range thresholdGrid {
			th := model.Logit(pth)
			var tp, fp, fn int
			for i, row := range z {
				switch {
				case row[t] >= th && has[t][i]:
					tp++
				case row[t] >= th:
					fp++
				case has[t][i]:
					fn++
				}
			}
			if f := ratio(2*tp, 2*tp+fp+fn); f > bf {
				bt, bf = pth, f
			}
		}
		w := float64(pos[t]) / (float64(pos[t]) + cfg.Shrink)
		thr[t] = math.Round((w*bt+(1-w)*global)*1000) / 1000
	}
	var picked []int
	pred := make([][]int, len(z))
	fixed := model.NewDecision(model.FixedRule(nt))
	for i, row := range z {
		pred[i] = fixed.Pick(nil, row)
	}
	minAcc := Evaluate(tags, truth, pred, nil).Accuracy + cfg.AccuracyMargin
	rule := model.Rule{Name: "tuned", Thresholds: thr, AlwaysTop: true}
	bestScore, bestF1, found := -1.0, -1.0, false
	for _, floor := range []float64{0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 1.01} {
		for rel := 0.0; rel < 0.951; rel += 0.05 {
			r := model.Rule{Name: "tuned", Thresholds: thr, AlwaysTop: true, Floor: floor, Relative: math.Round(rel*100) / 100}
			d := model.NewDecision(r)
			for i, row := range z {
				picked = d.Pick(picked[:0], row)
				pred[i] = append(pred[i][:0], picked...)
			}
			m := Evaluate(tags, truth, pred, nil)
			if m.Accuracy >= minAcc {
				if m.F1Weighted > bestF1+1e-12 {
					bestF1, rule, found = m.F1Weighted, r, true
				}
			} else if s := m.F1Weighted + m.Accuracy; !found && s > bestScore+1e-12 {
				bestScore, rule = s, r
			}
		}
	}
	return rule, nil
}

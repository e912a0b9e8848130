package training

import (
	"math"

	"github.com/remla/tagger/model"
)

// Tuning says whether tuning the rule on the weights that serve moved it: the rule tuned on the
// solver's float64 weights (what training did before) beside the rule tuned on the serving
// weights (float32, or int8), both scored on the held-out rows through the serving weights.
type Tuning struct {
	Weights    string     `json:"weights"` // the serving weights: "float32" or "int8"
	Before     *Metrics   `json:"before"`  // the rule tuned on the float64 weights
	After      *Metrics   `json:"after"`   // the rule tuned on the serving weights (the model's)
	BeforeRule model.Rule `json:"-"`       // the rule tuned on the float64 weights
	Moved      RuleMoves  `json:"moved"`   // what changed between the two rules
}

// RuleMoves counts what differs between two tuned rules.
type RuleMoves struct {
	Thresholds int     `json:"thresholds"` // per-tag thresholds that differ
	Relative   float64 `json:"relative"`   // after - before
	Floor      float64 `json:"floor"`      // after - before
}

func moved(before, after model.Rule) RuleMoves {
	m := RuleMoves{Relative: round3(after.Relative - before.Relative), Floor: round3(after.Floor - before.Floor)}
	for t := range after.Thresholds {
		if after.Thresholds[t] != before.Thresholds[t] {
			m.Thresholds++
		}
	}
	return m
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

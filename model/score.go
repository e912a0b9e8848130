package model

import "math"

// Weight is an element type the scoring kernel reads: int8 (quantised, with a scale per feature
// row), float32 (what a model file stores) or float64 (what training fits).
type Weight interface{ ~int8 | ~float32 | ~float64 }

// AddRows is the one scoring kernel: it adds x·W to z, where W is feature-major with len(z)
// weights per feature (W[j*len(z)+t] is the weight of feature j for tag t). When scale is not nil,
// row j is multiplied by scale[j] (int8 weights). Sums are taken in float64, feature by feature in
// x's order, so the same x and W give the same z bit for bit wherever they are scored.
func AddRows[W Weight](z []float64, x *Sparse, w []W, scale []float32) {
	nt := len(z)
	for k, j := range x.Idx {
		v := x.Val[k]
		if scale != nil {
			v *= float64(scale[j])
		}
		row := w[int(j)*nt : int(j)*nt+nt]
		z := z[:len(row)]
		t := 0
		for ; t+4 <= len(row); t += 4 {
			r, s := row[t:t+4:t+4], z[t:t+4:t+4]
			s[0] += v * float64(r[0])
			s[1] += v * float64(r[1])
			s[2] += v * float64(r[2])
			s[3] += v * float64(r[3])
		}
		for ; t < len(row); t++ {
			z[t] += v * float64(row[t])
		}
	}
}

// Decision is a Rule ready to apply to logits (scores before the sigmoid): the one decision
// function, used by Model.Predict, evaluation and rule tuning alike.
type Decision struct {
	rule  Rule
	thr   []float64 // the rule's thresholds as logits
	floor float64   // the rule's floor as a logit
}

// NewDecision prepares r for Pick.
func NewDecision(r Rule) *Decision {
	d := &Decision{rule: r, thr: make([]float64, len(r.Thresholds)), floor: Logit(r.Floor)}
	for t, th := range r.Thresholds {
		d.thr[t] = Logit(th)
	}
	return d
}

// Rule returns the rule d applies.
func (d *Decision) Rule() Rule { return d.rule }

// Pick applies the rule to the logits z (one per tag) and appends the picked tag indices, highest
// score first, to dst.
//
// A tag t is picked when z_t >= Logit(Thresholds[t]) and σ(z_t) >= Relative·σ(z_top). When none
// is and AlwaysTop is set, the top tag is picked if z_top >= Logit(Floor). At most MaxTags are
// kept. The sigmoid is taken only of tags that pass their threshold.
func (d *Decision) Pick(dst []int, z []float64) []int {
	start := len(dst)
	if len(z) == 0 {
		return dst
	}
	top := 0
	for t := range z {
		if z[t] > z[top] {
			top = t
		}
	}
	relMin := d.rule.Relative * Sigmoid(z[top])
	for t, zt := range z {
		if zt >= d.thr[t] && (relMin == 0 || Sigmoid(zt) >= relMin) {
			dst = append(dst, t)
		}
	}
	if len(dst) == start && d.rule.AlwaysTop && z[top] >= d.floor {
		dst = append(dst, top)
	}
	// Highest score first, ties in tag order: an insertion sort, as few tags pass.
	picked := dst[start:]
	for i := 1; i < len(picked); i++ {
		for j := i; j > 0 && z[picked[j]] > z[picked[j-1]]; j-- {
			picked[j], picked[j-1] = picked[j-1], picked[j]
		}
	}
	if d.rule.MaxTags > 0 && len(picked) > d.rule.MaxTags {
		dst = dst[:start+d.rule.MaxTags]
	}
	return dst
}

// Logit is the inverse of Sigmoid, ±Inf outside (0, 1).
func Logit(p float64) float64 {
	switch {
	case p <= 0:
		return math.Inf(-1)
	case p >= 1:
		return math.Inf(1)
	}
	return math.Log(p / (1 - p))
}

// Sigmoid is the logistic function 1/(1+e^-z), computed without overflow.
func Sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

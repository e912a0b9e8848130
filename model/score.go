package model

import (
	"math"
	"unsafe"
)

// Weight is an element type the scoring kernel reads: int8 (quantised, with a scale per feature
// row), float32 (what a model file stores) or float64 (what training fits).
type Weight interface{ ~int8 | ~float32 | ~float64 }

// AddRows is the one scoring kernel: it adds x·W to z, where W is feature-major with len(z)
// weights per feature (W[j*len(z)+t] is the weight of feature j for tag t). When scale is not nil,
// row j is multiplied by scale[j] (int8 weights). Sums are taken in float64, feature by feature in
// x's order, so the same x and W give the same z bit for bit wherever they are scored.
//
// A title's rows are scattered over a weight matrix larger than the caches, and between two
// requests a server's other work evicts them, so the kernel is bound by memory. It first loads
// one element of every cache line of every row (touchRows): those loads do not depend on one
// another, so the processor has many misses in flight at once instead of one row's at a time.
// It then adds four rows per pass over z, which loads and stores each z[t] once per four
// features; each z[t] still receives the same products in the same order.
func AddRows[W Weight](z []float64, x *Sparse, w []W, scale []float32) {
	nt := len(z)
	if nt == 0 {
		return
	}
	touchRows(x.Idx, w, nt, scale)
	// With int8 rows on a processor that has the assembly kernel, it adds each block to the
	// first nt&^3 tags, four tags an instruction, and the loop below adds to the rest.
	_, isInt8 := any(w).([]int8)
	simd := 0
	if isInt8 && simdInt8 {
		simd = nt &^ 3
	}
	row := func(k int) ([]W, float64) {
		j := x.Idx[k]
		v := x.Val[k]
		if scale != nil {
			v *= float64(scale[j])
		}
		return w[int(j)*nt : int(j)*nt+nt], v
	}
	k := 0
	for ; k+4 <= len(x.Idx); k += 4 {
		r0, v0 := row(k)
		r1, v1 := row(k + 1)
		r2, v2 := row(k + 2)
		r3, v3 := row(k + 3)
		r0, r1, r2, r3 = r0[:nt], r1[:nt], r2[:nt], r3[:nt]
		if simd > 0 {
			v := [4]float64{v0, v1, v2, v3}
			addRows4Int8(&z[0], int8s(r0), int8s(r1), int8s(r2), int8s(r3), &v, simd)
		}
		for t := simd; t < nt; t++ {
			s := z[t]
			s += v0 * float64(r0[t])
			s += v1 * float64(r1[t])
			s += v2 * float64(r2[t])
			s += v3 * float64(r3[t])
			z[t] = s
		}
	}
	for ; k < len(x.Idx); k++ {
		r, v := row(k)
		r = r[:nt]
		for t := range z {
			z[t] += v * float64(r[t])
		}
	}
}

// int8s is the address of the first weight of a row AddRows knows to be []int8.
func int8s[W Weight](r []W) *int8 { return (*int8)(unsafe.Pointer(&r[0])) }

// touchRows loads an element of each cache line of the rows of features idx, and their scales.
func touchRows[W Weight](idx []int32, w []W, nt int, scale []float32) {
	var acc W
	var accScale float32
	step := max(1, 64/int(unsafe.Sizeof(acc)))
	for _, j := range idx {
		r := w[int(j)*nt : int(j)*nt+nt]
		for t := 0; t < len(r); t += step {
			acc += r[t]
		}
		acc += r[len(r)-1]
		if scale != nil {
			accScale += scale[j]
		}
	}
	keep(acc, accScale)
}

// keep makes its arguments used, so the compiler keeps the loads that made them.
//
//go:noinline
func keep[W Weight](W, float32) {}

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

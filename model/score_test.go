package model

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestDecisionPick(t *testing.T) {
	p := []float64{0.45, 0.35, 0.05, 0.2}
	z := make([]float64, len(p))
	for i := range p {
		z[i] = Logit(p[i])
	}
	tests := []struct {
		name string
		rule Rule
		want []int
	}{
		{"thresholds", Rule{Thresholds: []float64{0.5, 0.3, 0.3, 0.9}}, []int{1}},
		{"relative drops the weak second", Rule{Thresholds: []float64{0.4, 0.3, 0.3, 0.9}, Relative: 0.8}, []int{0}},
		{"relative keeps a close second", Rule{Thresholds: []float64{0.4, 0.3, 0.3, 0.9}, Relative: 0.7}, []int{0, 1}},
		{"nothing above threshold, no top rule", Rule{Thresholds: []float64{0.9, 0.9, 0.9, 0.9}}, []int{}},
		{"top tag when it clears the floor", Rule{Thresholds: []float64{0.9, 0.9, 0.9, 0.9}, AlwaysTop: true, Floor: 0.4}, []int{0}},
		{"top tag below the floor", Rule{Thresholds: []float64{0.9, 0.9, 0.9, 0.9}, AlwaysTop: true, Floor: 0.5}, []int{}},
		{"max tags", Rule{Thresholds: []float64{0.1, 0.1, 0.1, 0.1}, MaxTags: 2}, []int{0, 1}},
		{"highest first", Rule{Thresholds: []float64{0.1, 0.1, 0.1, 0.1}}, []int{0, 1, 3}},
		{"threshold 0 and 1", Rule{Thresholds: []float64{1, 0, 1, 1}}, []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NewDecision(tt.rule).Pick(nil, z)
			if !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Fatalf("Pick = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestDecisionPickTies: equal logits go to the first tag, for the top and in the order picked.
func TestDecisionPickTies(t *testing.T) {
	z := []float64{-1, 0.5, 0.5, -1}
	if got := NewDecision(Rule{Thresholds: []float64{0.9, 0.9, 0.9, 0.9}, AlwaysTop: true}).Pick(nil, z); !slices.Equal(got, []int{1}) {
		t.Errorf("top of a tie = %v, want [1]", got)
	}
	if got := NewDecision(Rule{Thresholds: []float64{0.1, 0.1, 0.1, 0.1}, Relative: 1}).Pick(nil, z); !slices.Equal(got, []int{1, 2}) {
		t.Errorf("tied picks = %v, want [1 2]", got)
	}
}

// TestAddRows checks the kernel against a plain dense x·W for each weight type, bit for bit.
func TestAddRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const nf, nt = 40, 7 // nt not a multiple of 4: the kernel's tail runs too
	w64 := make([]float64, nf*nt)
	for i := range w64 {
		w64[i] = rng.NormFloat64()
	}
	w32 := make([]float32, len(w64))
	for i, w := range w64 {
		w32[i] = float32(w)
	}
	q := QuantizeInt8(w32, nt)
	// 11 features: two blocks of four rows and a tail of three.
	x := &Sparse{Idx: []int32{3, 0, 17, 39, 8, 21, 5, 33, 12, 27, 1}, Val: []float64{0.5, -1.25, 2, 0.125, 1, 3.5, -0.75, 0.3, 1.7, -2.2, 0.01}}
	dense := func(weight func(j, t int) float64) []float64 {
		z := make([]float64, nt)
		for k, j := range x.Idx {
			for t := range z {
				z[t] += x.Val[k] * weight(int(j), t)
			}
		}
		return z
	}
	check := func(name string, got, want []float64) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("%s: AddRows = %v, want %v", name, got, want)
		}
	}
	z := make([]float64, nt)
	AddRows(z, x, w64, nil)
	check("float64", z, dense(func(j, t int) float64 { return w64[j*nt+t] }))
	z = make([]float64, nt)
	AddRows(z, x, w32, nil)
	check("float32", z, dense(func(j, t int) float64 { return float64(w32[j*nt+t]) }))
	z = make([]float64, nt)
	AddRows(z, x, q.Q, q.Scale)
	want := make([]float64, nt)
	for k, j := range x.Idx {
		v := x.Val[k] * float64(q.Scale[j])
		for t := range want {
			want[t] += v * float64(q.Q[int(j)*nt+t])
		}
	}
	check("int8", z, want)
}

// TestPredictIsDecisionOnLogits: Predict's answer is the model's Decision on Logits, scores
// Sigmoid of the logits, exactly.
func TestPredictIsDecisionOnLogits(t *testing.T) {
	m := tinyModel(t)
	for _, title := range []string{"Python or Go for the web?", "A Python list", "go go go", "", "nothing known"} {
		z := m.Logits(nil, title)
		var want []TagScore
		for _, k := range m.Decision().Pick(nil, z) {
			want = append(want, TagScore{Tag: m.Spec().Tags[k], Score: Sigmoid(z[k])})
		}
		if got := m.Predict(title); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("%q: Predict = %v, Decision on Logits = %v", title, got, want)
		}
	}
}

// TestAddRowsInt8Kernel: the assembly kernel (where there is one) and the portable loop give the
// same sums bit for bit, for tag counts that are and are not multiples of four, titles of 0 to
// 13 features (blocks of four and tails), repeated features, and extreme weights and values.
func TestAddRowsInt8Kernel(t *testing.T) {
	if !simdInt8 {
		t.Skip("no int8 assembly kernel on this platform or CPU (AVX2): only the portable loop runs, and TestAddRows covers it")
	}
	portable := func(f func()) {
		simdInt8 = false
		defer func() { simdInt8 = true }()
		f()
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, nt := range []int{4, 5, 7, 8, 13, 100, 101} {
		const nf = 64
		w32 := make([]float32, nf*nt)
		for i := range w32 {
			w32[i] = float32(rng.NormFloat64() * 3)
		}
		q := QuantizeInt8(w32, nt)
		q.Q[0], q.Q[1] = -128, 127 // the int8 extremes convert exactly too
		for n := 0; n <= 13; n++ {
			x := &Sparse{}
			for k := 0; k < n; k++ {
				x.Idx = append(x.Idx, int32(rng.IntN(nf)))
				x.Val = append(x.Val, rng.NormFloat64()*float64(int(1)<<rng.IntN(40)))
			}
			bias := make([]float64, nt)
			for i := range bias {
				bias[i] = rng.NormFloat64()
			}
			fast := append([]float64(nil), bias...)
			AddRows(fast, x, q.Q, q.Scale)
			slow := append([]float64(nil), bias...)
			portable(func() { AddRows(slow, x, q.Q, q.Scale) })
			for i := range fast {
				if math.Float64bits(fast[i]) != math.Float64bits(slow[i]) {
					t.Fatalf("%d tags, %d features: z[%d] = %v with the kernel, %v with the portable loop", nt, n, i, fast[i], slow[i])
				}
			}
		}
	}
}

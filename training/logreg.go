package training

import (
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"
)

// binaryLR is one tag's L2- or L1-regularised logistic regression, liblinear's formulation:
//
//	min_w  R(w) + C Σ_i log(1 + exp(-y_i (x_i·w + b)))
//
// with y_i = ±1, the bias b the last element of w (a constant feature of value 1, regularised
// like the others, as liblinear with intercept_scaling=1), and R(w) = ½‖w‖² (L2) or ‖w‖₁ (L1).
type binaryLR struct {
	X *Matrix
	y []float64
	C float64

	z []float64 // x_i·w + b at the current point
	d []float64 // σ_i(1-σ_i), the Hessian's diagonal weights
	u []float64 // scratch, one per row
}

func newBinaryLR(X *Matrix, y []float64, c float64) *binaryLR {
	n := X.Rows
	return &binaryLR{X: X, y: y, C: c, z: make([]float64, n), d: make([]float64, n), u: make([]float64, n)}
}

// dim is the number of variables: one weight per feature and the bias.
func (p *binaryLR) dim() int { return p.X.Cols + 1 }

// logLoss is log(1+exp(-m)) without overflow.
func logLoss(m float64) float64 {
	if m >= 0 {
		return math.Log1p(math.Exp(-m))
	}
	return -m + math.Log1p(math.Exp(m))
}

// mulX sets out = X·w[:cols] + w[cols].
func (p *binaryLR) mulX(out, w []float64) {
	X, b := p.X, w[p.X.Cols]
	for i := 0; i < X.Rows; i++ {
		s := b
		for k := X.RowPtr[i]; k < X.RowPtr[i+1]; k++ {
			s += X.Val[k] * w[X.Col[k]]
		}
		out[i] = s
	}
}

// addXT adds [Xᵀ·u, Σu] to out.
func (p *binaryLR) addXT(out, u []float64) {
	X := p.X
	var sb float64
	for i := 0; i < X.Rows; i++ {
		ui := u[i]
		if ui == 0 {
			continue
		}
		sb += ui
		for k := X.RowPtr[i]; k < X.RowPtr[i+1]; k++ {
			out[X.Col[k]] += X.Val[k] * ui
		}
	}
	out[X.Cols] += sb
}

// fun returns the L2 objective at w and remembers the margins for grad.
func (p *binaryLR) fun(w []float64) float64 {
	p.mulX(p.z, w)
	f := 0.5 * floats.Dot(w, w)
	var loss float64
	for i, zi := range p.z {
		loss += logLoss(p.y[i] * zi)
	}
	return f + p.C*loss
}

// grad writes the L2 gradient at the point of the last fun call into g and prepares hv.
func (p *binaryLR) grad(w, g []float64) {
	for i, zi := range p.z {
		s := 1 / (1 + math.Exp(-p.y[i]*zi))
		p.d[i] = s * (1 - s)
		p.u[i] = p.C * (s - 1) * p.y[i]
	}
	copy(g, w)
	p.addXT(g, p.u)
}

// hv writes the Hessian (at the point of the last grad call) times v into out.
func (p *binaryLR) hv(v, out []float64) {
	p.mulX(p.u, v)
	for i := range p.u {
		p.u[i] *= p.C * p.d[i]
	}
	copy(out, v)
	p.addXT(out, p.u)
}

// solveResult says how a fit ended.
type solveResult struct {
	Iterations int
	Converged  bool
}

// tron minimises the L2 objective from w (updated in place) with liblinear's trust-region Newton
// method: conjugate-gradient steps inside a trust region, stopping when ‖∇f(w)‖ ≤ eps·‖∇f(w₀)‖.
func (p *binaryLR) tron(w []float64, eps float64, maxIter int) solveResult {
	const (
		eta0, eta1, eta2       = 1e-4, 0.25, 0.75
		sigma1, sigma2, sigma3 = 0.25, 0.5, 4.0
	)
	n := p.dim()
	g, s, r := make([]float64, n), make([]float64, n), make([]float64, n)
	wNew, d, hd := make([]float64, n), make([]float64, n), make([]float64, n)

	f := p.fun(w)
	p.grad(w, g)
	delta := floats.Norm(g, 2)
	gnorm0 := delta
	gnorm := gnorm0
	res := solveResult{}
	if gnorm <= eps*gnorm0 {
		res.Converged = true
		return res
	}
	for iter := 1; iter <= maxIter; {
		p.trcg(delta, g, s, r, d, hd)
		copy(wNew, w)
		floats.Add(wNew, s)
		gs := floats.Dot(g, s)
		prered := -0.5 * (gs - floats.Dot(s, r))
		fNew := p.fun(wNew)
		actred := f - fNew
		snorm := floats.Norm(s, 2)
		if iter == 1 {
			delta = math.Min(delta, snorm)
		}
		var alpha float64
		if fNew-f-gs <= 0 {
			alpha = sigma3
		} else {
			alpha = math.Max(sigma1, -0.5*(gs/(fNew-f-gs)))
		}
		switch {
		case actred < eta0*prered:
			delta = math.Min(math.Max(alpha, sigma1)*snorm, sigma2*delta)
		case actred < eta1*prered:
			delta = math.Max(sigma1*delta, math.Min(alpha*snorm, sigma2*delta))
		case actred < eta2*prered:
			delta = math.Max(sigma1*delta, math.Min(alpha*snorm, sigma3*delta))
		default:
			delta = math.Max(delta, math.Min(alpha*snorm, sigma3*delta))
		}
		if actred > eta0*prered {
			iter++
			res.Iterations = iter - 1
			copy(w, wNew)
			f = fNew
			p.grad(w, g)
			gnorm = floats.Norm(g, 2)
			if gnorm <= eps*gnorm0 {
				res.Converged = true
				return res
			}
		}
		// A rejected step leaves d (the Hessian at w) as it was; the margins in z are only read
		// by grad, after the next accepted step has recomputed them.
		if math.Abs(actred) <= 0 && prered <= 0 {
			return res
		}
		if math.Abs(actred) <= 1e-12*math.Abs(f) && math.Abs(prered) <= 1e-12*math.Abs(f) {
			return res
		}
	}
	return res
}

// trcg approximately solves H·s = -g inside ‖s‖ ≤ delta by conjugate gradients; r ends as the
// residual -g - H·s.
func (p *binaryLR) trcg(delta float64, g, s, r, d, hd []float64) {
	for i := range s {
		s[i] = 0
		r[i] = -g[i]
		d[i] = r[i]
	}
	cgtol := 0.1 * floats.Norm(g, 2)
	rTr := floats.Dot(r, r)
	for {
		if math.Sqrt(rTr) <= cgtol {
			return
		}
		p.hv(d, hd)
		alpha := rTr / floats.Dot(d, hd)
		floats.AddScaled(s, alpha, d)
		if floats.Norm(s, 2) > delta {
			floats.AddScaled(s, -alpha, d)
			std, sts, dtd := floats.Dot(s, d), floats.Dot(s, s), floats.Dot(d, d)
			dsq := delta * delta
			rad := math.Sqrt(std*std + dtd*(dsq-sts))
			if std >= 0 {
				alpha = (dsq - sts) / (std + rad)
			} else {
				alpha = (rad - std) / dtd
			}
			floats.AddScaled(s, alpha, d)
			floats.AddScaled(r, -alpha, hd)
			return
		}
		floats.AddScaled(r, -alpha, hd)
		rnTrn := floats.Dot(r, r)
		beta := rnTrn / rTr
		floats.Scale(beta, d)
		floats.Add(d, r)
		rTr = rnTrn
	}
}

// l1Objective is the L1 objective ‖w‖₁ + C Σ log(1+exp(-y_i(x_i·w+b))) at w.
func (p *binaryLR) l1Objective(w []float64) float64 {
	p.mulX(p.z, w)
	var loss float64
	for i, zi := range p.z {
		loss += logLoss(p.y[i] * zi)
	}
	return floats.Norm(w, 1) + p.C*loss
}

// cdnL1 minimises the L1 objective from w (updated in place) by coordinate descent with a
// one-variable Newton direction and an Armijo line search per coordinate (CDN, Yuan et al. 2010,
// the method liblinear used for L1 logistic regression before newGLMNET). Coordinates are visited
// in a fresh random order each pass, drawn from rng. It stops when the L1 norm of the minimum-norm
// subgradient falls to eps times its value at the start.
func (p *binaryLR) cdnL1(XT *CSC, w []float64, eps float64, maxPass int, rng *rand.Rand) solveResult {
	const (
		sigma = 0.01
		beta  = 0.5
	)
	n, cols := p.X.Rows, p.X.Cols
	y, C := p.y, p.C
	// e_i = exp(-y_i z_i): σ(y_i z_i) = 1/(1+e_i); kept up to date as w changes.
	p.mulX(p.z, w)
	e := p.u
	for i := range e {
		e[i] = math.Exp(-y[i] * p.z[i])
	}
	perm := make([]int, cols+1)
	for j := range perm {
		perm[j] = j
	}
	ones := make([]float64, n)
	for i := range ones {
		ones[i] = 1
	}
	allRows := make([]int32, n)
	for i := range allRows {
		allRows[i] = int32(i)
	}
	column := func(j int) ([]int32, []float64) {
		if j == cols {
			return allRows, ones
		}
		a, b := XT.ColPtr[j], XT.ColPtr[j+1]
		return XT.Row[a:b], XT.Val[a:b]
	}
	var gnorm0 float64
	res := solveResult{}
	newE := make([]float64, 0, n)
	for pass := 0; pass < maxPass; pass++ {
		rng.Shuffle(len(perm), func(a, b int) { perm[a], perm[b] = perm[b], perm[a] })
		var gnorm float64
		for _, j := range perm {
			rows, vals := column(j)
			if len(rows) == 0 {
				continue
			}
			var G, H float64
			for k, i := range rows {
				x := vals[k]
				s := 1 / (1 + e[i])
				G += (s - 1) * y[i] * x
				H += s * (1 - s) * x * x
			}
			G *= C
			H = C*H + 1e-12
			wj := w[j]
			// Minimum-norm subgradient: how far coordinate j is from optimal.
			var viol float64
			switch {
			case wj > 0:
				viol = math.Abs(G + 1)
			case wj < 0:
				viol = math.Abs(G - 1)
			default:
				viol = math.Max(0, math.Max(G-1, -1-G))
			}
			gnorm += viol
			if viol == 0 {
				continue
			}
			var dir float64
			switch {
			case G+1 <= H*wj:
				dir = -(G + 1) / H
			case G-1 >= H*wj:
				dir = -(G - 1) / H
			default:
				dir = -wj
			}
			if math.Abs(dir) < 1e-12 {
				continue
			}
			delta := G*dir + math.Abs(wj+dir) - math.Abs(wj)
			lambda := 1.0
			for step := 0; step < 30; step++ {
				ld := lambda * dir
				// Change of the objective along the coordinate, over the rows that feature j touches.
				change := math.Abs(wj+ld) - math.Abs(wj)
				newE = newE[:0]
				var dl float64
				for k, i := range rows {
					en := e[i] * math.Exp(-y[i]*ld*vals[k])
					newE = append(newE, en)
					dl += math.Log1p(en) - math.Log1p(e[i])
				}
				change += C * dl
				if change <= sigma*lambda*delta {
					w[j] = wj + ld
					for k, i := range rows {
						e[i] = newE[k]
					}
					break
				}
				lambda *= beta
			}
		}
		res.Iterations = pass + 1
		if pass == 0 {
			gnorm0 = gnorm
		}
		if gnorm <= eps*gnorm0 {
			res.Converged = true
			return res
		}
	}
	return res
}

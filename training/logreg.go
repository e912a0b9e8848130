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

	z   []float64 // x_i·w + b at the point of the last fun call
	sig []float64 // σ(y_i z_i) at the point of the last fun call
	d   []float64 // σ_i(1-σ_i), the Hessian's diagonal weights at the point of the last grad call
	u   []float64 // scratch, one per row
}

func newBinaryLR(X *Matrix, y []float64, c float64) *binaryLR {
	n := X.Rows
	return &binaryLR{X: X, y: y, C: c, z: make([]float64, n), sig: make([]float64, n), d: make([]float64, n), u: make([]float64, n)}
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
		// One exp gives both log(1+e^-m) and σ(m), without overflow.
		m := p.y[i] * zi
		if m >= 0 {
			e := math.Exp(-m)
			loss += math.Log1p(e)
			p.sig[i] = 1 / (1 + e)
		} else {
			e := math.Exp(m)
			loss += -m + math.Log1p(e)
			p.sig[i] = e / (1 + e)
		}
	}
	return f + p.C*loss
}

// grad writes the L2 gradient at the point of the last fun call into g and prepares hv.
func (p *binaryLR) grad(w, g []float64) {
	for i, s := range p.sig {
		p.d[i] = s * (1 - s)
		p.u[i] = p.C * (s - 1) * p.y[i]
	}
	copy(g, w)
	p.addXT(g, p.u)
}

// hv writes the Hessian (at the point of the last grad call) times v into out.
// Each row is read once: its product with v, scaled, is scattered back while the row is in cache.
func (p *binaryLR) hv(v, out []float64) {
	X, cols := p.X, p.X.Cols
	copy(out, v)
	vb, sb := v[cols], 0.0
	for i := 0; i < X.Rows; i++ {
		a, b := X.RowPtr[i], X.RowPtr[i+1]
		col, val := X.Col[a:b], X.Val[a:b]
		s := vb
		for k, j := range col {
			s += val[k] * v[j]
		}
		s *= p.C * p.d[i]
		sb += s
		for k, j := range col {
			out[j] += val[k] * s
		}
	}
	out[cols] += sb
}

// solveResult says how a fit ended.
type solveResult struct {
	Iterations int
	Converged  bool
}

// tron minimises the L2 objective from w (updated in place) with liblinear's trust-region Newton
// method: preconditioned conjugate-gradient steps (diagonal preconditioner, as liblinear ≥ 2.20)
// inside a trust region, stopping when ‖∇f(w)‖ ≤ eps·‖∇f(w₀)‖.
func (p *binaryLR) tron(w []float64, eps float64, maxIter int) solveResult {
	const (
		eta0, eta1, eta2       = 1e-4, 0.25, 0.75
		sigma1, sigma2, sigma3 = 0.25, 0.5, 4.0
	)
	n := p.dim()
	g, s, r, m := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	wNew, d, hd, z := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)

	f := p.fun(w)
	p.grad(w, g)
	p.preconditioner(m)
	delta := math.Sqrt(mNorm2(g, m, true))
	gnorm0 := floats.Norm(g, 2)
	res := solveResult{}
	if gnorm0 == 0 {
		res.Converged = true
		return res
	}
	for iter := 1; iter <= maxIter; {
		p.trpcg(delta, g, m, s, r, d, hd, z)
		copy(wNew, w)
		floats.Add(wNew, s)
		gs := floats.Dot(g, s)
		prered := -0.5 * (gs - floats.Dot(s, r))
		fNew := p.fun(wNew)
		actred := f - fNew
		snorm := math.Sqrt(mNorm2(s, m, false))
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
			p.preconditioner(m)
			if floats.Norm(g, 2) <= eps*gnorm0 {
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

// preconditioner writes liblinear's diagonal preconditioner at the point of the last grad call:
// (1−α) + α·diag(H), α = 0.01.
func (p *binaryLR) preconditioner(m []float64) {
	const alpha = 0.01
	X, cols := p.X, p.X.Cols
	for j := range m {
		m[j] = 1
	}
	for i := 0; i < X.Rows; i++ {
		cd := p.C * p.d[i]
		m[cols] += cd
		for k := X.RowPtr[i]; k < X.RowPtr[i+1]; k++ {
			v := X.Val[k]
			m[X.Col[k]] += cd * v * v
		}
	}
	for j := range m {
		m[j] = (1 - alpha) + alpha*m[j]
	}
}

// mNorm2 is Σ v²·m (or Σ v²/m when inverse).
func mNorm2(v, m []float64, inverse bool) float64 {
	var s float64
	for i, x := range v {
		if inverse {
			s += x * x / m[i]
		} else {
			s += x * x * m[i]
		}
	}
	return s
}

// trpcg approximately solves H·s = -g inside ‖s‖_M ≤ delta by preconditioned conjugate
// gradients; r ends as the residual -g - H·s.
func (p *binaryLR) trpcg(delta float64, g, m, s, r, d, hd, z []float64) {
	for i := range s {
		s[i] = 0
		r[i] = -g[i]
		z[i] = r[i] / m[i]
		d[i] = z[i]
	}
	zTr := floats.Dot(z, r)
	cgtol := 0.1 * math.Sqrt(zTr)
	dsq := delta * delta
	for {
		if math.Sqrt(zTr) <= cgtol {
			return
		}
		p.hv(d, hd)
		dHd := floats.Dot(d, hd)
		if dHd <= 1e-16 {
			return
		}
		alpha := zTr / dHd
		floats.AddScaled(s, alpha, d)
		if mNorm2(s, m, false) > dsq {
			floats.AddScaled(s, -alpha, d)
			var sTMd, sTMs, dTMd float64
			for i := range s {
				sTMd += s[i] * m[i] * d[i]
				sTMs += s[i] * m[i] * s[i]
				dTMd += d[i] * m[i] * d[i]
			}
			rad := math.Sqrt(sTMd*sTMd + dTMd*(dsq-sTMs))
			if sTMd >= 0 {
				alpha = (dsq - sTMs) / (sTMd + rad)
			} else {
				alpha = (rad - sTMd) / dTMd
			}
			floats.AddScaled(s, alpha, d)
			floats.AddScaled(r, -alpha, hd)
			return
		}
		floats.AddScaled(r, -alpha, hd)
		for i := range z {
			z[i] = r[i] / m[i]
		}
		znTrn := floats.Dot(z, r)
		beta := znTrn / zTr
		floats.Scale(beta, d)
		floats.Add(d, z)
		zTr = znTrn
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

// newGLMNETL1 minimises the L1 objective from w (updated in place) with liblinear's newGLMNET
// (Yuan, Ho and Lin 2012; liblinear's solve_l1r_lr, what scikit-learn's liblinear runs for
// penalty='l1'): each outer Newton iteration builds the quadratic model of the loss and solves
// the L1-regularised quadratic by cyclic coordinate descent (coordinates shuffled by rng,
// shrinking the ones that stay at zero), then takes a backtracking line search along the result.
// It stops when the L1 norm of the minimum-norm subgradient falls to eps times its initial value.
func (p *binaryLR) newGLMNETL1(XT *CSC, w []float64, eps float64, maxNewton int, rng *rand.Rand) solveResult {
	const (
		nu            = 1e-12
		sigma         = 0.01
		maxLineSearch = 20
		maxInner      = 1000
		maxStep       = 10.0
		inf           = math.MaxFloat64
	)
	l, wSize := p.X.Rows, p.X.Cols+1
	y, C := p.y, p.C
	ones := make([]float64, l)
	allRows := make([]int32, l)
	for i := range ones {
		ones[i], allRows[i] = 1, int32(i)
	}
	column := func(j int) ([]int32, []float64) {
		if j == p.X.Cols {
			return allRows, ones
		}
		a, b := XT.ColPtr[j], XT.ColPtr[j+1]
		return XT.Row[a:b], XT.Val[a:b]
	}
	expWTx := make([]float64, l)
	expWTxNew := make([]float64, l)
	tau, D, xTd := make([]float64, l), make([]float64, l), make([]float64, l)
	wpd, Hdiag, Grad := make([]float64, wSize), make([]float64, wSize), make([]float64, wSize)
	xjnegSum := make([]float64, wSize)
	index := make([]int, wSize)

	p.mulX(p.z, w)
	var wNorm float64
	for j := 0; j < wSize; j++ {
		wNorm += math.Abs(w[j])
		wpd[j] = w[j]
		index[j] = j
		rows, vals := column(j)
		for k, i := range rows {
			if y[i] == -1 {
				xjnegSum[j] += C * vals[k]
			}
		}
	}
	for i := range expWTx {
		expWTx[i] = math.Exp(p.z[i])
	}
	innerEps := 1.0
	gmaxOld := inf
	var gnorm1Init float64
	res := solveResult{}
	for newton := 0; newton < maxNewton; newton++ {
		var gmaxNew, gnorm1New float64
		for i := 0; i < l; i++ {
			t := 1 / (1 + expWTx[i])
			tau[i] = C * t
			D[i] = C * expWTx[i] * t * t
		}
		activeSize := wSize
		for s := 0; s < activeSize; s++ {
			j := index[s]
			Hdiag[j] = nu
			var tmp float64
			rows, vals := column(j)
			for k, i := range rows {
				x := vals[k]
				Hdiag[j] += x * x * D[i]
				tmp += x * tau[i]
			}
			Grad[j] = -tmp + xjnegSum[j]
			gp, gn := Grad[j]+1, Grad[j]-1
			var violation float64
			switch {
			case w[j] == 0:
				if gp < 0 {
					violation = -gp
				} else if gn > 0 {
					violation = gn
				} else if gp > gmaxOld/float64(l) && gn < -gmaxOld/float64(l) {
					activeSize--
					index[s], index[activeSize] = index[activeSize], index[s]
					s--
					continue
				}
			case w[j] > 0:
				violation = math.Abs(gp)
			default:
				violation = math.Abs(gn)
			}
			gmaxNew = math.Max(gmaxNew, violation)
			gnorm1New += violation
		}
		if newton == 0 {
			gnorm1Init = gnorm1New
		}
		res.Iterations = newton
		if gnorm1New <= eps*gnorm1Init {
			res.Converged = true
			return res
		}

		// Coordinate descent on the quadratic model, over wpd = w + d.
		iter := 0
		qpGmaxOld := inf
		qpActive := activeSize
		for i := range xTd {
			xTd[i] = 0
		}
		for iter < maxInner {
			var qpGmaxNew, qpGnorm1New float64
			for i := 0; i < qpActive; i++ {
				k := i + rng.IntN(qpActive-i)
				index[i], index[k] = index[k], index[i]
			}
			for s := 0; s < qpActive; s++ {
				j := index[s]
				H := Hdiag[j]
				rows, vals := column(j)
				G := Grad[j] + (wpd[j]-w[j])*nu
				for k, i := range rows {
					G += vals[k] * D[i] * xTd[i]
				}
				gp, gn := G+1, G-1
				var violation float64
				switch {
				case wpd[j] == 0:
					if gp < 0 {
						violation = -gp
					} else if gn > 0 {
						violation = gn
					} else if gp > qpGmaxOld/float64(l) && gn < -qpGmaxOld/float64(l) {
						qpActive--
						index[s], index[qpActive] = index[qpActive], index[s]
						s--
						continue
					}
				case wpd[j] > 0:
					violation = math.Abs(gp)
				default:
					violation = math.Abs(gn)
				}
				qpGmaxNew = math.Max(qpGmaxNew, violation)
				qpGnorm1New += violation
				var z float64
				switch {
				case gp < H*wpd[j]:
					z = -gp / H
				case gn > H*wpd[j]:
					z = -gn / H
				default:
					z = -wpd[j]
				}
				if math.Abs(z) < 1e-12 {
					continue
				}
				z = math.Min(math.Max(z, -maxStep), maxStep)
				wpd[j] += z
				for k, i := range rows {
					xTd[i] += vals[k] * z
				}
			}
			iter++
			if qpGnorm1New <= innerEps*gnorm1Init {
				if qpActive == activeSize {
					break
				}
				// Reactivate the shrunk coordinates and check them again.
				qpActive, qpGmaxOld = activeSize, inf
				continue
			}
			qpGmaxOld = qpGmaxNew
		}

		// Backtracking line search along d = wpd − w.
		var delta, wNormNew float64
		for j := 0; j < wSize; j++ {
			delta += Grad[j] * (wpd[j] - w[j])
			if wpd[j] != 0 {
				wNormNew += math.Abs(wpd[j])
			}
		}
		delta += wNormNew - wNorm
		var negsumXTd float64
		for i := 0; i < l; i++ {
			if y[i] == -1 {
				negsumXTd += C * xTd[i]
			}
		}
		ls := 0
		for ; ls < maxLineSearch; ls++ {
			cond := wNormNew - wNorm + negsumXTd - sigma*delta
			for i := 0; i < l; i++ {
				e := math.Exp(xTd[i])
				expWTxNew[i] = expWTx[i] * e
				cond += C * math.Log((1+expWTxNew[i])/(e+expWTxNew[i]))
			}
			if cond <= 0 {
				wNorm = wNormNew
				copy(w, wpd)
				copy(expWTx, expWTxNew)
				break
			}
			wNormNew = 0
			for j := 0; j < wSize; j++ {
				wpd[j] = (w[j] + wpd[j]) * 0.5
				if wpd[j] != 0 {
					wNormNew += math.Abs(wpd[j])
				}
			}
			delta *= 0.5
			negsumXTd *= 0.5
			for i := range xTd {
				xTd[i] *= 0.5
			}
		}
		if ls >= maxLineSearch {
			// Too many halvings: recompute exp(w·x) from scratch to shed accumulated error.
			p.mulX(p.z, w)
			for i := range expWTx {
				expWTx[i] = math.Exp(p.z[i])
			}
			copy(wpd, w)
		}
		if iter == 1 {
			innerEps *= 0.25
		}
		gmaxOld = gmaxNew
	}
	res.Iterations = maxNewton
	return res
}

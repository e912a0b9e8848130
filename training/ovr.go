package training

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
)

// SolverConfig is the classifier's configuration.
type SolverConfig struct {
	Penalty string  `json:"penalty"` // "l1" or "l2"
	C       float64 `json:"c"`
	// Tol is liblinear's tolerance: the solver stops when the gradient (L2) or the minimum-norm
	// subgradient (L1) has shrunk to Tol·max(min(#pos,#neg),1)/#rows of its starting size.
	Tol     float64 `json:"tol"`
	MaxIter int     `json:"max_iter"`
}

// Linear is a fitted one-vs-rest linear model: Weights is feature-major (Weights[f*Tags+t]).
type Linear struct {
	Features, Tags int
	Weights        []float64
	Bias           []float64
	Iterations     []int
	Converged      []bool
}

// Progress is told each time a tag's fit finishes.
type Progress func(done, total int)

// FitOneVsRest fits one binary logistic regression per column of Y (Y[t][i] is whether row i has
// tag t) on workers goroutines (0: all cores). The result does not depend on workers: each tag's
// fit is sequential and seeded by (seed, tag).
func FitOneVsRest(ctx context.Context, X *Matrix, Y [][]bool, cfg SolverConfig, seed uint64, workers int, progress Progress) (*Linear, error) {
	if cfg.C <= 0 {
		return nil, fmt.Errorf("C must be positive, got %g", cfg.C)
	}
	if cfg.Penalty != "l1" && cfg.Penalty != "l2" {
		return nil, fmt.Errorf("penalty %q: want l1 or l2", cfg.Penalty)
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	nt, nf := len(Y), X.Cols
	lin := &Linear{Features: nf, Tags: nt, Weights: make([]float64, nf*nt), Bias: make([]float64, nt),
		Iterations: make([]int, nt), Converged: make([]bool, nt)}
	var XT *CSC
	if cfg.Penalty == "l1" {
		XT = X.Transpose()
	}
	jobs := make(chan int)
	var wg sync.WaitGroup
	var done atomic.Int64
	var mu sync.Mutex
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			y := make([]float64, X.Rows)
			for t := range jobs {
				pos := 0
				for i, has := range Y[t] {
					if has {
						y[i], pos = 1, pos+1
					} else {
						y[i] = -1
					}
				}
				eps := cfg.Tol * float64(max(min(pos, X.Rows-pos), 1)) / float64(X.Rows)
				p := newBinaryLR(X, y, cfg.C)
				w := make([]float64, p.dim())
				var res solveResult
				if cfg.Penalty == "l2" {
					res = p.tron(w, eps, cfg.MaxIter)
				} else {
					rng := rand.New(rand.NewPCG(seed, uint64(t)))
					res = p.newGLMNETL1(XT, w, eps, cfg.MaxIter, rng)
				}
				mu.Lock()
				for f := 0; f < nf; f++ {
					lin.Weights[f*nt+t] = w[f]
				}
				lin.Bias[t] = w[nf]
				lin.Iterations[t], lin.Converged[t] = res.Iterations, res.Converged
				mu.Unlock()
				if progress != nil {
					progress(int(done.Add(1)), nt)
				}
			}
		}()
	}
	var err error
feed:
	for t := 0; t < nt; t++ {
		select {
		case jobs <- t:
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err != nil {
		return nil, fmt.Errorf("fitting interrupted: %w", err)
	}
	return lin, nil
}

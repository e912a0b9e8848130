package analysis

import (
	"fmt"
	"strings"
)

// Phase is the verdict of a check, or of one of its measurements.
type Phase string

// The phases, as Argo Rollouts names them.
const (
	Successful   Phase = "Successful"
	Failed       Phase = "Failed"
	Inconclusive Phase = "Inconclusive" // no data to judge by
	Error        Phase = "Error"        // the check could not measure
)

// Measurement is one observation of a check.
type Measurement struct {
	Phase Phase
	// Value is what was measured, as the condition saw it ("" when none).
	Value string
	// Message says why the measurement has its phase.
	Message string
}

// Result is the verdict of one check.
type Result struct {
	// Name is the check's name: "smoke", "quality", or a metric's name.
	Name         string
	Phase        Phase
	Message      string
	Measurements []Measurement
	// Detail is printed below the verdict (the quality gate's table).
	Detail string
}

// Limits say how many bad measurements a check tolerates, as Argo's
// failureLimit, inconclusiveLimit and consecutiveErrorLimit do.
type Limits struct {
	FailureLimit          int `json:"failureLimit,omitempty"`
	InconclusiveLimit     int `json:"inconclusiveLimit,omitempty"`
	ConsecutiveErrorLimit int `json:"consecutiveErrorLimit,omitempty"`
}

// Assess is the one verdict rule: Failed when more measurements failed than
// FailureLimit, Error when more errors came in a row than
// ConsecutiveErrorLimit, Inconclusive when more were inconclusive than
// InconclusiveLimit, else Successful. No measurement at all is
// Inconclusive. The message counts each phase.
func Assess(name string, ms []Measurement, l Limits) Result {
	var failed, inconclusive, errs, run, maxRun int
	for _, m := range ms {
		switch m.Phase {
		case Failed:
			failed++
		case Inconclusive:
			inconclusive++
		case Error:
			errs++
		}
		if m.Phase == Error {
			run++
			maxRun = max(maxRun, run)
		} else {
			run = 0
		}
	}
	r := Result{Name: name, Measurements: ms}
	switch {
	case len(ms) == 0:
		r.Phase = Inconclusive
	case failed > l.FailureLimit:
		r.Phase = Failed
	case maxRun > l.ConsecutiveErrorLimit:
		r.Phase = Error
	case inconclusive > l.InconclusiveLimit:
		r.Phase = Inconclusive
	default:
		r.Phase = Successful
	}
	r.Message = summary(ms, failed, inconclusive, errs, l)
	return r
}

// summary says how many measurements had each phase, and the last bad one.
func summary(ms []Measurement, failed, inconclusive, errs int, l Limits) string {
	if len(ms) == 0 {
		return "no measurement was taken"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d measurement(s): %d failed (limit %d), %d inconclusive (limit %d), %d error(s)",
		len(ms), failed, l.FailureLimit, inconclusive, l.InconclusiveLimit, errs)
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Phase != Successful {
			fmt.Fprintf(&b, "; last %s: %s", strings.ToLower(string(ms[i].Phase)), ms[i].Message)
			break
		}
	}
	return b.String()
}

// Passed reports whether every result is Successful.
func Passed(rs []Result) bool {
	for _, r := range rs {
		if r.Phase != Successful {
			return false
		}
	}
	return true
}

package analysis

import (
	"strings"
	"testing"
)

func ms(phases ...Phase) []Measurement {
	out := make([]Measurement, len(phases))
	for i, p := range phases {
		out[i] = Measurement{Phase: p, Message: "m" + string(p)}
	}
	return out
}

func TestAssess(t *testing.T) {
	for _, tc := range []struct {
		name string
		ms   []Measurement
		l    Limits
		want Phase
	}{
		{"none", nil, Limits{}, Inconclusive},
		{"all good", ms(Successful, Successful), Limits{}, Successful},
		{"one failure, limit 0", ms(Successful, Failed), Limits{}, Failed},
		{"one failure, limit 1", ms(Successful, Failed), Limits{FailureLimit: 1}, Successful},
		{"no data", ms(Inconclusive, Inconclusive), Limits{InconclusiveLimit: 1}, Inconclusive},
		{"no data tolerated", ms(Inconclusive, Successful), Limits{InconclusiveLimit: 1}, Successful},
		{"errors in a row", ms(Error, Error, Successful), Limits{ConsecutiveErrorLimit: 1}, Error},
		{"errors apart", ms(Error, Successful, Error), Limits{ConsecutiveErrorLimit: 1}, Successful},
		{"failure beats error", ms(Error, Failed), Limits{}, Failed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Assess("x", tc.ms, tc.l)
			if r.Phase != tc.want {
				t.Fatalf("phase %s, want %s (%s)", r.Phase, tc.want, r.Message)
			}
		})
	}
	r := Assess("x", ms(Successful, Failed, Successful), Limits{})
	if !strings.Contains(r.Message, "1 failed (limit 0)") || !strings.Contains(r.Message, "last failed: mFailed") {
		t.Fatalf("message %q does not count the failure or name it", r.Message)
	}
	if Passed([]Result{{Phase: Successful}, r}) || !Passed([]Result{{Phase: Successful}}) {
		t.Fatal("Passed is wrong")
	}
}

package deployer

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

func TestApplyLastGood(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name         string
		from         stored
		to           Color
		o            SwitchOptions
		wantLastGood Color
	}{
		{"first switch", stored{}, Blue, SwitchOptions{}, Blue},
		{"normal switch A to B makes A last good", stored{Active: Blue, LastGood: Blue}, Green, SwitchOptions{}, Blue},
		{"normal switch back", stored{Active: Green, LastGood: Blue}, Blue, SwitchOptions{}, Green},
		{"rollback to A keeps A", stored{Active: Green, LastGood: Blue}, Blue, SwitchOptions{Rollback: true}, Blue},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, rec := tc.from.apply(tc.to, tc.o, at, "operator:me")
			if n.Active != tc.to || n.LastGood != tc.wantLastGood {
				t.Errorf("active %s last good %s, want %s %s", n.Active, n.LastGood, tc.to, tc.wantLastGood)
			}
			if rec.From != tc.from.Active || rec.To != tc.to || rec.By != "operator:me" || !rec.Time.Equal(at) || n.History[0] != rec {
				t.Errorf("record %+v history %+v", rec, n.History)
			}
		})
	}
}

func TestStoredRoundTripAndLimit(t *testing.T) {
	svc := &corev1.Service{Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "remla", "color": "blue"}}}
	s, err := readStored(svc, "color")
	if err != nil || s.Active != Blue {
		t.Fatalf("a fresh Service's selector is the active color: %+v %v", s, err)
	}
	for i := range 7 {
		to := Green
		if s.Active == Green {
			to = Blue
		}
		s, _ = s.apply(to, SwitchOptions{Reason: fmt.Sprint(i), Incident: fmt.Sprint("inc", i), By: "alert:X"}, time.Unix(int64(i), 0).UTC(), "")
		if err := writeStored(svc, s, "color", 5); err != nil {
			t.Fatal(err)
		}
		if s, err = readStored(svc, "color"); err != nil {
			t.Fatal(err)
		}
	}
	if len(s.History) != 5 || s.History[0].Reason != "6" || s.History[4].Reason != "2" {
		t.Errorf("history must keep the newest 5, newest first: %+v", s.History)
	}
	if svc.Spec.Selector["color"] != string(s.Active) || svc.Spec.Selector["app"] != "remla" {
		t.Errorf("selector %v, active %s", svc.Spec.Selector, s.Active)
	}
	if !s.seen("inc6") || s.seen("inc0") || s.seen("") {
		t.Error("seen: inc6 is in the history, inc0 fell off, empty never matches")
	}
	svc.Annotations[annoHistory] = "{"
	if _, err := readStored(svc, "color"); err == nil {
		t.Error("a corrupt history annotation must be an error, not an empty history")
	}
}

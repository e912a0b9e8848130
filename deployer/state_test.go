package deployer

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

func TestStoredRoundTripAndLimit(t *testing.T) {
	svc := &corev1.Service{Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "remla", "color": "blue"}}}
	s, err := readStored(svc, "color")
	if err != nil || s.Active != Blue || len(s.Standing) != 0 {
		t.Fatalf("a fresh Service's selector is the active color: %+v %v", s, err)
	}
	for i := range 7 {
		s.Active = other(s.Active)
		s.Standing[s.Active] = Standing{Phase: Baking, Version: fmt.Sprint(i)}
		s.History = append([]Record{{Time: time.Unix(int64(i), 0).UTC(), Event: EventRolledBack, Reason: fmt.Sprint(i), Incident: fmt.Sprint("inc", i), By: "alert:X"}}, s.History...)
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
	if svc.Spec.Selector["color"] != string(s.Active) || svc.Spec.Selector["app"] != "remla" || s.Standing[s.Active].Version != "6" {
		t.Errorf("selector %v, active %s, standing %+v", svc.Spec.Selector, s.Active, s.Standing)
	}
	if !s.seen("inc6") || s.seen("inc0") || s.seen("") {
		t.Error("seen: inc6 is in the history, inc0 fell off, empty never matches")
	}
	svc.Annotations[annoHistory] = "{"
	if _, err := readStored(svc, "color"); err == nil {
		t.Error("a corrupt history annotation must be an error, not an empty history")
	}
	svc.Annotations[annoHistory] = "[]"
	svc.Annotations[annoStanding] = "nope"
	if _, err := readStored(svc, "color"); err == nil || !strings.Contains(err.Error(), annoStanding) {
		t.Errorf("a corrupt standing annotation: %v, want an error naming it", err)
	}
}

// TestLegacyLastGoodIsDropped: the color-only "last good" of earlier
// versions is never trusted, and the next write removes it.
func TestLegacyLastGoodIsDropped(t *testing.T) {
	svc := &corev1.Service{}
	svc.Annotations = map[string]string{annoActive: "green", annoLastGood: "blue",
		annoHistory: `[{"time":"2026-01-01T00:00:00Z","from":"green","to":"blue","reason":"x","by":"alert:X","incident":"i1","rollback":true}]`}
	s, err := readStored(svc, "color")
	if err != nil || len(s.Standing) != 0 || s.History[0].Kind() != EventSwitched || !s.seen("i1") {
		t.Fatalf("legacy state: %+v %v; want no standing, the old record read as a switch that used incident i1", s, err)
	}
	if err := writeStored(svc, s, "color", 100); err != nil {
		t.Fatal(err)
	}
	if _, ok := svc.Annotations[annoLastGood]; ok {
		t.Error("the legacy last-good annotation survived a write")
	}
}

// TestHistoryStaysWithinItsBudget: records with every field at its limit
// keep the history annotation under maxHistoryBytes, so later writes still
// fit in the API server's 256 KiB for all annotations.
func TestHistoryStaysWithinItsBudget(t *testing.T) {
	huge := strings.Repeat("é", 100_000)
	var s stored
	s.Standing = map[Color]Standing{Green: {Phase: Failed, Reason: huge, By: huge}}
	for i := range 500 {
		r := Record{Time: time.Unix(int64(i), 0), Event: EventRollbackRefused, Reason: huge, By: huge, Incident: huge, Version: huge}.capped()
		s.History = append([]Record{r}, s.History...)
	}
	svc := &corev1.Service{}
	if err := writeStored(svc, s, "color", 1000); err != nil {
		t.Fatal(err)
	}
	total := 0
	for k, v := range svc.Annotations {
		total += len(k) + len(v)
	}
	if n := len(svc.Annotations[annoHistory]); n > maxHistoryBytes || n < maxHistoryBytes/2 {
		t.Errorf("history annotation is %d bytes, want at most %d and not trimmed far below", n, maxHistoryBytes)
	}
	if total > 128<<10 {
		t.Errorf("annotations total %d bytes, want well under the API server's 256 KiB", total)
	}
	var h []Record
	if err := json.Unmarshal([]byte(svc.Annotations[annoHistory]), &h); err != nil || h[0].Time.Unix() != 499 {
		t.Errorf("the newest records must stay: %v, first %v", err, h[0].Time)
	}
	if st := svc.Annotations[annoStanding]; len(st) > 1024 {
		t.Errorf("the standing annotation is %d bytes: its reason and by must be capped", len(st))
	}
}

func TestTruncate(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"a longer reason", 10, "a longe…"},
		{"ééééé", 8, "éé…"}, // never cuts a rune in half
	} {
		if got := Truncate(c.in, c.n); got != c.want || len(got) > c.n {
			t.Errorf("Truncate(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}

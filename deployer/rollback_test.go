package deployer

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestDecideRollback walks the rollback decision one case at a time on
// hand-made views; rollback_cluster_test.go proves it on the API server.
func TestDecideRollback(t *testing.T) {
	d := unitDeployer()
	blue1, green2 := deployment(Blue, "1.0.0", 2), deployment(Green, "2.0.0", 2)
	bakingGreen := Standing{Phase: Baking, Version: "2.0.0", Template: tpl(green2), Since: t0, Until: t0.Add(10 * time.Minute)}
	stableBlue := at(Stable, blue1)
	alert := RollbackRequest{Reason: "UsersUnsatisfied", By: "alert:UsersUnsatisfied", Incident: "fp@t", Color: Green}
	cases := []struct {
		name    string
		v       *view
		req     RollbackRequest
		outcome RollbackOutcome
		err     error
		to      Color
		// records written, oldest first, and the standings after
		records   []EventReason
		blue      Phase
		green     Phase
		inMessage string
	}{
		{"baking green back to stable blue", newView(Green, t0.Add(time.Minute), map[Color]Standing{Blue: stableBlue, Green: bakingGreen}, blue1, green2),
			alert, OutcomeRolledBack, nil, Blue, []EventReason{EventRolledBack, EventMarkedFailed}, Stable, Failed, "now failed"},
		{"stable green back to stable blue: green is failed", newView(Green, t0.Add(time.Hour), map[Color]Standing{Blue: stableBlue, Green: bakingGreen}, blue1, green2),
			alert, OutcomeRolledBack, nil, Blue, []EventReason{EventPromoted, EventRolledBack, EventMarkedFailed}, Stable, Failed, ""},
		{"the incident moved traffic before", func() *view {
			v := newView(Green, t0, map[Color]Standing{Blue: stableBlue}, blue1, green2)
			v.st.History = []Record{{Event: EventRolledBack, Incident: "fp@t"}}
			return v
		}(), alert, OutcomeDuplicate, ErrIncidentSeen, "", nil, Stable, Unproven, "moved traffic before"},
		{"the alert judges the color without traffic", newView(Blue, t0, map[Color]Standing{Blue: stableBlue}, blue1, green2),
			alert, OutcomeNotActive, nil, "", nil, Stable, Unproven, "green is not active"},
		{"blue switched away from while baking is failed: refused", newView(Green, t0, map[Color]Standing{Blue: at(Failed, blue1), Green: bakingGreen}, blue1, green2),
			alert, OutcomeRefused, ErrNoStable, Blue, []EventReason{EventMarkedFailed, EventRollbackRefused}, Failed, Failed, "blue is failed at 1.0.0"},
		{"blue redeployed since it was stable: refused, and says which version", newView(Green, t0, map[Color]Standing{Blue: stableBlue, Green: bakingGreen},
			deployment(Blue, "3.0.0", 2), green2),
			alert, OutcomeRefused, ErrNoStable, Blue, []EventReason{EventMarkedFailed, EventRollbackRefused}, Unproven, Failed, "was stable at 1.0.0 but now runs 3.0.0"},
		{"same version, new template: refused", newView(Green, t0, map[Color]Standing{Blue: stableBlue, Green: bakingGreen},
			deployment(Blue, "1.0.0", 2, "team", "ml"), green2),
			alert, OutcomeRefused, ErrNoStable, Blue, []EventReason{EventMarkedFailed, EventRollbackRefused}, Unproven, Failed, "pod template"},
		{"stable blue with no ready replica: refused, retryable", newView(Green, t0, map[Color]Standing{Blue: stableBlue, Green: bakingGreen}, deployment(Blue, "1.0.0", 0), green2),
			alert, OutcomeRefused, ErrNotReady, Blue, []EventReason{EventMarkedFailed, EventRollbackRefused}, Stable, Failed, "no ready replica (0/2)"},
		{"the same refusal of the same incident is not recorded twice", func() *view {
			v := newView(Green, t0, map[Color]Standing{Blue: stableBlue, Green: at(Failed, green2)}, deployment(Blue, "1.0.0", 0), green2)
			_, _, recs, _ := d.decideRollback(newView(Green, t0, map[Color]Standing{Blue: stableBlue, Green: at(Failed, green2)}, deployment(Blue, "1.0.0", 0), green2), alert)
			v.st.History = recs
			return v
		}(), alert, OutcomeRefused, ErrNotReady, Blue, nil, Stable, Failed, ""},
		{"an incident on stable blue with nothing to return to changes no standing", newView(Blue, t0, map[Color]Standing{Blue: stableBlue}, blue1),
			RollbackRequest{Reason: "ResponseTimeTooLarge", Incident: "x", Color: Blue}, OutcomeRefused, ErrNoStable, Green, []EventReason{EventRollbackRefused}, Stable, Unproven,
			"green is not deployed"},
		{"override to an unproven color: it bakes, the history says so", newView(Green, t0, map[Color]Standing{Blue: at(Unproven, blue1), Green: bakingGreen}, blue1, green2),
			RollbackRequest{Reason: "operator", To: Blue}, OutcomeRolledBack, nil, Blue, []EventReason{EventRolledBack, EventMarkedFailed}, Baking, Failed, ""},
		{"override still needs a ready replica", newView(Green, t0, map[Color]Standing{Green: bakingGreen}, deployment(Blue, "1.0.0", 0), green2),
			RollbackRequest{Reason: "operator", To: Blue}, OutcomeRefused, ErrNotReady, Blue, []EventReason{EventMarkedFailed, EventRollbackRefused}, Unproven, Failed, "no ready replica"},
		{"dry run decides the same, writes nothing", newView(Green, t0.Add(time.Minute), map[Color]Standing{Blue: stableBlue, Green: bakingGreen}, blue1, green2),
			RollbackRequest{Reason: "x", Color: Green, DryRun: true}, OutcomeDryRun, nil, Blue, []EventReason{EventRolledBack, EventMarkedFailed}, Stable, Failed, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, next, recs, err := d.decideRollback(c.v, c.req)
			if res == nil {
				t.Fatalf("no result: %v", err)
			}
			if res.Outcome != c.outcome || !errors.Is(err, c.err) || (c.err == nil && err != nil) || res.To != c.to ||
				!strings.Contains(res.Message, c.inMessage) {
				t.Fatalf("got %s to %q (%q), err %v; want %s to %q, err %v, message with %q", res.Outcome, res.To, res.Message, err, c.outcome, c.to, c.err, c.inMessage)
			}
			var kinds []EventReason
			for _, r := range recs {
				kinds = append(kinds, r.Event)
			}
			if strings.Join(reasons(kinds), ",") != strings.Join(reasons(c.records), ",") {
				t.Errorf("records %v, want %v", kinds, c.records)
			}
			if len(recs) == 0 {
				return
			}
			nv := &view{st: next, deps: c.v.deps, now: c.v.now}
			if b, g := d.standingOf(nv, Blue).Phase, d.standingOf(nv, Green).Phase; b != c.blue || g != c.green {
				t.Errorf("after: blue %s, green %s; want %s, %s", b, g, c.blue, c.green)
			}
			for _, r := range recs {
				if r.Event == EventRolledBack && (r.Override != (c.req.To != "") || r.Incident != c.req.Incident || r.From != c.v.st.Active) {
					t.Errorf("RolledBack record %+v", r)
				}
				if r.Event == EventRollbackRefused && (!strings.Contains(r.Reason, c.req.Reason+": ") || r.Incident != c.req.Incident) {
					t.Errorf("RollbackRefused record %+v: want the request's reason, the refusal and the incident", r)
				}
			}
		})
	}
}

// BenchmarkDecideRollback is the decision alone on one view (no cluster):
// compare with BenchmarkRollback (rollback_cluster_test.go), the same
// decision with its reads and write on the API server.
func BenchmarkDecideRollback(b *testing.B) {
	d := unitDeployer()
	blue1, green2 := deployment(Blue, "1.0.0", 2), deployment(Green, "2.0.0", 2)
	v := newView(Green, t0.Add(time.Minute), map[Color]Standing{Blue: at(Stable, blue1),
		Green: {Phase: Baking, Version: "2.0.0", Template: tpl(green2), Since: t0, Until: t0.Add(10 * time.Minute)}}, blue1, green2)
	req := RollbackRequest{Reason: "UsersUnsatisfied", By: "alert:UsersUnsatisfied", Incident: "fp@t", Color: Green}
	b.ReportAllocs()
	for b.Loop() {
		v.tpl = nil // each decision reads a fresh view and hashes its templates
		if res, _, _, err := d.decideRollback(v, req); err != nil || res.Outcome != OutcomeRolledBack {
			b.Fatal(res, err)
		}
	}
}

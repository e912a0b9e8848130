package main

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/remla/tagger/deployer"
	"github.com/remla/tagger/test/testenv"
)

// sampleState is the example of docs/operations.md: blue stable since init,
// green 1.1.0 rolled back by an alert, then green 1.2.0 deployed and baking.
func sampleState() (*deployer.State, time.Time) {
	t0 := time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)
	by := "operator:ana@laptop"
	alert := "alert:UsersUnsatisfied"
	blueTpl, greenTpl := "5c1d0e9a7b3f", "0a4e2b66c9d1"
	greenSince := t0.Add(150 * time.Minute)
	h := []deployer.Record{
		{Time: greenSince, Event: deployer.EventSwitched, Color: deployer.Green, Version: "1.2.0", Standing: deployer.Baking,
			From: deployer.Blue, To: deployer.Green, Reason: "deploy 1.2.0", By: by},
		{Time: greenSince, Event: deployer.EventDeployed, Color: deployer.Green, Version: "1.2.0", Standing: deployer.Unproven, Reason: "deploy 1.2.0", By: by},
		{Time: t0.Add(63 * time.Minute), Event: deployer.EventMarkedFailed, Color: deployer.Green, Version: "1.1.0", Standing: deployer.Failed,
			Reason: "rolled back: UsersUnsatisfied", By: alert},
		{Time: t0.Add(63 * time.Minute), Event: deployer.EventRolledBack, Color: deployer.Blue, Version: "1.0.0", Standing: deployer.Stable,
			From: deployer.Green, To: deployer.Blue, Reason: "UsersUnsatisfied", By: alert, Incident: "3f2a9c01d4e5b677@2026-11-26T02:02:41Z"},
		{Time: t0.Add(time.Hour), Event: deployer.EventSwitched, Color: deployer.Green, Version: "1.1.0", Standing: deployer.Baking,
			From: deployer.Blue, To: deployer.Green, Reason: "deploy 1.1.0", By: by},
		{Time: t0.Add(time.Hour), Event: deployer.EventDeployed, Color: deployer.Green, Version: "1.1.0", Standing: deployer.Unproven, Reason: "deploy 1.1.0", By: by},
		{Time: t0, Event: deployer.EventPromoted, Color: deployer.Blue, Version: "1.0.0", Standing: deployer.Stable, Reason: "init: nothing to compare it with", By: by},
		{Time: t0, Event: deployer.EventSwitched, Color: deployer.Blue, Version: "1.0.0", To: deployer.Blue, Reason: "init 1.0.0", By: by},
		{Time: t0, Event: deployer.EventDeployed, Color: deployer.Blue, Version: "1.0.0", Standing: deployer.Unproven, Reason: "init 1.0.0", By: by},
	}
	st := &deployer.State{
		Namespace: "remla", Active: deployer.Green, History: h,
		Rollback: deployer.RollbackPlan{To: deployer.Blue, Version: "1.0.0"},
		Colors: map[deployer.Color]deployer.ColorStatus{
			deployer.Blue: {Deployed: true, Version: "1.0.0", Template: blueTpl, Image: "ghcr.io/remla/tagger:1.0.0", Ready: 2, Desired: 2, Updated: 2, Rollout: "complete",
				Standing:    deployer.Standing{Phase: deployer.Stable, Version: "1.0.0", Template: blueTpl, Since: t0, Reason: "init: nothing to compare it with", By: by},
				ActiveSince: h[3].Time, ActiveReason: h[3].Reason, Standby: &deployer.StandbyStatus{Mode: "warm", Replicas: 2}},
			deployer.Green: {Deployed: true, Version: "1.2.0", Template: greenTpl, Image: "ghcr.io/remla/tagger:1.2.0", Ready: 2, Desired: 2, Updated: 2, Rollout: "complete",
				Standing: deployer.Standing{Phase: deployer.Baking, Version: "1.2.0", Template: greenTpl, Since: greenSince, Until: greenSince.Add(10 * time.Minute),
					Reason: "active since 2026-11-26T03:30:00Z (deploy 1.2.0); stable after 10m0s without a rollback", By: by},
				ActiveSince: greenSince, ActiveReason: "deploy 1.2.0"},
		},
	}
	return st, greenSince.Add(2*time.Minute + 30*time.Second)
}

func TestPrintGolden(t *testing.T) {
	st, now := sampleState()
	for _, out := range []string{"table", "json", "yaml"} {
		for name, print := range map[string]func(*bytes.Buffer) error{
			"status":  func(b *bytes.Buffer) error { return printState(b, out, "remla", st, now) },
			"history": func(b *bytes.Buffer) error { return printHistory(b, out, st.History) },
		} {
			t.Run(name+"-"+out, func(t *testing.T) {
				var b bytes.Buffer
				if err := print(&b); err != nil {
					t.Fatal(err)
				}
				testenv.Golden(t, filepath.Join("testdata", name+"."+out), b.Bytes())
			})
		}
	}
}

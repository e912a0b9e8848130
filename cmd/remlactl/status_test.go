package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/remla/tagger/deployer"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files under testdata/")

func sampleState() *deployer.State {
	t0 := time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)
	h := []deployer.SwitchRecord{
		{Time: t0.Add(2 * time.Hour), From: deployer.Green, To: deployer.Blue, Reason: "UsersUnsatisfied", By: "alert:UsersUnsatisfied", Incident: "3f2a@2026-11-26T02:59:00Z", Rollback: true},
		{Time: t0.Add(time.Hour), From: deployer.Blue, To: deployer.Green, Reason: "deploy 1.1.0", By: "operator:ana@laptop"},
		{Time: t0, To: deployer.Blue, Reason: "init 1.0.0", By: "operator:ana@laptop"},
	}
	return &deployer.State{
		Active: deployer.Blue, LastGood: deployer.Blue, History: h,
		Colors: map[deployer.Color]deployer.ColorStatus{
			deployer.Blue: {Deployed: true, Version: "1.0.0", Image: "ghcr.io/remla/tagger:1.0.0", Ready: 2, Desired: 2, Updated: 2, Rollout: "complete",
				ActiveSince: h[0].Time, ActiveReason: h[0].Reason},
			deployer.Green: {Deployed: true, Version: "1.1.0", Image: "ghcr.io/remla/tagger:1.1.0", Ready: 1, Desired: 2, Updated: 2, Rollout: "1 of 2 updated replicas are available",
				ActiveSince: h[1].Time, ActiveReason: h[1].Reason},
		},
	}
}

func TestPrintGolden(t *testing.T) {
	st := sampleState()
	for _, out := range []string{"table", "json", "yaml"} {
		for name, print := range map[string]func(*bytes.Buffer) error{
			"status":  func(b *bytes.Buffer) error { return printState(b, out, "remla", st) },
			"history": func(b *bytes.Buffer) error { return printHistory(b, out, st.History) },
		} {
			t.Run(name+"-"+out, func(t *testing.T) {
				var b bytes.Buffer
				if err := print(&b); err != nil {
					t.Fatal(err)
				}
				golden := filepath.Join("testdata", name+"."+out)
				if *updateGolden {
					if err := os.MkdirAll("testdata", 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test ./cmd/remlactl -update)", err)
				}
				if !bytes.Equal(b.Bytes(), want) {
					t.Errorf("%s differs; review and run go test ./cmd/remlactl -update\n--- got:\n%s", golden, b.String())
				}
			})
		}
	}
}

package testenv

import (
	"encoding/json"
	"os"
	"testing"
)

// Dashboard is what tests read of a Grafana dashboard: its panels and the
// PromQL expression of each panel's queries.
type Dashboard struct {
	Title  string           `json:"title"`
	Panels []DashboardPanel `json:"panels"`
}

// DashboardPanel is one panel of a Dashboard.
type DashboardPanel struct {
	Title   string `json:"title"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

// ReadDashboard reads the Grafana dashboard JSON at path, or fails the test.
func ReadDashboard(t testing.TB, path string) Dashboard {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d Dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s is not a Grafana dashboard's JSON: %v", path, err)
	}
	return d
}

package testenv

import (
	"strings"
	"testing"
)

func TestReadDashboard(t *testing.T) {
	d := ReadDashboard(t, "testdata/dashboard.json")
	if d.Title != "Two panels" || len(d.Panels) != 2 {
		t.Fatalf("read %+v, want the title and two panels", d)
	}
	if p := d.Panels[0]; p.Title != "Rate" || len(p.Targets) != 2 || p.Targets[0].Expr != "rate(num_pred[1m])" || p.Targets[1].Expr != "up" {
		t.Errorf("first panel %+v, want Rate with its two expressions in order", p)
	}
	if p := d.Panels[1]; p.Title != "Empty" || len(p.Targets) != 0 {
		t.Errorf("second panel %+v, want Empty without queries", p)
	}
	for path, says := range map[string]string{
		"testdata/dashboard-truncated.json": "is not a Grafana dashboard's JSON",
		"testdata/none.json":                "no such file",
	} {
		r := run(t, func(tb testing.TB) { ReadDashboard(tb, path) })
		if msg := strings.Join(r.errors, ""); !r.fatal || !strings.Contains(msg, says) {
			t.Errorf("ReadDashboard(%s): fatal %v, %q; want a failure saying %q", path, r.fatal, msg, says)
		}
	}
}

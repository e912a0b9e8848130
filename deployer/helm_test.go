package deployer

import (
	"os"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chartutil"

	"github.com/remla/tagger/charts"
)

// TestValuesMatchChartGolden renders the built-in chart with the values the
// deployer really passes and compares with the golden files of charts/, so
// those files show what remlactl installs.
func TestValuesMatchChartGolden(t *testing.T) {
	d := &Deployer{cfg: DefaultConfig()}
	tests := []struct {
		golden, release string
		vals            map[string]any
	}{
		{"blue.yaml", "remla-blue", d.colorValues(Blue, "1.0.0", DeployOptions{})},
		{"green.yaml", "remla-green", d.colorValues(Green, "2.0.0", DeployOptions{Replicas: 3, PodLabels: map[string]string{"remla.test/never-ready": "true"}})},
		{"shared.yaml", "remla-shared", d.sharedValues(Blue)},
	}
	for _, tc := range tests {
		t.Run(tc.golden, func(t *testing.T) {
			ch, err := d.chart()
			if err != nil {
				t.Fatal(err)
			}
			inst := action.NewInstall(&action.Configuration{})
			inst.DryRun, inst.ClientOnly, inst.Replace = true, true, true
			inst.ReleaseName, inst.Namespace = tc.release, "remla"
			inst.KubeVersion = &chartutil.KubeVersion{Version: "v1.37.2", Major: "1", Minor: "37"}
			rel, err := inst.Run(ch, tc.vals)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile("../charts/testdata/" + tc.golden)
			if err != nil {
				t.Fatal(err)
			}
			if charts.MaskGenerated(rel.Manifest) != string(want) {
				t.Errorf("the deployer's values render differently from charts/testdata/%s:\n%s", tc.golden, rel.Manifest)
			}
		})
	}
}

package deployer

import (
	"os"
	"slices"
	"strings"
	"testing"
)

func TestManifestDiff(t *testing.T) {
	b, err := os.ReadFile("testdata/live-manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	liveManifest := string(b)
	proposed := strings.NewReplacer("tagger:1.0.0", "tagger:2.0.0", "k: b2xk", "k: bmV3").Replace(liveManifest)
	// Helm's order may change; the diff goes by kind and name.
	parts := strings.SplitAfterN(proposed, "---\n", 3)
	proposed = "---\n" + parts[2] + "\n---\n" + parts[1] + "\n---\n" + `apiVersion: v1
kind: ConfigMap
metadata:
  name: extra
`
	rd := manifestDiff("remla-green", liveManifest, proposed)
	if want := []string{"+ ConfigMap/extra", "~ Deployment/remla-green", "~ Secret/key"}; !slices.Equal(rd.Objects, want) {
		t.Errorf("objects %v, want %v", rd.Objects, want)
	}
	for _, want := range []string{"--- live/Deployment/remla-green", "+++ proposed/Deployment/remla-green",
		"-      - image: ghcr.io/remla/tagger:1.0.0", "+      - image: ghcr.io/remla/tagger:2.0.0", "+kind: ConfigMap",
		"~ Secret/key (a Secret: contents not shown)"} {
		if !strings.Contains(rd.Diff, want) {
			t.Errorf("diff lacks %q:\n%s", want, rd.Diff)
		}
	}
	for _, leak := range []string{"b2xk", "bmV3", "Service/remla-green-preview"} {
		if strings.Contains(rd.Diff, leak) {
			t.Errorf("diff shows %q (a Secret's data, or an unchanged object):\n%s", leak, rd.Diff)
		}
	}
	gone := manifestDiff("remla-green", liveManifest, "")
	if want := []string{"- Deployment/remla-green", "- Secret/key", "- Service/remla-green-preview"}; !slices.Equal(gone.Objects, want) {
		t.Errorf("uninstall: %v, want %v", gone.Objects, want)
	}
	if same := manifestDiff("r", liveManifest, liveManifest); len(same.Objects) != 0 || same.Diff != "" {
		t.Errorf("no change: %+v", same)
	}
}

func TestPlanSwitchDecidesAsSwitch(t *testing.T) {
	f := newStandbyCluster(t)
	p, err := f.d.PlanSwitch(t.Context(), Blue, SwitchOptions{Reason: "deliberate"})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, r := range p.Records {
		kinds = append(kinds, string(r.Kind()))
	}
	if strings.Join(kinds, ",") != "Promoted,Switched" || !strings.Contains(p.Traffic, "from green (2.0.0) to blue (1.0.0)") {
		t.Errorf("plan %+v (%v)", p, kinds)
	}
	if st, _ := f.d.Status(t.Context()); st.Active != Green {
		t.Error("the dry run switched")
	}
}

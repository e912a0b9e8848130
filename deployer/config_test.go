package deployer

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		check   func(*testing.T, *Config)
		wantErr string
	}{
		{name: "empty file keeps REMLA defaults", yaml: "", check: func(t *testing.T, c *Config) {
			if c.Release(Blue) != "remla-blue" || c.Release(Green) != "remla-green" || c.ActiveService != "remla" || c.Labels.Color != "color" || c.HistoryLimit != 100 {
				t.Errorf("defaults: %+v", c)
			}
		}},
		{name: "another app derives its names", yaml: "app: shop\nservicePort: 8080\n", check: func(t *testing.T, c *Config) {
			if c.Release(Blue) != "shop-blue" || c.Release(Green) != "shop-green" || c.SharedRelease != "shop-shared" || c.ActiveService != "shop" || c.Lease != "shop-deployer" {
				t.Errorf("names must derive from app: %+v", c)
			}
			if c.App != "shop" || c.ServicePort != 8080 || c.ContainerPort != 8080 {
				t.Errorf("got %+v", c)
			}
		}},
		{name: "releases and labels", yaml: "releases: {blue: a-b, green: a-g}\nlabels: {color: track}\nvalues: {modelPath: /m}\n", check: func(t *testing.T, c *Config) {
			if c.Release(Blue) != "a-b" || c.Release(Green) != "a-g" || c.Labels.Color != "track" || c.Labels.App != "app" || c.Values["modelPath"] != "/m" {
				t.Errorf("got %+v", c)
			}
		}},
		{name: "typo is refused", yaml: "activeSvc: x\n", wantErr: "unknown field"},
		{name: "bad color key", yaml: "releases: {red: x}\n", wantErr: "unknown color \"red\""},
		{name: "same release twice", yaml: "releases: {blue: x, green: x}\n", wantErr: "different release names"},
		{name: "not yaml", yaml: "app: [", wantErr: "parse deployer config"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseConfig([]byte(tc.yaml))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

func TestColorValues(t *testing.T) {
	c, err := ParseConfig([]byte("image: reg.local/shop\nreplicas: 3\nvalues: {podLabels: {team: ml}, resources: {limits: {memory: 1Gi}}, color: red}\n"))
	if err != nil {
		t.Fatal(err)
	}
	d := &Deployer{cfg: c}
	v := d.colorValues(Green, "2.1", DeployOptions{PodLabels: map[string]string{"x": "y"}})
	if v["color"] != "green" || v["version"] != "2.1" || v["replicas"] != 3 {
		t.Errorf("deployer's values must win over remla.yaml values: %v", v)
	}
	if v["image"].(map[string]any)["repository"] != "reg.local/shop" {
		t.Errorf("image %v", v["image"])
	}
	pl := v["podLabels"].(map[string]any)
	if pl["team"] != "ml" || pl["x"] != "y" {
		t.Errorf("podLabels %v", pl)
	}
	if v["resources"].(map[string]any)["limits"].(map[string]any)["memory"] != "1Gi" {
		t.Errorf("resources from remla.yaml lost: %v", v["resources"])
	}
	if v["shared"].(map[string]any)["enabled"] != false || v["deployment"].(map[string]any)["enabled"] != true {
		t.Errorf("a color release must render only its color: %v", v)
	}
	// c.Values must not be changed by building values.
	if _, ok := c.Values["podLabels"].(map[string]any)["x"]; ok {
		t.Error("colorValues modified the config's values")
	}
	s := d.sharedValues(Blue)
	if s["shared"].(map[string]any)["activeColor"] != "blue" || s["deployment"].(map[string]any)["enabled"] != false {
		t.Errorf("shared values %v", s)
	}
}

func TestValidateVersion(t *testing.T) {
	for v, ok := range map[string]bool{"1.0.0": true, "v2": true, "2024-05-01_rc1": true, "": false, "1.0/evil": false, "-x": false, strings.Repeat("9", 64): false} {
		if err := ValidateVersion(v); (err == nil) != ok {
			t.Errorf("ValidateVersion(%q) = %v, want ok=%v", v, err, ok)
		}
	}
}

// TestDocumentedConfig: the remla.yaml shown in docs/operations.md parses and
// states the real defaults.
func TestDocumentedConfig(t *testing.T) {
	doc, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	start := strings.Index(s, "```yaml\n# remla.yaml")
	if start < 0 {
		t.Fatal("docs/operations.md has no ```yaml block starting with # remla.yaml")
	}
	block := s[start+len("```yaml\n"):]
	block = block[:strings.Index(block, "```")]
	c, err := ParseConfig([]byte(block))
	if err != nil {
		t.Fatalf("the documented remla.yaml does not parse: %v", err)
	}
	c.Values, c.Namespace = nil, ""
	if want := DefaultConfig(); !reflect.DeepEqual(c, want) {
		t.Errorf("the documented remla.yaml differs from the defaults:\n doc %+v\ncode %+v", c, want)
	}
}

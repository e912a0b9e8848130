package analysis

import (
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	var nilCfg *Config
	if err := nilCfg.Validate(); err != nil {
		t.Fatal(err)
	}
	m := MetricConfig{Name: "err", Query: "up", SuccessCondition: "result > 0"}
	bad := -0.5
	c := &Config{Smoke: &SmokeConfig{Requests: -1}, Quality: &QualityConfig{File: "v.tsv", Margin: &bad}, PostPromotion: []MetricConfig{m, m}}
	err := c.Validate()
	for _, want := range []string{"requests -1", "margin -0.5", "named twice", "need analysis.prometheus"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v, want %q", err, want)
		}
	}
	ok := &Config{Smoke: &SmokeConfig{}, Quality: &QualityConfig{File: "data/validation.tsv.gz"}, Prometheus: "http://p:9090", PrePromotion: []MetricConfig{m}}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	if g := ok.PrePromotionGates(); len(g) != 3 || !strings.Contains(g[1], "0.01") {
		t.Fatalf("gates %q", g)
	}
}

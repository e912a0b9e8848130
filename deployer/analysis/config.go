package analysis

import (
	"errors"
	"fmt"
)

// Config is remla.yaml's analysis: block: the checks a deploy runs after
// the candidate is ready and before traffic moves to it (smoke, quality,
// prePromotion), and those it runs while the candidate bakes
// (postPromotion). A nil or empty block runs no gate.
type Config struct {
	Smoke   *SmokeConfig   `json:"smoke,omitempty"`
	Quality *QualityConfig `json:"quality,omitempty"`
	// Prometheus is the base URL of the Prometheus the metric checks ask.
	Prometheus    string         `json:"prometheus,omitempty"`
	PrePromotion  []MetricConfig `json:"prePromotion,omitempty"`
	PostPromotion []MetricConfig `json:"postPromotion,omitempty"`
}

// Validate reports every field that cannot work.
func (c *Config) Validate() error {
	if c == nil {
		return nil
	}
	var errs []error
	if c.Smoke != nil {
		errs = append(errs, c.Smoke.Validate())
	}
	if c.Quality != nil {
		errs = append(errs, c.Quality.Validate())
	}
	names := map[string]bool{}
	for _, m := range append(append([]MetricConfig{}, c.PrePromotion...), c.PostPromotion...) {
		errs = append(errs, m.Validate())
		if names[m.Name] {
			errs = append(errs, fmt.Errorf("analysis metric %q is named twice", m.Name))
		}
		names[m.Name] = true
	}
	if (len(c.PrePromotion) > 0 || len(c.PostPromotion) > 0) && c.Prometheus == "" {
		errs = append(errs, errors.New("analysis: metric checks need analysis.prometheus, the URL of a Prometheus (or --prometheus)"))
	}
	return errors.Join(errs...)
}

// PrePromotionGates names the checks run before the switch, in order, for
// the dry run and the log.
func (c *Config) PrePromotionGates() []string {
	if c == nil {
		return nil
	}
	var out []string
	if c.Smoke != nil {
		s := c.Smoke.Defaults()
		out = append(out, fmt.Sprintf("smoke: %d predictions to the candidate's preview Service; all 2xx, at least %.0f%% with a tag, p95 at most %s", s.Requests, 100*s.MinNonEmpty, s.MaxP95.Duration))
	}
	if c.Quality != nil {
		out = append(out, fmt.Sprintf("quality: replay %s to the candidate and the stable color; refuse if F1 weighted is lower by more than %g", c.Quality.File, c.Quality.margin()))
	}
	for _, m := range c.PrePromotion {
		out = append(out, fmt.Sprintf("metric %s: %s, %d time(s)", m.Name, m.SuccessCondition, max(m.Count, 1)))
	}
	return out
}

package deployer

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"k8s.io/client-go/rest"

	"github.com/remla/tagger/deployer/analysis"
	"github.com/remla/tagger/training"
)

// The records of the gates (deployer/analysis): a verdict goes into the
// history and becomes an Event like every other record.
const (
	EventAnalysisPassed  EventReason = "AnalysisPassed"  // every pre- or post-promotion check passed
	EventAnalysisFailed  EventReason = "AnalysisFailed"  // a check failed: traffic stayed (pre) or was rolled back (post)
	EventAnalysisSkipped EventReason = "AnalysisSkipped" // deploy --skip-analysis, the logged emergency bypass
)

// ErrAnalysisFailed: a promotion gate refused the candidate (remlactl exit
// code 5).
var ErrAnalysisFailed = errors.New("analysis failed")

// AnalysisOptions say which gates a deploy runs before it switches.
type AnalysisOptions struct {
	// Config replaces remla.yaml's analysis: block when set (the one-off
	// flags of deploy build it).
	Config *analysis.Config
	// Skip runs no gate and records why (--skip-analysis).
	Skip bool
	// Report, when set, is told each check's result as it is known.
	Report func(analysis.Result)
}

// GateError is a refused candidate: which checks did not pass, and how.
type GateError struct {
	Color   Color
	Version string
	// Stage is "pre-promotion" or "post-promotion".
	Stage   string
	Results []analysis.Result
	// RolledBack is what the rollback of a post-promotion failure did.
	RolledBack *RollbackResult
}

func (e *GateError) Error() string {
	var bad []string
	for _, r := range e.Results {
		if r.Phase != analysis.Successful {
			bad = append(bad, fmt.Sprintf("%s %s: %s", r.Name, strings.ToLower(string(r.Phase)), r.Message))
		}
	}
	s := fmt.Sprintf("%s: %s %s: %s", e.Stage, e.Color, e.Version, strings.Join(bad, "; "))
	switch {
	case e.RolledBack != nil:
		s += "; " + e.RolledBack.Message
	case e.Stage == "pre-promotion":
		s += fmt.Sprintf("; traffic unchanged, %s marked failed at %s (deploy --skip-analysis to bypass, recorded)", e.Color, e.Version)
	}
	return s
}

func (e *GateError) Unwrap() error { return ErrAnalysisFailed }

// analysisConfig is the block a deploy runs: the options', else remla.yaml's.
func (d *Deployer) analysisConfig(o AnalysisOptions) *analysis.Config {
	if o.Config != nil {
		return o.Config
	}
	return d.cfg.Analysis
}

// Preview is how the checks reach color c: its preview Service through the
// API server's service proxy.
func (d *Deployer) Preview(c Color) analysis.Target {
	rc, _ := d.client.CoreV1().RESTClient().(*rest.RESTClient)
	return &analysis.ServiceProxy{Client: rc, Color: string(c), NS: d.ns, Service: d.cfg.PreviewService(c), Port: "http"}
}

func (d *Deployer) args(c Color, version string) analysis.Args {
	return analysis.Args{Namespace: d.ns, App: d.cfg.App, Color: string(c), Version: version}
}

// prePromotion runs the gates of o on candidate c at version, which is
// ready and has no traffic: smoke first (a version that answers errors is
// not worth replaying a file to), then quality against the stable active
// color, then the metric checks. It returns the results and the records of
// the verdict; a failed gate is a *GateError, and the caller records it.
func (d *Deployer) prePromotion(ctx context.Context, c Color, version string, o AnalysisOptions) ([]analysis.Result, error) {
	cfg := d.analysisConfig(o)
	if cfg == nil || (cfg.Smoke == nil && cfg.Quality == nil && len(cfg.PrePromotion) == 0) {
		return nil, nil
	}
	var out []analysis.Result
	add := func(r analysis.Result) bool {
		out = append(out, r)
		if o.Report != nil {
			o.Report(r)
		}
		d.log.Info("analysis", "check", r.Name, "phase", r.Phase, "color", c, "version", version, "message", r.Message)
		return r.Phase == analysis.Successful
	}
	fail := func() error { return &GateError{Color: c, Version: version, Stage: "pre-promotion", Results: out} }
	cand := d.Preview(c)
	if cfg.Smoke != nil {
		titles := analysis.BuiltinTitles
		if cfg.Smoke.TitlesFile != "" {
			var err error
			if titles, err = analysis.LoadTitles(cfg.Smoke.TitlesFile); err != nil {
				return nil, err
			}
		}
		if !add(analysis.Smoke(ctx, cand, titles, *cfg.Smoke)) {
			return out, fail()
		}
	}
	if cfg.Quality != nil {
		if !add(d.quality(ctx, c, cand, *cfg.Quality)) {
			return out, fail()
		}
	}
	if len(cfg.PrePromotion) > 0 {
		p := &analysis.Prometheus{Address: cfg.Prometheus}
		for _, m := range cfg.PrePromotion {
			if !add(analysis.Measure(ctx, p, m, d.args(c, version))) {
				return out, fail()
			}
		}
	}
	return out, nil
}

// quality runs the model-quality gate of candidate c against the stable
// color, which must be the other color and stable at what it runs now.
func (d *Deployer) quality(ctx context.Context, c Color, cand analysis.Target, qc analysis.QualityConfig) analysis.Result {
	st, err := d.Status(ctx)
	if err != nil {
		return analysis.Result{Name: "quality", Phase: analysis.Error, Message: err.Error()}
	}
	ref := other(c)
	if s := st.Colors[ref].Standing; s.Phase != Stable {
		return analysis.Result{Name: "quality", Phase: analysis.Inconclusive,
			Message: fmt.Sprintf("no stable color to compare with: %s is %s at %s (%s)", ref, s.Phase, orDash(s.Version), s.Reason)}
	}
	ds, err := training.LoadDataset(qc.File)
	if err != nil {
		return analysis.Result{Name: "quality", Phase: analysis.Error, Message: err.Error()}
	}
	q := analysis.QualityGate(ctx, cand, d.Preview(ref), ds, qc)
	q.Message = fmt.Sprintf("%s %s against stable %s %s, %s", c, orDash(st.Colors[c].Version), ref, st.Colors[ref].Version, q.Message)
	return q.Result
}

// verdictRecord is the history record of a gate's verdict.
func (d *Deployer) verdictRecord(v *view, c Color, version, stage string, rs []analysis.Result) Record {
	ev, parts := EventAnalysisPassed, []string{}
	for _, r := range rs {
		if r.Phase != analysis.Successful {
			ev = EventAnalysisFailed
		}
		parts = append(parts, fmt.Sprintf("%s %s", r.Name, strings.ToLower(string(r.Phase))))
	}
	reason := stage + ": " + strings.Join(parts, ", ")
	for _, r := range rs {
		if r.Phase != analysis.Successful {
			reason += ": " + r.Message
			break
		}
	}
	return Record{Time: v.now, Event: ev, Color: c, Version: version, Reason: reason, By: d.identity}
}

// recordGateFailed records a candidate refused before promotion: its
// deploy, the verdict, then MarkFailed at version. Traffic stays.
func (d *Deployer) recordGateFailed(ctx context.Context, c Color, version string, gerr *GateError) error {
	err := d.update(ctx, func(v *view) (stored, []Record, error) {
		if err := d.initialized(v); err != nil {
			return stored{}, nil, err
		}
		next := v.st.clone()
		recs := d.promotions(v, &next)
		recs = append(recs, Record{Time: v.now, Event: EventDeployed, Color: c, Version: version, Standing: d.standingOf(v, c).Phase,
			Reason: "deploy " + version + ", refused by its pre-promotion analysis", By: d.identity},
			d.verdictRecord(v, c, version, "pre-promotion", gerr.Results))
		return next, recs, nil
	})
	if err != nil {
		return fmt.Errorf("record the failed analysis: %w", err)
	}
	_, err = d.MarkFailed(ctx, c, version, "pre-promotion analysis failed", d.identity)
	return err
}

// gates runs before a deploy's switch: nothing when the deploy does not
// switch; with o.Analysis.Skip, a logged AnalysisSkipped record; else the
// pre-promotion checks. A refusal is recorded (and c marked failed) here and
// returned as a *GateError; otherwise the records to write with the switch.
func (d *Deployer) gates(ctx context.Context, c Color, version string, o DeployOptions) ([]analysis.Result, func(v *view) []Record, error) {
	if o.NoSwitch {
		return nil, nil, nil
	}
	if o.Analysis.Skip {
		cfg := d.analysisConfig(o.Analysis)
		d.log.Warn("--skip-analysis: no promotion gate runs; recorded in the history", "color", c, "version", version,
			"skipped", strings.Join(cfg.PrePromotionGates(), "; "))
		return nil, func(v *view) []Record {
			return []Record{{Time: v.now, Event: EventAnalysisSkipped, Color: c, Version: version,
				Reason: "pre-promotion analysis skipped (--skip-analysis): " + o.Reason, By: d.identity}}
		}, nil
	}
	rs, err := d.prePromotion(ctx, c, version, o.Analysis)
	var gerr *GateError
	if errors.As(err, &gerr) {
		if rerr := d.recordGateFailed(ctx, c, version, gerr); rerr != nil {
			d.log.Warn("could not record the refusal", "color", c, "version", version, "err", rerr)
		}
		return rs, nil, err
	}
	if err != nil || len(rs) == 0 {
		return rs, nil, err
	}
	return rs, func(v *view) []Record { return []Record{d.verdictRecord(v, c, version, "pre-promotion", rs)} }, nil
}

// PlannedGates names the pre-promotion gates a deploy with o would run, in
// order, for a dry run: none with --no-switch, the bypass with
// --skip-analysis.
func (d *Deployer) PlannedGates(o DeployOptions) []string {
	switch {
	case o.NoSwitch:
		return nil
	case o.Analysis.Skip:
		return []string{"analysis skipped (--skip-analysis): recorded as AnalysisSkipped"}
	}
	return d.analysisConfig(o.Analysis).PrePromotionGates()
}

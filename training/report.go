package training

import (
	"encoding/json"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Report is everything a data scientist wants to know about a trained model. It is written as
// report.json, report.md and report.svg/report.png by WriteReport.
type Report struct {
	Model        string            `json:"model"`
	CodeVersion  string            `json:"code_version"`
	Created      string            `json:"created"`
	Config       Config            `json:"config"`
	TrainFile    string            `json:"train_file"`
	TrainSHA256  string            `json:"train_sha256"`
	TrainRows    int               `json:"train_rows"`
	Features     int               `json:"features"`
	Tags         int               `json:"tags"`
	FitSeconds   float64           `json:"fit_seconds"`
	Unconverged  []string          `json:"unconverged_tags"`
	Rule         RuleSummary       `json:"rule"`
	Holdout      *Metrics          `json:"holdout,omitempty"`       // tuned rule on the held-out slice of train
	HoldoutFixed *Metrics          `json:"holdout_fixed,omitempty"` // 0.5 rule on the held-out slice
	Tuning       *Tuning           `json:"tuning,omitempty"`        // the rule tuned on the serving weights vs before rounding
	Validation   *Evaluation       `json:"validation,omitempty"`
	DataSHA256   map[string]string `json:"data_sha256"`
}

// RuleSummary describes the decision rule in a few numbers.
type RuleSummary struct {
	Name          string  `json:"name"`
	Relative      float64 `json:"relative"`
	AlwaysTop     bool    `json:"always_top"`
	Floor         float64 `json:"floor"`
	ThresholdMin  float64 `json:"threshold_min"`
	ThresholdMean float64 `json:"threshold_mean"`
	ThresholdMax  float64 `json:"threshold_max"`
}

// WriteReport writes report.json, report.md, report.svg and report.png into dir.
func WriteReport(dir string, r *Report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.json"), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "report.md"), []byte(r.Markdown()), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if r.Validation != nil {
		if err := drawReport(filepath.Join(dir, "report"), r.Validation); err != nil {
			return fmt.Errorf("draw report: %w", err)
		}
	}
	return nil
}

// Markdown is the report as a Markdown page.
func (r *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Model %s\n\n", r.Model)
	fmt.Fprintf(&b, "Configuration `%s`: %s features (%d), %s logistic regression C=%g, rule `%s`. ",
		r.Config.Name, r.Config.Features.Kind, r.Features, r.Config.Solver.Penalty, r.Config.Solver.C, r.Rule.Name)
	fmt.Fprintf(&b, "Trained on %s (%d titles, sha256 %s…) in %.1f s; code %s, created %s.\n\n",
		r.TrainFile, r.TrainRows, short(r.TrainSHA256), r.FitSeconds, r.CodeVersion, r.Created)
	if r.Rule.Name != "fixed-0.5" {
		fmt.Fprintf(&b, "Decision rule: per-tag thresholds %.2f–%.2f (mean %.2f); a tag also needs ≥ %.2f × the top score; the top tag is always given when its score is ≥ %.2f.\n\n",
			r.Rule.ThresholdMin, r.Rule.ThresholdMax, r.Rule.ThresholdMean, r.Rule.Relative, r.Rule.Floor)
	}
	if len(r.Unconverged) > 0 {
		fmt.Fprintf(&b, "**Solver did not converge** for %d tags: %s.\n\n", len(r.Unconverged), strings.Join(r.Unconverged, ", "))
	}
	if r.Validation != nil {
		fmt.Fprintf(&b, "## %s (%d titles)\n\n", r.Validation.File, r.Validation.Metrics.Rows)
		b.WriteString(MetricsTable(r.Validation))
		b.WriteString("\n![per-tag F1 and micro precision-recall](report.svg)\n\n")
	}
	if r.Holdout != nil {
		fmt.Fprintf(&b, "## Held-out slice of the training file (%d titles, used to tune the rule)\n\n", r.Holdout.Rows)
		b.WriteString(summaryTable([]string{"0.5 rule", "tuned rule"}, []*Metrics{r.HoldoutFixed, r.Holdout}))
	}
	if t := r.Tuning; t != nil {
		fmt.Fprintf(&b, "\n## Tuning on the serving weights\n\n"+
			"The rule is tuned on the held-out scores of the %s weights that serve. Tuned instead on the solver's float64 weights "+
			"(before rounding), it would differ in %d of %d thresholds, relative %+.3f, floor %+.3f. Both rules scored through the %s weights:\n\n",
			t.Weights, t.Moved.Thresholds, r.Tags, t.Moved.Relative, t.Moved.Floor, t.Weights)
		b.WriteString(summaryTable([]string{"tuned on float64 (before)", "tuned on " + t.Weights + " (after)"}, []*Metrics{t.Before, t.After}))
	}
	if r.Validation != nil {
		b.WriteString("\n## Per tag\n\n| tag | support | predicted | precision | recall | F1 | AP | ROC AUC |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
		per := append([]TagMetrics(nil), r.Validation.Metrics.PerTag...)
		sort.SliceStable(per, func(i, j int) bool { return per[i].Support > per[j].Support })
		for _, t := range per {
			fmt.Fprintf(&b, "| %s | %d | %d | %.3f | %.3f | %.3f | %s | %s |\n", t.Tag, t.Support, t.Predicted, t.Precision, t.Recall, t.F1, optional(t.AveragePrecision), optional(t.ROCAUC))
		}
	}
	return b.String()
}

func optional(x *float64) string {
	if x == nil {
		return "–"
	}
	return fmt.Sprintf("%.3f", *x)
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// MetricsTable is the headline metrics as a Markdown table: the model's rule beside the 0.5 rule.
func MetricsTable(ev *Evaluation) string {
	if ev.Fixed == nil {
		return summaryTable([]string{ev.Rule}, []*Metrics{&ev.Metrics})
	}
	return summaryTable([]string{"0.5 rule", ev.Rule + " rule"}, []*Metrics{ev.Fixed, &ev.Metrics})
}

func summaryTable(names []string, ms []*Metrics) string {
	var b strings.Builder
	b.WriteString("| metric |")
	for _, n := range names {
		b.WriteString(" " + n + " |")
	}
	b.WriteString("\n|---|")
	for range names {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	rows := []struct {
		name string
		get  func(*Metrics) string
	}{
		{"subset accuracy", func(m *Metrics) string { return fmt.Sprintf("%.4f", m.Accuracy) }},
		{"F1 weighted", func(m *Metrics) string { return fmt.Sprintf("%.4f", m.F1Weighted) }},
		{"F1 macro", func(m *Metrics) string { return fmt.Sprintf("%.4f", m.F1Macro) }},
		{"F1 micro", func(m *Metrics) string { return fmt.Sprintf("%.4f", m.F1Micro) }},
		{"precision micro", func(m *Metrics) string { return fmt.Sprintf("%.4f", m.PrecisionMicro) }},
		{"recall micro", func(m *Metrics) string { return fmt.Sprintf("%.4f", m.RecallMicro) }},
		{"average precision macro", func(m *Metrics) string { return fmt.Sprintf("%.4f", m.AveragePrecisionMacro) }},
		{"ROC AUC macro", func(m *Metrics) string { return fmt.Sprintf("%.4f", m.ROCAUCMacro) }},
		{"mean tags per title (true)", func(m *Metrics) string { return fmt.Sprintf("%.2f (%.2f)", m.MeanTags, m.MeanTrueTags) }},
		{"titles with no tag", func(m *Metrics) string { return fmt.Sprintf("%d", m.NoTag) }},
	}
	for _, r := range rows {
		b.WriteString("| " + r.name + " |")
		for _, m := range ms {
			b.WriteString(" " + r.get(m) + " |")
		}
		b.WriteString("\n")
	}
	return b.String()
}

var (
	tunedColor = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	fixedColor = color.RGBA{R: 255, G: 127, B: 14, A: 255}
)

// drawReport draws per-tag F1 (tags by support, the model's rule beside the 0.5 rule) above the
// micro precision–recall curve, to base+".svg" and base+".png".
func drawReport(base string, ev *Evaluation) error {
	per := append([]TagMetrics(nil), ev.Metrics.PerTag...)
	order := make([]int, len(per))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return per[order[a]].Support > per[order[b]].Support })
	names := make([]string, len(order))
	tuned := make(plotter.Values, len(order))
	var fixed plotter.Values
	if ev.Fixed != nil {
		fixed = make(plotter.Values, len(order))
	}
	for k, i := range order {
		names[k] = fmt.Sprintf("%s (%d)", per[i].Tag, per[i].Support)
		tuned[k] = per[i].F1
		if fixed != nil {
			fixed[k] = ev.Fixed.PerTag[i].F1
		}
	}
	bars := plot.New()
	bars.Title.Text = fmt.Sprintf("F1 per tag on %s (tags by support); F1 weighted %.3f, subset accuracy %.3f",
		filepath.Base(ev.File), ev.Metrics.F1Weighted, ev.Metrics.Accuracy)
	bars.Y.Label.Text = "F1"
	bars.Y.Min, bars.Y.Max = 0, 1
	w := vg.Points(4)
	tb, err := plotter.NewBarChart(tuned, w)
	if err != nil {
		return err
	}
	tb.Color, tb.LineStyle.Width = tunedColor, 0
	bars.Add(tb)
	bars.Legend.Add(ev.Rule+" rule", tb)
	if fixed != nil {
		fb, err := plotter.NewBarChart(fixed, w)
		if err != nil {
			return err
		}
		fb.Color, fb.LineStyle.Width = fixedColor, 0
		tb.Offset, fb.Offset = -w/2, w/2
		bars.Add(fb)
		bars.Legend.Add("0.5 rule", fb)
	}
	bars.Add(plotter.NewGrid())
	bars.NominalX(names...)
	bars.X.Tick.Label.Rotation = math.Pi / 2
	bars.X.Tick.Label.XAlign = draw.XRight
	bars.X.Tick.Label.YAlign = draw.YCenter
	bars.X.Tick.Label.Font.Size = vg.Points(7)
	bars.Legend.Top = true

	pr := plot.New()
	pr.Title.Text = fmt.Sprintf("Micro precision–recall over every (title, tag) pair; AP macro %.3f, ROC AUC macro %.3f",
		ev.Metrics.AveragePrecisionMacro, ev.Metrics.ROCAUCMacro)
	pr.X.Label.Text = "recall"
	pr.Y.Label.Text = "precision"
	pr.X.Min, pr.X.Max, pr.Y.Min, pr.Y.Max = 0, 1, 0, 1
	xy := make(plotter.XYs, len(ev.Curve))
	for i, p := range ev.Curve {
		xy[i].X, xy[i].Y = p.Recall, p.Precision
	}
	line, err := plotter.NewLine(xy)
	if err != nil {
		return err
	}
	line.Color, line.Width = tunedColor, vg.Points(1.5)
	pr.Add(plotter.NewGrid(), line)
	pr.Legend.Add("scores", line)
	for _, op := range []struct {
		name string
		m    *Metrics
		c    color.Color
	}{{ev.Rule + " rule", &ev.Metrics, tunedColor}, {"0.5 rule", ev.Fixed, fixedColor}} {
		if op.m == nil {
			continue
		}
		sc, err := plotter.NewScatter(plotter.XYs{{X: op.m.RecallMicro, Y: op.m.PrecisionMicro}})
		if err != nil {
			return err
		}
		sc.Color, sc.Radius, sc.Shape = op.c, vg.Points(5), draw.CircleGlyph{}
		pr.Add(sc)
		pr.Legend.Add(op.name, sc)
	}
	pr.Legend.Left = true

	width, height := 16*vg.Inch, 12*vg.Inch
	svg := vgsvg.New(width, height)
	drawTiles(draw.New(svg), bars, pr)
	if err := writeTo(base+".svg", svg); err != nil {
		return err
	}
	png := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(72))
	drawTiles(draw.New(png), bars, pr)
	return writeTo(base+".png", vgimg.PngCanvas{Canvas: png})
}

func drawTiles(dc draw.Canvas, top, bottom *plot.Plot) {
	// The bar chart needs room for the rotated tag names: give it 60% of the height.
	h := dc.Max.Y - dc.Min.Y
	topC := draw.Crop(dc, 0, 0, 0.4*h, 0)
	botC := draw.Crop(dc, 0, 0, 0, -0.6*h)
	top.Draw(topC)
	bottom.Draw(botC)
}

func writeTo(path string, c interface {
	WriteTo(w io.Writer) (int64, error)
}) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := c.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

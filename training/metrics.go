package training

import (
	"cmp"
	"math"
	"slices"
)

// TagMetrics is one tag's evaluation.
type TagMetrics struct {
	Tag       string  `json:"tag"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Support   int     `json:"support"`   // titles that have the tag
	Predicted int     `json:"predicted"` // titles the rule gave the tag
	// AveragePrecision and ROCAUC rank the titles by the tag's score; NaN-free: a tag whose
	// support is 0 or every title gets null in JSON via the omitted field.
	AveragePrecision *float64 `json:"average_precision,omitempty"`
	ROCAUC           *float64 `json:"roc_auc,omitempty"`
}

// Metrics is the evaluation of a model's decisions and scores on a labelled file. The
// definitions are scikit-learn's (zero_division=0).
type Metrics struct {
	Rows                  int          `json:"rows"`
	Accuracy              float64      `json:"accuracy"` // subset accuracy: the predicted set is exactly the true set
	F1Weighted            float64      `json:"f1_weighted"`
	F1Macro               float64      `json:"f1_macro"`
	F1Micro               float64      `json:"f1_micro"`
	PrecisionMicro        float64      `json:"precision_micro"`
	RecallMicro           float64      `json:"recall_micro"`
	AveragePrecisionMacro float64      `json:"average_precision_macro"` // over tags with both classes present
	ROCAUCMacro           float64      `json:"roc_auc_macro"`           // over tags with both classes present
	RankedTags            int          `json:"ranked_tags"`             // tags in the two means above
	MeanTags              float64      `json:"mean_tags"`               // predicted tags per title
	MeanTrueTags          float64      `json:"mean_true_tags"`
	NoTag                 int          `json:"no_tag"`       // titles given no tag
	UnknownTags           int          `json:"unknown_tags"` // true tags the model does not know (ignored, as MultiLabelBinarizer does)
	PerTag                []TagMetrics `json:"per_tag"`
}

// Evaluate scores decisions pred and scores (row-major, one per tag) against truth; truth and
// pred hold tag indices per row.
func Evaluate(tags []string, truth, pred [][]int, scores [][]float64) Metrics {
	nt := len(tags)
	tp, fp, fn := make([]int, nt), make([]int, nt), make([]int, nt)
	m := Metrics{Rows: len(truth)}
	exact := 0
	for i := range truth {
		tset := truth[i]
		m.MeanTrueTags += float64(len(tset))
		m.MeanTags += float64(len(pred[i]))
		if len(pred[i]) == 0 {
			m.NoTag++
		}
		for _, t := range tset {
			if slices.Contains(pred[i], t) {
				tp[t]++
			} else {
				fn[t]++
			}
		}
		for _, t := range pred[i] {
			if !slices.Contains(tset, t) {
				fp[t]++
			}
		}
		if sameSet(tset, pred[i]) {
			exact++
		}
	}
	n := float64(max(len(truth), 1))
	m.Accuracy = float64(exact) / n
	m.MeanTags /= n
	m.MeanTrueTags /= n
	var sTP, sFP, sFN, supportSum int
	var apSum, aucSum float64
	col := make([]float64, len(truth))
	lab := make([]bool, len(truth))
	for t := 0; t < nt; t++ {
		tm := TagMetrics{Tag: tags[t], Support: tp[t] + fn[t], Predicted: tp[t] + fp[t]}
		tm.Precision = ratio(tp[t], tp[t]+fp[t])
		tm.Recall = ratio(tp[t], tp[t]+fn[t])
		tm.F1 = ratio(2*tp[t], 2*tp[t]+fp[t]+fn[t])
		sTP, sFP, sFN = sTP+tp[t], sFP+fp[t], sFN+fn[t]
		supportSum += tm.Support
		m.F1Weighted += tm.F1 * float64(tm.Support)
		m.F1Macro += tm.F1
		if scores != nil && tm.Support > 0 && tm.Support < len(truth) {
			for i := range truth {
				col[i] = scores[i][t]
				lab[i] = slices.Contains(truth[i], t)
			}
			ap, auc := AveragePrecision(col, lab), ROCAUC(col, lab)
			tm.AveragePrecision, tm.ROCAUC = &ap, &auc
			apSum += ap
			aucSum += auc
			m.RankedTags++
		}
		m.PerTag = append(m.PerTag, tm)
	}
	m.F1Weighted = safeDiv(m.F1Weighted, float64(supportSum))
	m.F1Macro = safeDiv(m.F1Macro, float64(nt))
	m.F1Micro = ratio(2*sTP, 2*sTP+sFP+sFN)
	m.PrecisionMicro = ratio(sTP, sTP+sFP)
	m.RecallMicro = ratio(sTP, sTP+sFN)
	m.AveragePrecisionMacro = safeDiv(apSum, float64(m.RankedTags))
	m.ROCAUCMacro = safeDiv(aucSum, float64(m.RankedTags))
	return m
}

func sameSet(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

func ratio(a, b int) float64 { return safeDiv(float64(a), float64(b)) }

func safeDiv(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// byScore returns the indices of scores, highest first (ties in index order).
func byScore(scores []float64) []int {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(scores[b], scores[a]) })
	return idx
}

// AveragePrecision is scikit-learn's average_precision_score: Σ_n (R_n − R_{n−1})·P_n over the
// distinct score thresholds, highest first.
func AveragePrecision(scores []float64, pos []bool) float64 {
	idx := byScore(scores)
	total := 0
	for _, p := range pos {
		if p {
			total++
		}
	}
	if total == 0 {
		return 0
	}
	var ap, prevRecall float64
	tp, seen := 0, 0
	for k := 0; k < len(idx); {
		s := scores[idx[k]]
		for ; k < len(idx) && scores[idx[k]] == s; k++ {
			seen++
			if pos[idx[k]] {
				tp++
			}
		}
		recall := float64(tp) / float64(total)
		ap += (recall - prevRecall) * float64(tp) / float64(seen)
		prevRecall = recall
	}
	return ap
}

// ROCAUC is the area under the ROC curve (ties count one half), as scikit-learn's roc_auc_score.
func ROCAUC(scores []float64, pos []bool) float64 {
	idx := byScore(scores)
	var P, N float64
	for _, p := range pos {
		if p {
			P++
		} else {
			N++
		}
	}
	if P == 0 || N == 0 {
		return math.NaN()
	}
	// Walk thresholds high to low; each tie group adds a trapezoid.
	var auc, tp, fp float64
	for k := 0; k < len(idx); {
		s := scores[idx[k]]
		var dtp, dfp float64
		for ; k < len(idx) && scores[idx[k]] == s; k++ {
			if pos[idx[k]] {
				dtp++
			} else {
				dfp++
			}
		}
		auc += dfp * (tp + dtp/2)
		tp += dtp
		fp += dfp
	}
	return auc / (P * N)
}

// PRPoint is one point of a precision–recall curve.
type PRPoint struct {
	Threshold float64 `json:"threshold"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
}

// MicroPRCurve is the precision–recall curve of all (title, tag) pairs pooled, thinned to about
// points points.
func MicroPRCurve(truth [][]int, scores [][]float64, points int) []PRPoint {
	var all []float64
	var pos []bool
	total := 0
	for i, row := range scores {
		for t, s := range row {
			all = append(all, s)
			p := slices.Contains(truth[i], t)
			pos = append(pos, p)
			if p {
				total++
			}
		}
	}
	if total == 0 {
		return nil
	}
	idx := byScore(all)
	step := max(len(idx)/points, 1)
	var out []PRPoint
	tp := 0
	for k, i := range idx {
		if pos[i] {
			tp++
		}
		// Evenly spaced points, plus the first few (a power of two apart) so the high-precision
		// start of the curve is drawn too.
		if (k+1)%step == 0 || k == len(idx)-1 || (k+1 < step && (k+1)&k == 0) {
			out = append(out, PRPoint{Threshold: all[i], Precision: float64(tp) / float64(k+1), Recall: float64(tp) / float64(total)})
		}
	}
	return out
}

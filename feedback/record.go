package feedback

import (
	"slices"
	"time"
)

// Record is one user's answer about one prediction.
type Record struct {
	// PredictionID identifies the prediction; the store keeps one record
	// per id.
	PredictionID string
	Title        string
	// Predicted are the tags the model showed, best first.
	Predicted   []string
	Happy       bool
	CorrectTags []string
	WrongTags   []string
	MissingTags []string
	// ModelVersion and Color name the release that made the prediction
	// (which may not be the one that took the answer).
	ModelVersion string
	Color        string
	// PredictedAt is when the prediction was made; zero when unknown
	// (records from before it was kept).
	PredictedAt time.Time
	// CreatedAt is when the answer was recorded.
	CreatedAt time.Time
}

// Labels returns the tags this record vouches for as the title's true tags,
// and false when the record says too little to label the title.
//
// The rule: start from the tags marked correct; when none are marked, start
// from all predicted tags if the user is happy, or, if unhappy, from the
// predicted tags not marked wrong provided the user marked something (an
// unhappy answer with no marks only says "something is wrong"). Then drop
// the tags marked wrong and add the missing ones.
func (r Record) Labels() ([]string, bool) {
	var base []string
	switch {
	case len(r.CorrectTags) > 0:
		base = r.CorrectTags
	case r.Happy:
		base = r.Predicted
	case len(r.WrongTags) > 0 || len(r.MissingTags) > 0:
		base = r.Predicted
	default:
		return nil, false
	}
	var out []string
	for _, t := range base {
		if !slices.Contains(r.WrongTags, t) && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	for _, t := range r.MissingTags {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, len(out) > 0
}

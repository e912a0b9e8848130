package feedback

import (
	"context"
	"errors"
	"slices"
	"time"
)

// ErrDuplicate is returned by [Store.Save] when the prediction already has
// feedback. The first answer is kept; a second one is refused.
var ErrDuplicate = errors.New("feedback for this prediction was already recorded")

// Store keeps feedback records durably.
type Store interface {
	// Save stores r and returns only once it is on disk. It returns an error
	// wrapping ErrDuplicate when r.PredictionID already has a record.
	Save(ctx context.Context, r Record) error
	// Ping reports whether the store can take a write.
	Ping(ctx context.Context) error
	// Close flushes everything to disk and releases the store.
	Close() error
}

// Record is one user's answer about one prediction.
type Record struct {
	PredictionID string
	Title        string
	// Predicted are the tags the model showed, best first.
	Predicted    []string
	Happy        bool
	CorrectTags  []string
	WrongTags    []string
	MissingTags  []string
	ModelVersion string
	Color        string
	CreatedAt    time.Time
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

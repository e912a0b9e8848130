package app

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/remla/tagger/feedback"
)

// MaxTitleRunes is the longest title accepted, in characters.
const MaxTitleRunes = 1000

// checkTitle returns the trimmed title or the reason it cannot be tagged.
func checkTitle(title string) (string, *apiError) {
	if !utf8.ValidString(title) {
		return "", badRequest("title", "the title is not valid UTF-8; send UTF-8 text")
	}
	t := strings.TrimSpace(title)
	if t == "" {
		return "", badRequest("title", "the title is empty; type a StackOverflow question title")
	}
	if n := utf8.RuneCountInString(t); n > MaxTitleRunes {
		return "", badRequest("title", "the title is %d characters long; shorten it to at most %d", n, MaxTitleRunes)
	}
	return t, nil
}

// predict tags a checked title, counts it and remembers it for feedback.
func (s *Server) predict(title string) *prediction {
	start := time.Now()
	tags := s.cfg.Predictor.Predict(title)
	s.metrics.observePrediction(time.Since(start), len(tags))
	p := &prediction{ID: rand.Text(), Title: title, Tags: tags, ModelVersion: s.version, At: start}
	s.predictions.add(p)
	return p
}

// feedbackInput is one answer, from the API or the page's form.
type feedbackInput struct {
	PredictionID string
	Happy        bool
	Correct      []string
	Wrong        []string
	Missing      []string
}

// recordFeedback checks an answer against its prediction, stores it
// durably and only then counts it.
func (s *Server) recordFeedback(ctx context.Context, in feedbackInput) (*prediction, *apiError) {
	if strings.TrimSpace(in.PredictionID) == "" {
		return nil, badRequest("prediction_id", "prediction_id is required; use the one POST /api/v1/predict returned")
	}
	p, ok := s.predictions.get(in.PredictionID)
	if !ok {
		return nil, newError(http.StatusNotFound, "prediction_id",
			"unknown prediction_id %q: it was never issued here or is no longer kept; predict the title again", in.PredictionID)
	}
	predicted := p.TagNames()
	correct, wrong, missing := dedupe(in.Correct), dedupe(in.Wrong), dedupe(in.Missing)
	for _, f := range []struct {
		name string
		tags []string
	}{{"correct_tags", correct}, {"wrong_tags", wrong}} {
		for _, t := range f.tags {
			if !slices.Contains(predicted, t) {
				return p, badRequest(f.name, "%s: %q was not predicted for this title; only predicted tags can be marked right or wrong", f.name, t)
			}
		}
	}
	for _, t := range correct {
		if slices.Contains(wrong, t) {
			return p, badRequest("wrong_tags", "tag %q is marked both right and wrong; pick one", t)
		}
	}
	for _, t := range missing {
		if _, ok := s.known[t]; !ok {
			return p, badRequest("missing_tags", "missing_tags: %q is not a tag this model knows; GET /api/v1/tags lists them", t)
		}
		if slices.Contains(predicted, t) {
			return p, badRequest("missing_tags", "missing_tags: %q was predicted; mark it right instead of missing", t)
		}
	}
	err := s.cfg.Store.Save(ctx, feedback.Record{
		PredictionID: p.ID, Title: p.Title, Predicted: predicted, Happy: in.Happy,
		CorrectTags: correct, WrongTags: wrong, MissingTags: missing,
		ModelVersion: p.ModelVersion, Color: s.cfg.Color, CreatedAt: time.Now(),
	})
	switch {
	case errors.Is(err, feedback.ErrDuplicate):
		p.answered.Store(true)
		return p, newError(http.StatusConflict, "prediction_id",
			"feedback for prediction %q was already recorded; each prediction takes one answer", p.ID)
	case err != nil:
		s.log.Error("store feedback", "prediction_id", p.ID, "err", err)
		return p, newError(http.StatusServiceUnavailable, "", "the feedback could not be stored; try again in a moment")
	}
	p.answered.Store(true)
	s.metrics.observeFeedback(in.Happy)
	s.log.Info("feedback recorded", "prediction_id", p.ID, "happy", in.Happy,
		"wrong", len(wrong), "missing", len(missing))
	return p, nil
}

func dedupe(tags []string) []string {
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		if t = strings.TrimSpace(t); t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

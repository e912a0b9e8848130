package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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
	if strings.IndexByte(title, 0) >= 0 {
		return "", badRequest("title", "the title contains a NUL character, so it is binary data rather than text; send the question title as text")
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

// predict tags a checked title, counts it and signs its id. It returns the
// prediction by value: callers read a few fields and drop it, so it need
// not live on the heap.
func (s *Server) predict(title string) prediction {
	start := time.Now()
	tags := s.cfg.Predictor.Predict(title)
	s.metrics.observePrediction(time.Since(start), len(tags))
	return prediction{ID: s.ids.issue(title, tags, start), Title: title, Tags: tags,
		ModelVersion: s.version, Color: s.cfg.Color, At: start}
}

// openPrediction checks a prediction id from a client and returns what it
// carries, or the error to answer.
func (s *Server) openPrediction(id string) (*prediction, *apiError) {
	if strings.TrimSpace(id) == "" {
		return nil, badRequest("prediction_id", "prediction_id is required; use the one POST /api/v1/predict returned")
	}
	p, err := s.ids.open(id, time.Now())
	switch {
	case errors.Is(err, errIDExpired):
		return nil, newError(http.StatusGone, "prediction_id",
			"this prediction is older than %s, the time answers are taken for; predict the title again", days(s.cfg.Retention))
	case err != nil:
		return nil, badRequest("prediction_id",
			"prediction_id is not one this service issued (it was changed, cut short, or signed with a key no longer in use); send it exactly as POST /api/v1/predict returned it")
	}
	return p, nil
}

func days(d time.Duration) string {
	if d >= 48*time.Hour && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return d.String()
}

// feedbackInput is one answer, from the API or the page's form.
type feedbackInput struct {
	PredictionID string
	Happy        bool
	Correct      []string
	Wrong        []string
	Missing      []string
}

// storeRetryAfter is what a client is told to wait when the store is down.
const storeRetryAfter = 5 * time.Second

// storeTimeout bounds one save: a store that does not answer in time (a
// connection to a database pod that went away without a word, a lock held
// too long) gets the client a 503 to retry, not a request that hangs.
const storeTimeout = 5 * time.Second

// recordFeedback checks an answer against its prediction, stores it
// durably and only then counts it. The returned prediction is nil when the
// id itself was refused.
func (s *Server) recordFeedback(ctx context.Context, in feedbackInput) (*prediction, *apiError) {
	p, e := s.openPrediction(in.PredictionID)
	if e != nil {
		return nil, e
	}
	// A list longer than the model's vocabulary cannot be an honest answer;
	// refuse it before doing anything per entry.
	for _, f := range []struct {
		name string
		tags []string
	}{{"correct_tags", in.Correct}, {"wrong_tags", in.Wrong}, {"missing_tags", in.Missing}} {
		if len(f.tags) > len(s.known) {
			return p, badRequest(f.name, "%s has %d entries; at most %d are allowed (the number of tags the model knows)", f.name, len(f.tags), len(s.known))
		}
	}
	predicted := p.TagNames()
	isPredicted := make(map[string]bool, len(predicted))
	for _, t := range predicted {
		isPredicted[t] = true
	}
	correct, wrong, missing := dedupe(in.Correct), dedupe(in.Wrong), dedupe(in.Missing)
	for _, f := range []struct {
		name string
		tags []string
	}{{"correct_tags", correct}, {"wrong_tags", wrong}} {
		for _, t := range f.tags {
			if !isPredicted[t] {
				return p, badRequest(f.name, "%s: %q was not predicted for this title; only predicted tags can be marked right or wrong", f.name, t)
			}
		}
	}
	isCorrect := make(map[string]bool, len(correct))
	for _, t := range correct {
		isCorrect[t] = true
	}
	for _, t := range wrong {
		if isCorrect[t] {
			return p, badRequest("wrong_tags", "tag %q is marked both right and wrong; pick one", t)
		}
	}
	for _, t := range missing {
		if _, ok := s.known[t]; !ok {
			return p, badRequest("missing_tags", "missing_tags: %q is not a tag this model knows; GET /api/v1/tags lists them", t)
		}
		if isPredicted[t] {
			return p, badRequest("missing_tags", "missing_tags: %q was predicted; mark it right instead of missing", t)
		}
	}
	sctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	err := s.cfg.Store.Save(sctx, feedback.Record{
		PredictionID: p.Key, Title: p.Title, Predicted: predicted, Happy: in.Happy,
		CorrectTags: correct, WrongTags: wrong, MissingTags: missing,
		ModelVersion: p.ModelVersion, Color: p.Color, PredictedAt: p.At, CreatedAt: time.Now(),
	})
	switch {
	case errors.Is(err, feedback.ErrDuplicate):
		s.health.observe(nil)
		return p, newError(http.StatusConflict, "prediction_id",
			"feedback for this prediction was already recorded; each prediction takes one answer")
	case err != nil:
		s.log.Error("store feedback", "prediction", p.Key, "err", err)
		if errors.Is(err, feedback.ErrUnavailable) {
			s.health.observe(err)
		}
		e := newError(http.StatusServiceUnavailable, "", "the feedback could not be stored right now; nothing was recorded, send it again in a moment")
		e.retryAfter = storeRetryAfter
		return p, e
	}
	s.health.observe(nil)
	s.metrics.observeFeedback(in.Happy, p.ModelVersion == s.version && p.Color == s.cfg.Color)
	s.log.Info("feedback recorded", "prediction", p.Key, "happy", in.Happy,
		"wrong", len(wrong), "missing", len(missing), "model_version", p.ModelVersion, "color", p.Color)
	return p, nil
}

// dedupe trims the tags, drops empty ones and repeats, keeping the first
// occurrence's order, in one pass.
func dedupe(tags []string) []string {
	out := make([]string, 0, len(tags))
	seen := make(map[string]struct{}, len(tags))
	for _, t := range tags {
		t = strings.TrimSpace(t)
		if _, dup := seen[t]; t == "" || dup {
			continue
		}
		seen[t] = struct{}{}
		out = append(out, t)
	}
	return out
}

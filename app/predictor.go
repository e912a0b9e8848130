package app

import "github.com/remla/tagger/model"

// Predictor is what the server needs from a model. *model.Model implements
// it; unit tests use small fakes to reach single branches.
type Predictor interface {
	// Predict returns the tags picked for title, best first; empty when none.
	Predict(title string) []model.TagScore
	// Tags returns every tag the model knows.
	Tags() []string
	// Version identifies the model.
	Version() string
}

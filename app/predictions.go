package app

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/remla/tagger/model"
)

// prediction is one answered title, remembered so that feedback can refer
// to it by id.
type prediction struct {
	ID           string
	Title        string
	Tags         []model.TagScore
	ModelVersion string
	At           time.Time
	answered     atomic.Bool
}

// TagNames returns the predicted tags without scores.
func (p *prediction) TagNames() []string {
	out := make([]string, len(p.Tags))
	for i, t := range p.Tags {
		out[i] = t.Tag
	}
	return out
}

// Answered reports whether feedback for p was recorded.
func (p *prediction) Answered() bool { return p.answered.Load() }

// predictions keeps the most recent predictions, up to a fixed number, in
// memory: the oldest is forgotten when a new one arrives at capacity, so
// memory stays flat under load. Feedback for a forgotten (or pre-restart)
// prediction gets 404.
type predictions struct {
	mu   sync.Mutex
	byID map[string]*prediction
	ring []string
	next int
}

func newPredictions(capacity int) *predictions {
	return &predictions{byID: make(map[string]*prediction, capacity), ring: make([]string, capacity)}
}

func (ps *predictions) add(p *prediction) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if old := ps.ring[ps.next]; old != "" {
		delete(ps.byID, old)
	}
	ps.ring[ps.next] = p.ID
	ps.next = (ps.next + 1) % len(ps.ring)
	ps.byID[p.ID] = p
}

func (ps *predictions) get(id string) (*prediction, bool) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	p, ok := ps.byID[id]
	return p, ok
}

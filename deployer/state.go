package deployer

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// The state lives in annotations of the active Service, so the selector and
// the record of why it changed move in one atomic update.
const (
	annoPrefix   = "remla.io/"
	annoActive   = annoPrefix + "active"
	annoLastGood = annoPrefix + "last-good"
	annoHistory  = annoPrefix + "history"
)

// stored is the part of State kept in the Service; the rest (what each
// color runs) is read from the Deployments.
type stored struct {
	Active   Color
	LastGood Color
	History  []SwitchRecord
}

func readStored(svc *corev1.Service, colorLabel string) (stored, error) {
	var s stored
	a := svc.Annotations
	s.Active = Color(a[annoActive])
	if s.Active == "" {
		// A Service created by the chart before the first switch: its
		// selector is the truth.
		s.Active = Color(svc.Spec.Selector[colorLabel])
	}
	s.LastGood = Color(a[annoLastGood])
	if h := a[annoHistory]; h != "" {
		if err := json.Unmarshal([]byte(h), &s.History); err != nil {
			return s, fmt.Errorf("read switch history from Service %s annotation %s: %w (fix or remove the annotation)", svc.Name, annoHistory, err)
		}
	}
	return s, nil
}

// writeStored puts the state into svc (annotations and selector); the caller
// sends the update.
func writeStored(svc *corev1.Service, s stored, colorLabel string, limit int) error {
	if len(s.History) > limit {
		s.History = s.History[:limit]
	}
	h, err := json.Marshal(s.History)
	if err != nil {
		return fmt.Errorf("encode switch history: %w", err)
	}
	if svc.Annotations == nil {
		svc.Annotations = map[string]string{}
	}
	svc.Annotations[annoActive] = string(s.Active)
	svc.Annotations[annoLastGood] = string(s.LastGood)
	svc.Annotations[annoHistory] = string(h)
	if svc.Spec.Selector == nil {
		svc.Spec.Selector = map[string]string{}
	}
	svc.Spec.Selector[colorLabel] = string(s.Active)
	return nil
}

// apply returns the state after a switch and the record of it.
func (s stored) apply(to Color, o SwitchOptions, at time.Time, by string) (stored, SwitchRecord) {
	if o.By != "" {
		by = o.By
	}
	rec := SwitchRecord{Time: at, From: s.Active, To: to, Reason: o.Reason, By: by, Incident: o.Incident, Rollback: o.Rollback}
	n := stored{Active: to, LastGood: s.LastGood}
	switch {
	case o.Rollback:
		// Returning to a color means it is the good one; a repeated alert
		// then finds nothing to do.
		n.LastGood = to
	case s.Active != "":
		n.LastGood = s.Active
	default:
		n.LastGood = to
	}
	n.History = append([]SwitchRecord{rec}, s.History...)
	return n, rec
}

func (s stored) seen(incident string) bool {
	return incident != "" && slices.ContainsFunc(s.History, func(r SwitchRecord) bool { return r.Incident == incident })
}

package alert

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/remla/tagger/deployer"
)

// WebhookVersion is the Alertmanager webhook payload version this actor reads.
const WebhookVersion = "4"

// Message is Alertmanager's webhook notification (version 4). Alerts holds
// the well-formed alerts; Malformed says which others were skipped and why.
type Message struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []Alert           `json:"alerts"`
	// Malformed are the alerts left out of Alerts, by index in the payload.
	Malformed []Skipped `json:"-"`
}

// Skipped is an alert the actor did not act on, and why.
type Skipped struct {
	Index     int    `json:"index"`
	Alertname string `json:"alertname,omitempty"`
	Reason    string `json:"reason"`
}

// Alert is one alert of a notification. Its own Status matters, not the
// group's: a group that is "firing" may hold resolved alerts.
type Alert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// Alert and label values the actor acts on.
const (
	StatusFiring   = "firing"
	StatusResolved = "resolved"
	// LabelRollback marks alerts that may move traffic; only "true" counts.
	LabelRollback = "rollback"
	// LabelNamespace and LabelApp scope an alert to one release: the actor
	// acts only when both name a release it guards (see Options.AcceptUnscoped).
	LabelNamespace = "namespace"
	LabelApp       = "app"
	// LabelColor names the color the alert judges; when present, the actor
	// acts only if that color is the active one.
	LabelColor     = "color"
	LabelAlertname = "alertname"
)

// Limits on what an alert may bring into the history (the deployer caps
// again when it records): an alert cannot bloat the annotations later
// switches must fit in.
const (
	maxAlertname   = 128
	maxFingerprint = 64
)

// errMalformed marks a payload the actor refuses with 400.
var errMalformed = errors.New("malformed notification")

// ParseMessage decodes and checks a webhook body. A body that is not a
// version 4 notification is an error wrapping errMalformed; one bad alert
// inside a good notification is only skipped (Message.Malformed), so it
// cannot make Alertmanager drop the valid alerts beside it.
func ParseMessage(body []byte) (*Message, error) {
	var wire struct {
		Message
		Alerts []json.RawMessage `json:"alerts"`
	}
	if err := json.Unmarshal(body, &wire); err != nil {
		return nil, fmt.Errorf("%w: not Alertmanager webhook JSON: %v", errMalformed, err)
	}
	m := wire.Message
	if m.Version != WebhookVersion {
		return nil, fmt.Errorf("%w: version %q: send Alertmanager's webhook version %q", errMalformed, m.Version, WebhookVersion)
	}
	m.Alerts = make([]Alert, 0, len(wire.Alerts))
	for i, raw := range wire.Alerts {
		var a Alert
		if err := json.Unmarshal(raw, &a); err != nil {
			m.Malformed = append(m.Malformed, Skipped{Index: i, Reason: fmt.Sprintf("alerts[%d] is not an alert: %v", i, err)})
			continue
		}
		if why := a.problem(); why != "" {
			m.Malformed = append(m.Malformed, Skipped{Index: i, Alertname: deployer.Truncate(a.Name(), maxAlertname), Reason: fmt.Sprintf("alerts[%d] %s", i, why)})
			continue
		}
		m.Alerts = append(m.Alerts, a)
	}
	return &m, nil
}

// problem says what keeps an alert from being acted on, or "".
func (a Alert) problem() string {
	switch a.Status {
	case StatusFiring, StatusResolved:
	default:
		return fmt.Sprintf("has status %q: want %q or %q", deployer.Truncate(a.Status, 32), StatusFiring, StatusResolved)
	}
	if !a.wantsRollback() {
		return ""
	}
	switch {
	case a.Fingerprint == "" || a.StartsAt.IsZero():
		return `(firing, rollback="true") has no fingerprint or startsAt: both identify the incident`
	case len(a.Fingerprint) > maxFingerprint:
		return fmt.Sprintf("has a fingerprint of %d bytes: Alertmanager's have 16", len(a.Fingerprint))
	case a.Labels[LabelAlertname] == "":
		return `(firing, rollback="true") has no alertname label`
	}
	return ""
}

// wantsRollback: the alert itself is firing and labelled rollback="true".
func (a Alert) wantsRollback() bool {
	return a.Status == StatusFiring && a.Labels[LabelRollback] == "true"
}

// Incident identifies one occurrence of an alert: the same fingerprint with
// the same start is the same incident, however often it is delivered; when
// the alert resolves and fires again it starts anew.
func (a Alert) Incident() string {
	return a.Fingerprint + "@" + a.StartsAt.UTC().Format(time.RFC3339Nano)
}

// Name is the alert's alertname label, capped.
func (a Alert) Name() string { return deployer.Truncate(a.Labels[LabelAlertname], maxAlertname) }

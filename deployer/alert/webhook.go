package alert

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// WebhookVersion is the Alertmanager webhook payload version this actor reads.
const WebhookVersion = "4"

// Message is Alertmanager's webhook notification (version 4).
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
	// LabelColor names the release the alert judges; when present, the actor
	// acts only if that color is the active one.
	LabelColor     = "color"
	LabelAlertname = "alertname"
)

// errMalformed marks a payload the actor refuses with 400.
var errMalformed = errors.New("malformed notification")

// ParseMessage decodes and checks a webhook body. Its errors say what is
// wrong so the sender can fix it; they wrap errMalformed.
func ParseMessage(body []byte) (*Message, error) {
	var m Message
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("%w: not Alertmanager webhook JSON: %v", errMalformed, err)
	}
	if m.Version != WebhookVersion {
		return nil, fmt.Errorf("%w: version %q: send Alertmanager's webhook version %q", errMalformed, m.Version, WebhookVersion)
	}
	for i, a := range m.Alerts {
		switch a.Status {
		case StatusFiring, StatusResolved:
		default:
			return nil, fmt.Errorf("%w: alerts[%d].status %q: want %q or %q", errMalformed, i, a.Status, StatusFiring, StatusResolved)
		}
		if !a.wantsRollback() {
			continue
		}
		if a.Fingerprint == "" || a.StartsAt.IsZero() {
			return nil, fmt.Errorf("%w: alerts[%d] (firing, rollback=\"true\") has no fingerprint or startsAt: both identify the incident", errMalformed, i)
		}
		if a.Labels[LabelAlertname] == "" {
			return nil, fmt.Errorf("%w: alerts[%d] (firing, rollback=\"true\") has no alertname label", errMalformed, i)
		}
	}
	return &m, nil
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

// Name is the alert's alertname label.
func (a Alert) Name() string { return a.Labels[LabelAlertname] }

package notify

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// Slack posts to a Slack incoming webhook (also accepted by Mattermost and
// Rocket.Chat): a one-line text, and an attachment colored by severity with
// the fields an operator scans.
type Slack struct{ endpoint }

// NewSlack is a Slack receiver named name for the kinds listed (none: all).
func NewSlack(name string, src URLSource, kinds []string, client *http.Client) *Slack {
	return &Slack{endpoint{name: name, url: src, kinds: kinds, client: orDefault(client)}}
}

// SlackMessage is the body of an incoming webhook.
type SlackMessage struct {
	Text        string            `json:"text"`
	Attachments []SlackAttachment `json:"attachments,omitempty"`
}

// SlackAttachment is a legacy attachment: still the one way to color a
// message from an incoming webhook.
type SlackAttachment struct {
	Color    string       `json:"color"`
	Fallback string       `json:"fallback"`
	Fields   []SlackField `json:"fields"`
	Footer   string       `json:"footer,omitempty"`
	Ts       int64        `json:"ts,omitempty"`
}

// SlackField is one title/value pair of an attachment.
type SlackField struct {
	Title string `json:"title"`
	Value string `json:"value"`
	Short bool   `json:"short"`
}

// Send posts e in Slack's format.
func (s *Slack) Send(ctx context.Context, e Event) error { return s.post(ctx, SlackFormat(e)) }

// SlackFormat is the message for e.
func SlackFormat(e Event) SlackMessage {
	icon, color := ":information_source:", "good"
	if e.Severity == SeverityWarning {
		icon, color = ":warning:", "danger"
	}
	text := fmt.Sprintf("%s *%s* %s/%s: %s", icon, e.Kind, e.Namespace, e.App, slackEscape(e.Message))
	var fields []SlackField
	add := func(title, value string, short bool) {
		if value != "" {
			fields = append(fields, SlackField{Title: title, Value: slackEscape(value), Short: short})
		}
	}
	add("Color", e.Color, true)
	add("Version", e.Version, true)
	add("Standing", e.Standing, true)
	if e.From != "" || e.To != "" {
		add("Traffic", fmt.Sprintf("%s → %s", dash(e.From), dash(e.To)), true)
	}
	add("By", e.By, true)
	add("Incident", e.Incident, true)
	add("Reason", e.Reason, false)
	for _, k := range sortedKeys(e.Details) {
		add(k, e.Details[k], true)
	}
	return SlackMessage{Text: text, Attachments: []SlackAttachment{{Color: color, Fallback: text, Fields: fields,
		Footer: "remlactl", Ts: e.Time.Unix()}}}
}

// slackEscape escapes what Slack's mrkdwn reads as control sequences.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

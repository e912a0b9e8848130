package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
)

// PayloadVersion is the version of the generic JSON body; a receiver can
// branch on it when fields change incompatibly.
const PayloadVersion = "1"

// Payload is the body of the generic webhook: the event, and who sent it.
type Payload struct {
	Version string `json:"version"`
	Source  string `json:"source"`
	Event   Event  `json:"event"`
}

// URLSource gives a receiver's URL when it posts: it is read from a file
// or a Secret, so it can be rotated without a restart.
type URLSource func(ctx context.Context) (string, error)

// endpoint is what every receiver format shares: a name, where the URL
// comes from, which kinds it takes, and the HTTP client.
type endpoint struct {
	name   string
	url    URLSource
	kinds  []string // empty: every kind
	client *http.Client
}

func (e *endpoint) Name() string { return e.name }

func (e *endpoint) Wants(kind string) bool {
	return len(e.kinds) == 0 || slices.Contains(e.kinds, kind)
}

// post sends body as JSON and wants a 2xx answer; the error names the
// receiver and the URL's host only (the path of a Slack URL is its token).
func (e *endpoint) post(ctx context.Context, body any) error {
	raw, err := e.url(ctx)
	if err != nil {
		return fmt.Errorf("receiver %s: %w", e.name, err)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("receiver %s: the URL is not an http(s) URL: fix its file or Secret", e.name)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("receiver %s: encode: %w", e.name, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, raw, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("receiver %s: %w", e.name, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "remlactl-notify/"+PayloadVersion)
	resp, err := e.client.Do(req)
	if err != nil {
		// url.Error carries the whole URL; keep the host only.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("receiver %s: post to %s: %w", e.name, u.Host, err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("receiver %s: %s answered %s: %s", e.name, u.Host, resp.Status, bytes.TrimSpace(snippet))
	}
	return nil
}

// Webhook posts the generic JSON Payload.
type Webhook struct {
	endpoint
	source string
}

// NewWebhook is a generic JSON receiver named name, posting to the URL
// src gives, for the kinds listed (none: all); source names the sender in
// the payload.
func NewWebhook(name string, src URLSource, kinds []string, client *http.Client, source string) *Webhook {
	return &Webhook{endpoint: endpoint{name: name, url: src, kinds: kinds, client: orDefault(client)}, source: source}
}

// Send posts e.
func (w *Webhook) Send(ctx context.Context, e Event) error {
	return w.post(ctx, Payload{Version: PayloadVersion, Source: w.source, Event: e})
}

func orDefault(c *http.Client) *http.Client {
	if c == nil {
		// No client-wide timeout: the Dispatcher's context bounds each post.
		return &http.Client{}
	}
	return c
}

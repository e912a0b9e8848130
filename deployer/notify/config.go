package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Config is the notify: block of remla.yaml.
//
//	notify:
//	  timeout: 5s        # per post
//	  queueSize: 64      # per receiver; what does not fit is dropped and counted
//	  receivers:
//	    - name: ops
//	      type: webhook  # the generic JSON Payload
//	      urlFile: /etc/remla/ops-webhook-url
//	    - name: chat
//	      type: slack
//	      urlSecret: {name: remla-notify, key: slack-url}
//	      events: [RolledBack, RollbackRefused, DeployFailed]
type Config struct {
	Timeout   metav1.Duration  `json:"timeout,omitzero"`
	QueueSize int              `json:"queueSize,omitempty"`
	Receivers []ReceiverConfig `json:"receivers,omitempty"`
}

// ReceiverConfig is one receiver. Its URL comes from exactly one of
// URLFile (a file whose first line is the URL) or URLSecret (a key of a
// Secret in the deployer's namespace): never from a flag or remla.yaml
// itself, since the URL is a credential.
type ReceiverConfig struct {
	Name      string     `json:"name"`
	Type      string     `json:"type"` // webhook or slack
	URLFile   string     `json:"urlFile,omitempty"`
	URLSecret *SecretKey `json:"urlSecret,omitempty"`
	// Events lists the kinds to post (Deployed, RolledBack, ...); empty: all.
	Events []string `json:"events,omitempty"`
}

// SecretKey names a key of a Secret.
type SecretKey struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

// Receiver types.
const (
	TypeWebhook = "webhook"
	TypeSlack   = "slack"
)

// Validate reports every receiver that cannot work.
func (c *Config) Validate() error {
	var bad []string
	if c.Timeout.Duration < 0 {
		bad = append(bad, "timeout must not be negative")
	}
	if c.QueueSize < 0 {
		bad = append(bad, "queueSize must not be negative")
	}
	names := map[string]bool{}
	for i, r := range c.Receivers {
		where := fmt.Sprintf("receivers[%d]", i)
		if r.Name == "" {
			bad = append(bad, where+": give it a name")
		} else if names[r.Name] {
			bad = append(bad, fmt.Sprintf("%s: name %q is used twice", where, r.Name))
		}
		names[r.Name] = true
		if r.Type != TypeWebhook && r.Type != TypeSlack {
			bad = append(bad, fmt.Sprintf("%s (%s): type %q: use webhook or slack", where, r.Name, r.Type))
		}
		switch {
		case r.URLFile == "" && r.URLSecret == nil:
			bad = append(bad, fmt.Sprintf("%s (%s): set urlFile or urlSecret: {name, key}", where, r.Name))
		case r.URLFile != "" && r.URLSecret != nil:
			bad = append(bad, fmt.Sprintf("%s (%s): urlFile and urlSecret both set: keep one", where, r.Name))
		case r.URLSecret != nil && (r.URLSecret.Name == "" || r.URLSecret.Key == ""):
			bad = append(bad, fmt.Sprintf("%s (%s): urlSecret needs name and key", where, r.Name))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("notify: %s", strings.Join(bad, "; "))
	}
	return nil
}

// SecretReader reads one key of a Secret in the deployer's namespace.
type SecretReader func(ctx context.Context, name, key string) ([]byte, error)

// New builds the Dispatcher of c, with no worker when c has no receiver
// (it then does nothing); the caller Closes it. Nothing is read yet: each URL is read
// when a post needs it, so a missing file or Secret is a logged failure of
// that post, not of the operation.
func New(c Config, secrets SecretReader, client *http.Client, log *slog.Logger, source string) (*Dispatcher, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	var rs []Receiver
	for _, rc := range c.Receivers {
		src := fileURL(rc.URLFile)
		if rc.URLSecret != nil {
			src = secretURL(secrets, *rc.URLSecret)
		}
		switch rc.Type {
		case TypeSlack:
			rs = append(rs, NewSlack(rc.Name, src, rc.Events, client))
		default:
			rs = append(rs, NewWebhook(rc.Name, src, rc.Events, client, source))
		}
	}
	return NewDispatcher(rs, c.Timeout.Duration, c.QueueSize, log), nil
}

// fileURL reads the URL from path at each post, so a rotated file is picked up.
func fileURL(path string) URLSource {
	return func(context.Context) (string, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("read the URL from urlFile: %w", err)
		}
		u, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
		if u = strings.TrimSpace(u); u == "" {
			return "", fmt.Errorf("urlFile %s is empty: put the webhook URL in it", path)
		}
		return u, nil
	}
}

// secretURLTTL is how long a URL read from a Secret is reused.
const secretURLTTL = time.Minute

// secretURL reads the URL from a Secret key, cached for secretURLTTL.
func secretURL(read SecretReader, k SecretKey) URLSource {
	var cached string
	var at time.Time
	return func(ctx context.Context) (string, error) {
		// Only the receiver's one worker calls it: no lock needed.
		if cached != "" && time.Since(at) < secretURLTTL {
			return cached, nil
		}
		if read == nil {
			return "", errors.New("urlSecret needs a cluster connection")
		}
		b, err := read(ctx, k.Name, k.Key)
		if err != nil {
			return "", fmt.Errorf("read the URL from Secret %s key %s: %w", k.Name, k.Key, err)
		}
		u := strings.TrimSpace(string(b))
		if u == "" {
			return "", fmt.Errorf("Secret %s key %s is empty: put the webhook URL in it", k.Name, k.Key)
		}
		cached, at = u, time.Now()
		return u, nil
	}
}

package analysis

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"k8s.io/client-go/rest"
)

// Target is how a check reaches one color's application: the candidate's or
// the stable color's preview Service.
type Target interface {
	// Name says which color and Service, for messages.
	Name() string
	// Do sends one request; a non-2xx answer is a status and a body, not an
	// error. An error means no answer (transport, proxy or timeout).
	Do(ctx context.Context, method, path string, body []byte) (status int, answer []byte, err error)
}

// ServiceProxy reaches a Service through the API server's service proxy
// (/api/v1/namespaces/NS/services/NAME:PORT/proxy/PATH), so remlactl needs
// no port-forward or ingress. Its RBAC is `services/proxy` with the verbs
// get (GET) and create (POST) in the namespace (docs/operations.md).
type ServiceProxy struct {
	// Client is a REST client of the core API group
	// (CoreV1().RESTClient().(*rest.RESTClient)).
	Client  *rest.RESTClient
	Color   string
	NS      string
	Service string
	// Port is the Service's port name or number ("http").
	Port string
}

// Name is "<color> (Service <ns>/<name>)".
func (p *ServiceProxy) Name() string {
	return fmt.Sprintf("%s (Service %s/%s)", p.Color, p.NS, p.Service)
}

// Do sends the request through the API server. It uses the REST client's
// URL and authenticated HTTP client directly, so a non-2xx answer of the
// application comes back with its status and body (client-go's Result turns
// some of them into errors without a status).
func (p *ServiceProxy) Do(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	u := p.Client.Verb(method).Namespace(p.NS).Resource("services").Name(p.Service + ":" + p.Port).
		SubResource("proxy").Suffix(strings.TrimPrefix(path, "/")).URL()
	h := &HTTPTarget{Label: p.Name() + " through the service proxy", URL: u.String(), Client: p.Client.Client}
	return h.Do(ctx, method, "", body)
}

// HTTPTarget reaches an application at a base URL (make run, the tests).
type HTTPTarget struct {
	Label  string
	URL    string
	Client *http.Client
}

// Name is the label and the URL.
func (h *HTTPTarget) Name() string { return fmt.Sprintf("%s (%s)", h.Label, h.URL) }

// Do sends the request to URL+path.
func (h *HTTPTarget) Do(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(h.URL, "/")+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c := h.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s to %s: %w", method, path, h.Name(), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("read the answer of %s %s from %s: %w", method, path, h.Name(), err)
	}
	return resp.StatusCode, b, nil
}

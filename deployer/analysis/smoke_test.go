package analysis

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// fakeApp answers POST /api/v1/predict: status code, and a tag for every
// title unless empty is set; it counts the requests.
func fakeApp(t *testing.T, status func(n int64) int, empty bool, delay time.Duration) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/predict" || r.Method != http.MethodPost {
			http.Error(w, "no route "+r.URL.Path, http.StatusNotFound)
			return
		}
		i := n.Add(1)
		time.Sleep(delay)
		if code := status(i); code != http.StatusOK {
			http.Error(w, `{"error":"too many predictions"}`, code)
			return
		}
		var req struct{ Title string }
		json.NewDecoder(r.Body).Decode(&req)
		tags := []map[string]any{{"tag": "python", "score": 0.9}}
		if empty {
			tags = nil
		}
		json.NewEncoder(w).Encode(map[string]any{"title": req.Title, "tags": tags})
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestSmoke(t *testing.T) {
	ok := func(int64) int { return http.StatusOK }
	for _, tc := range []struct {
		name    string
		status  func(int64) int
		empty   bool
		delay   time.Duration
		cfg     SmokeConfig
		want    Phase
		message string
	}{
		{"good", ok, false, 0, SmokeConfig{Requests: 10}, Successful, "10 of 10 answers 2xx"},
		{"errors after the first", func(i int64) int {
			if i > 1 {
				return http.StatusTooManyRequests
			}
			return http.StatusOK
		}, false, 0, SmokeConfig{Requests: 10}, Failed, "9 of 10 answers were not 2xx (9× 429)"},
		{"empty predictions", ok, true, 0, SmokeConfig{Requests: 4, MinNonEmpty: 0.5}, Failed, "only 0% of answers carry a tag, below 50% by 50 points"},
		{"slow", ok, false, 30 * time.Millisecond, SmokeConfig{Requests: 4, MaxP95: metav1.Duration{Duration: time.Millisecond}}, Failed, "is over 1ms by"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, n := fakeApp(t, tc.status, tc.empty, tc.delay)
			r := Smoke(context.Background(), &HTTPTarget{Label: "green", URL: srv.URL}, nil, tc.cfg)
			if r.Phase != tc.want || !strings.Contains(r.Message, tc.message) {
				t.Fatalf("smoke: %s %q, want %s with %q", r.Phase, r.Message, tc.want, tc.message)
			}
			if n.Load() != int64(tc.cfg.Requests) {
				t.Fatalf("%d requests sent, want %d", n.Load(), tc.cfg.Requests)
			}
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		r := Smoke(context.Background(), &HTTPTarget{Label: "green", URL: "http://127.0.0.1:1"}, nil, SmokeConfig{Requests: 2})
		if r.Phase != Failed || !strings.Contains(r.Message, "2× no answer") {
			t.Fatalf("smoke of a dead target: %s %q", r.Phase, r.Message)
		}
	})
}

// TestServiceProxyPath: ServiceProxy asks the API server for the service
// proxy path of the Service's named port, and passes a non-2xx answer
// through as a status, not an error.
func TestServiceProxyPath(t *testing.T) {
	var got atomic.Value
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Method + " " + r.URL.Path)
		if strings.HasSuffix(r.URL.Path, "/missing") {
			http.Error(w, "nope", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte(`{"tags":[{"tag":"go"}]}`))
	}))
	defer api.Close()
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: api.URL})
	if err != nil {
		t.Fatal(err)
	}
	p := &ServiceProxy{Client: cs.CoreV1().RESTClient().(*rest.RESTClient), Color: "green", NS: "shop", Service: "remla-green-preview", Port: "http"}
	code, body, err := p.Do(context.Background(), http.MethodPost, "/api/v1/predict", []byte(`{"title":"x"}`))
	if err != nil || code != 200 || !strings.Contains(string(body), "go") {
		t.Fatalf("Do: %d %s %v", code, body, err)
	}
	if want := "POST /api/v1/namespaces/shop/services/remla-green-preview:http/proxy/api/v1/predict"; got.Load() != want {
		t.Fatalf("path %q, want %q", got.Load(), want)
	}
	code, _, err = p.Do(context.Background(), http.MethodGet, "/missing", nil)
	if err != nil || code != http.StatusServiceUnavailable {
		t.Fatalf("a 503 answer: %d %v, want the status and no error", code, err)
	}
}

package clustertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ServiceURL returns http://CLUSTER-IP:PORT of the Service's first port. On
// the real node the host reaches it through kube-proxy's iptables rules,
// exactly as a pod would.
func ServiceURL(t testing.TB, ns, name string) string {
	t.Helper()
	RealNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	svc, err := Client(t).CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("read Service %s/%s: %v", ns, name, err)
	}
	if svc.Spec.ClusterIP == "" || svc.Spec.ClusterIP == corev1.ClusterIPNone || len(svc.Spec.Ports) == 0 {
		t.Fatalf("Service %s/%s has ClusterIP %q and %d ports; want a ClusterIP and a port", ns, name, svc.Spec.ClusterIP, len(svc.Spec.Ports))
	}
	return "http://" + svc.Spec.ClusterIP + ":" + strconv.Itoa(int(svc.Spec.Ports[0].Port))
}

// HTTPClient opens a new connection for every request, so that each one
// goes through kube-proxy's rules as they are at that moment (a kept-alive
// connection stays with the pod it reached first).
var HTTPClient = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// Answer is what remla-app said to one prediction.
type Answer struct {
	PredictionID string `json:"prediction_id"`
	Color        string `json:"color"`
	ModelVersion string `json:"model_version"`
	Tags         []struct {
		Tag string `json:"tag"`
	} `json:"tags"`
}

// Predict asks the app at base (a Service URL) to tag title.
func Predict(ctx context.Context, base, title string) (Answer, error) {
	var a Answer
	body, _ := json.Marshal(map[string]string{"title": title})
	if err := post(ctx, base+"/api/v1/predict", body, &a); err != nil {
		return a, err
	}
	if a.PredictionID == "" || a.Color == "" {
		return a, fmt.Errorf("POST %s/api/v1/predict: no prediction_id or color in the answer", base)
	}
	return a, nil
}

// Feedback tells the app at base whether the prediction id was right.
func Feedback(ctx context.Context, base, id string, happy bool) error {
	body, _ := json.Marshal(map[string]any{"prediction_id": id, "happy": happy})
	return post(ctx, base+"/api/v1/feedback", body, nil)
}

func post(ctx context.Context, url string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("POST %s: read the answer: %w", url, err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: %s: %s", url, resp.Status, bytes.TrimSpace(b))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("POST %s: %w", url, err)
		}
	}
	return nil
}

// Load is a steady stream of predictions through a Service: workers each
// send one request after the other, on a new connection every time, until
// Stop. Every request is counted, with its outcome and the color that
// answered.
type Load struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	res    LoadResult
}

// LoadResult is what a Load saw.
type LoadResult struct {
	Requests, Failed int
	// Colors counts the successful answers by color.
	Colors map[string]int
	// Errors holds the first failures, for the test's message.
	Errors []string
	// Samples is every request in the order it ended.
	Samples []Sample
}

// Sample is one request of a Load.
type Sample struct {
	End   time.Time
	Color string // "" when it failed
}

// StartLoad starts workers sending predictions to base until Stop or ctx ends.
func StartLoad(ctx context.Context, base string, workers int) *Load {
	ctx, cancel := context.WithCancel(ctx)
	l := &Load{cancel: cancel, res: LoadResult{Colors: map[string]int{}}}
	for w := range workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				a, err := Predict(ctx, base, fmt.Sprintf("How to read a file line by line in Go, worker %d request %d", w, i))
				if ctx.Err() != nil {
					return // cut short by Stop: not a failure of the Service
				}
				l.record(a, err)
			}
		}()
	}
	return l
}

func (l *Load) record(a Answer, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.res.Requests++
	s := Sample{End: time.Now()}
	if err != nil {
		l.res.Failed++
		if len(l.res.Errors) < 5 {
			l.res.Errors = append(l.res.Errors, s.End.Format("15:04:05.000")+" "+err.Error())
		}
	} else {
		s.Color = a.Color
		l.res.Colors[a.Color]++
	}
	l.res.Samples = append(l.res.Samples, s)
}

// Snapshot returns what the load saw so far.
func (l *Load) Snapshot() LoadResult {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.res
	r.Colors = make(map[string]int, len(l.res.Colors))
	for c, n := range l.res.Colors {
		r.Colors[c] = n
	}
	r.Samples = append([]Sample(nil), l.res.Samples...)
	return r
}

// Stop ends the load and returns what it saw.
func (l *Load) Stop() LoadResult {
	l.cancel()
	l.wg.Wait()
	return l.Snapshot()
}

// FirstAnswer returns when the first request after since was answered by
// color, and false when none was.
func (r LoadResult) FirstAnswer(color string, since time.Time) (time.Time, bool) {
	for _, s := range r.Samples {
		if s.Color == color && s.End.After(since) {
			return s.End, true
		}
	}
	return time.Time{}, false
}

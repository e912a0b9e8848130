package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/remla/tagger/feedback"
	"github.com/remla/tagger/model"
)

func benchServer(b *testing.B) *Server {
	b.Helper()
	path := os.Getenv("REMLA_TEST_MODEL")
	if path == "" {
		b.Skip("REMLA_TEST_MODEL is not set; see CONTRIBUTING.md")
	}
	m, err := model.Load(path)
	if err != nil {
		b.Fatal(err)
	}
	store, err := feedback.OpenSQLite(context.Background(), filepath.Join(b.TempDir(), "fb.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	s, err := New(Config{Predictor: m, Store: store, SigningKeys: testKeys, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkPredictAPI measures POST /api/v1/predict through the whole
// handler chain (middleware, decoding, model, metrics, JSON), without the
// network. `make bench-serve` measures it over TCP with wrk.
func BenchmarkPredictAPI(b *testing.B) {
	h := benchServer(b).Handler()
	body := `{"title": "Segmentation fault when using std::vector in C++"}`
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, "/api/v1/predict", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d", rec.Code)
			}
		}
	})
}

// BenchmarkMetricsScrape measures one GET /metrics.
func BenchmarkMetricsScrape(b *testing.B) {
	h := benchServer(b).Handler()
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	}
}

// benchTitles are the titles app/bench/predict.lua sends (one a line in
// its table, quoted), so the in-process figures and `make bench-serve`
// exercise the same requests.
func benchTitles(b *testing.B) []string {
	b.Helper()
	src, err := os.ReadFile(filepath.Join("bench", "predict.lua"))
	if err != nil {
		b.Fatal(err)
	}
	var titles []string
	for _, m := range regexp.MustCompile(`(?m)^\s+"([^"]+)",$`).FindAllStringSubmatch(string(src), -1) {
		titles = append(titles, m[1])
	}
	if len(titles) == 0 {
		b.Fatal("no titles in bench/predict.lua")
	}
	return titles
}

// discardWriter is a ResponseWriter that keeps nothing but the status, so
// the serial benchmarks count the handler's allocations, not a recorder's.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }

// serveSerial runs one request per iteration through h, reusing the
// request and writer, and fails on a status other than want.
func serveSerial(b *testing.B, h http.Handler, method, path string, bodies []string, want int) {
	req := httptest.NewRequest(method, path, nil)
	if bodies != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.RemoteAddr = "127.0.0.1:40000"
	w := &discardWriter{h: http.Header{}}
	var body strings.Reader
	rc := io.NopCloser(&body)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if bodies != nil {
			body.Reset(bodies[i%len(bodies)])
			req.Body = rc
			i++
		}
		clear(w.h)
		w.code = http.StatusOK
		h.ServeHTTP(w, req)
		if w.code != want {
			b.Fatalf("%s %s: status %d, want %d", method, path, w.code, want)
		}
	}
}

// BenchmarkServeSerial is the handler path of POST /api/v1/predict beside
// GET /healthz and the model's Predict alone, one request at a time on one
// goroutine: the figures docs/BENCHMARKS.md gives for allocations per
// request. predict minus model is what the server adds around the model.
func BenchmarkServeSerial(b *testing.B) {
	s := benchServer(b)
	h := s.Handler()
	titles := benchTitles(b)
	bodies := make([]string, len(titles))
	for i, t := range titles {
		bodies[i] = `{"title": "` + t + `"}`
	}
	b.Run("healthz", func(b *testing.B) { serveSerial(b, h, http.MethodGet, "/healthz", nil, http.StatusOK) })
	b.Run("predict", func(b *testing.B) { serveSerial(b, h, http.MethodPost, "/api/v1/predict", bodies, http.StatusOK) })
	b.Run("model", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			s.cfg.Predictor.Predict(titles[i%len(titles)])
			i++
		}
	})
}

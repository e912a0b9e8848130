package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
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

package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/remla/tagger/feedback"
	"github.com/remla/tagger/model"
	"github.com/remla/tagger/test/testenv"
)

// realModel loads the model named by REMLA_TEST_MODEL.
func realModel(t *testing.T) *model.Model {
	t.Helper()
	m, err := model.Load(testenv.Model(t))
	if err != nil {
		t.Fatalf("REMLA_TEST_MODEL: %v", err)
	}
	return m
}

// fakePredictor answers from a fixed table: a title it does not know gets
// no tag. It reaches single branches (e.g. empty predictions) on demand.
type fakePredictor struct {
	answers map[string][]model.TagScore
	tags    []string
}

func (f fakePredictor) Predict(title string) []model.TagScore {
	if a, ok := f.answers[title]; ok {
		return a
	}
	return []model.TagScore{}
}
func (f fakePredictor) Tags() []string  { return f.tags }
func (f fakePredictor) Version() string { return "fake-1" }

func newFake() fakePredictor {
	return fakePredictor{
		answers: map[string][]model.TagScore{
			"php sql":  {{Tag: "php", Score: 0.9}, {Tag: "sql", Score: 0.6}},
			"go sort":  {{Tag: "go", Score: 0.8}},
			"c# linq":  {{Tag: "c#", Score: 0.7}, {Tag: "linq", Score: 0.55}},
			"java std": {{Tag: "java", Score: 0.51}},
		},
		tags: []string{"c#", "c++", "go", "java", "javascript", "linq", "php", "python", "sql"},
	}
}

// testKeys sign the test servers' prediction ids.
var testKeys = [][]byte{[]byte("test signing key, 32 bytes or more, never used in production")}

// serveWith builds a Server from cfg on httptest, filling what cfg leaves
// empty for a test: the fake model, a SQLite store of its own in a temp
// dir, the test keys, a silent logger.
func serveWith(t testing.TB, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	if cfg.Predictor == nil {
		cfg.Predictor = newFake()
	}
	if cfg.Store == nil {
		store, err := feedback.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "feedback.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		cfg.Store = store
	}
	if cfg.SigningKeys == nil {
		cfg.SigningKeys = testKeys
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return s, hs
}

// testServer is a Server on httptest with a real SQLite store in a temp dir.
type testServer struct {
	*Server
	URL    string
	DBPath string
	store  *feedback.SQLite
}

func startServer(t *testing.T, p Predictor) *testServer {
	t.Helper()
	dbPath := filepath.Join(t.TempDir(), "feedback.db")
	store, err := feedback.OpenSQLite(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Predictor: p, Store: store, Color: "green", CodeVersion: "test", SigningKeys: testKeys,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() { hs.Close(); store.Close() })
	return &testServer{Server: s, URL: hs.URL, DBPath: dbPath, store: store}
}

// do sends one request and returns the status and body.
func do(t *testing.T, method, url, contentType, body string) (int, string) {
	t.Helper()
	return send(t, method, url, contentType, body, nil)
}

// send is do with more request headers; it does not follow redirects.
func send(t *testing.T, method, target, contentType, body string, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, responseBody(t, res)
}

// responseBody reads res's body and closes it.
func responseBody(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

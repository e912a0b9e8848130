package app

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/remla/tagger/feedback"
	"github.com/remla/tagger/test/testenv"
)

func predictID(t *testing.T, base, title string) string {
	t.Helper()
	code, body := do(t, http.MethodPost, base+"/api/v1/predict", "application/json", fmt.Sprintf(`{"title": %q}`, title))
	if code != http.StatusOK {
		t.Fatalf("predict %q: %d %s", title, code, body)
	}
	var r predictResponse
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	return r.PredictionID
}

func TestPredictAPI(t *testing.T) {
	ts := startServer(t, newFake())
	code, body := do(t, http.MethodPost, ts.URL+"/api/v1/predict", "application/json", `{"title": "  php sql "}`)
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	var r predictResponse
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	if r.PredictionID == "" || r.Title != "php sql" || r.ModelVersion != "fake-1" || r.Color != "green" ||
		len(r.Tags) != 2 || r.Tags[0].Tag != "php" || r.Tags[0].Score != 0.9 {
		t.Fatalf("unexpected response %+v", r)
	}

	// No tag is an empty list, never null.
	_, body = do(t, http.MethodPost, ts.URL+"/api/v1/predict", "application/json", `{"title": "nothing known"}`)
	if !strings.Contains(body, `"tags":[]`) {
		t.Fatalf("empty prediction: %s", body)
	}

	// The seed's route and shape.
	code, body = do(t, http.MethodPost, ts.URL+"/predict", "application/json", `{"title": "php sql"}`)
	var seed map[string]any
	if err := json.Unmarshal([]byte(body), &seed); err != nil || code != http.StatusOK {
		t.Fatalf("seed route: %d %s", code, body)
	}
	if fmt.Sprint(seed["result"]) != "[php sql]" || seed["title"] != "php sql" || seed["classifier"] == "" {
		t.Fatalf("seed route shape: %s", body)
	}

	code, body = do(t, http.MethodGet, ts.URL+"/api/v1/tags", "", "")
	if code != http.StatusOK || !strings.Contains(body, `"tags":["c#","c++","go"`) {
		t.Fatalf("tags: %d %s", code, body)
	}
}

func TestFeedbackAPI(t *testing.T) {
	ts := startServer(t, newFake())
	id := predictID(t, ts.URL, "php sql")
	code, body := do(t, http.MethodPost, ts.URL+"/api/v1/feedback", "application/json",
		fmt.Sprintf(`{"prediction_id": %q, "happy": false, "correct_tags": ["php"], "wrong_tags": ["sql"], "missing_tags": ["mysql-not-known"]}`, id))
	if code != http.StatusBadRequest || !strings.Contains(body, "missing_tags") {
		t.Fatalf("unknown missing tag: %d %s", code, body)
	}
	code, body = do(t, http.MethodPost, ts.URL+"/api/v1/feedback", "application/json",
		fmt.Sprintf(`{"prediction_id": %q, "happy": false, "correct_tags": ["php"], "wrong_tags": ["sql"], "missing_tags": ["python"]}`, id))
	if code != http.StatusCreated {
		t.Fatalf("feedback: %d %s", code, body)
	}
	// Stored under the id's key, with what the user said and which release
	// predicted.
	p, err := ts.ids.open(id, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := ts.store.Each(t.Context(), feedback.Filter{}, func(r feedback.Record) error {
		got = append(got, strings.TrimSpace(fmt.Sprintln(r.PredictionID == p.Key, r.Title, r.Happy, r.Predicted, r.CorrectTags, r.WrongTags, r.MissingTags, r.ModelVersion, r.Color)))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := "true php sql false [php sql] [php] [sql] [python] fake-1 green"; len(got) != 1 || got[0] != want {
		t.Fatalf("stored %q, want [%q]", got, want)
	}
}

// TestBadInput sends every kind of bad request the API must refuse, checks
// the status and that the JSON error names the problem, then checks that the
// server still serves.
func TestBadInput(t *testing.T) {
	ts := startServer(t, newFake())
	id := predictID(t, ts.URL, "php sql")
	answered := predictID(t, ts.URL, "go sort")
	if code, body := do(t, http.MethodPost, ts.URL+"/api/v1/feedback", "application/json", fmt.Sprintf(`{"prediction_id": %q, "happy": true}`, answered)); code != http.StatusCreated {
		t.Fatalf("first feedback: %d %s", code, body)
	}
	long := strings.Repeat("é", MaxTitleRunes+1) // 1001 characters, 2002 bytes: the limit is in characters
	huge := `{"title": "` + strings.Repeat("a", 65<<10) + `"}`
	fb := func(rest string) string { return fmt.Sprintf(`{"prediction_id": %q, %s}`, id, rest) }

	tests := []struct {
		name, method, path, body string
		status                   int
		field                    string // the error's field, when there is one
		says                     string // a piece of the message
	}{
		{"empty body", "POST", "/api/v1/predict", "", 400, "", "empty"},
		{"empty title", "POST", "/api/v1/predict", `{"title": ""}`, 400, "title", "empty"},
		{"whitespace title", "POST", "/api/v1/predict", `{"title": " \t\n "}`, 400, "title", "empty"},
		{"missing title", "POST", "/api/v1/predict", `{}`, 400, "title", "required"},
		{"null body", "POST", "/api/v1/predict", `null`, 400, "title", "required"},
		{"title over 1000 characters", "POST", "/api/v1/predict", `{"title": "` + long + `"}`, 400, "title", "1001 characters"},
		{"title of exactly 1000 is fine", "POST", "/api/v1/predict", `{"title": "` + long[2:] + `"}`, 200, "", ""},
		{"body over 64 KiB", "POST", "/api/v1/predict", huge, 413, "", "64 KiB"},
		{"invalid UTF-8", "POST", "/api/v1/predict", "{\"title\": \"caf\xe9\"}", 400, "", "UTF-8"},
		{"malformed JSON", "POST", "/api/v1/predict", `{"title": "x"`, 400, "", "not valid JSON"},
		{"syntax error", "POST", "/api/v1/predict", `{"title" "x"}`, 400, "", "not valid JSON"},
		{"title of wrong type", "POST", "/api/v1/predict", `{"title": 42}`, 400, "title", "must be a string"},
		{"not an object", "POST", "/api/v1/predict", `["x"]`, 400, "", "JSON object"},
		{"unknown field", "POST", "/api/v1/predict", `{"title": "x", "tilte": "y"}`, 400, "tilte", "unknown field"},
		{"trailing data", "POST", "/api/v1/predict", `{"title": "x"} {"title": "y"}`, 400, "", "exactly one"},
		{"seed route, empty title", "POST", "/predict", `{"title": ""}`, 400, "title", "empty"},
		{"seed route, wrong type", "POST", "/predict", `{"title": ["x"]}`, 400, "title", "must be a string"},

		{"feedback, no body", "POST", "/api/v1/feedback", "", 400, "", "empty"},
		{"feedback, no prediction_id", "POST", "/api/v1/feedback", `{"happy": true}`, 400, "prediction_id", "required"},
		{"feedback, blank prediction_id", "POST", "/api/v1/feedback", `{"prediction_id": " ", "happy": true}`, 400, "prediction_id", "required"},
		{"feedback, no happy", "POST", "/api/v1/feedback", fb(`"correct_tags": []`), 400, "happy", "required"},
		{"feedback, happy as string", "POST", "/api/v1/feedback", fb(`"happy": "yes"`), 400, "happy", "true or false"},
		{"feedback, tags not a list", "POST", "/api/v1/feedback", fb(`"happy": true, "wrong_tags": "php"`), 400, "wrong_tags", "array of strings"},
		{"feedback, tag not a string", "POST", "/api/v1/feedback", fb(`"happy": true, "correct_tags": [1]`), 400, "correct_tags", "array of strings"},
		{"feedback, made-up prediction id", "POST", "/api/v1/feedback", `{"prediction_id": "NOPE", "happy": true}`, 400, "prediction_id", "not one this service issued"},
		{"feedback, twice", "POST", "/api/v1/feedback", fmt.Sprintf(`{"prediction_id": %q, "happy": false}`, answered), 409, "prediction_id", "already recorded"},
		{"feedback, marks a tag not predicted", "POST", "/api/v1/feedback", fb(`"happy": false, "wrong_tags": ["java"]`), 400, "wrong_tags", "not predicted"},
		{"feedback, right and wrong at once", "POST", "/api/v1/feedback", fb(`"happy": false, "correct_tags": ["php"], "wrong_tags": ["php"]`), 400, "wrong_tags", "both"},
		{"feedback, unknown missing tag", "POST", "/api/v1/feedback", fb(`"happy": false, "missing_tags": ["cobol"]`), 400, "missing_tags", "GET /api/v1/tags"},
		{"feedback, predicted tag as missing", "POST", "/api/v1/feedback", fb(`"happy": false, "missing_tags": ["php"]`), 400, "missing_tags", "was predicted"},
		{"feedback, body over 64 KiB", "POST", "/api/v1/feedback", huge, 413, "", "64 KiB"},
		{"feedback, invalid UTF-8", "POST", "/api/v1/feedback", "{\"prediction_id\": \"\xff\", \"happy\": true}", 400, "", "UTF-8"},

		{"unknown API route", "GET", "/api/v2/predict", "", 404, "", "no route"},
		{"the API root", "GET", "/api", "", 404, "", "no route"},
		{"wrong method", "GET", "/api/v1/predict", "", 405, "", "not allowed"},
		{"wrong method, seed route", "GET", "/predict", "", 405, "", "not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := do(t, tt.method, ts.URL+tt.path, "application/json", tt.body)
			if code != tt.status {
				t.Fatalf("status %d, want %d; body %s", code, tt.status, body)
			}
			if tt.status == 200 {
				return
			}
			var e apiError
			if err := json.Unmarshal([]byte(body), &e); err != nil {
				t.Fatalf("error body is not JSON: %q", body)
			}
			if e.Status != tt.status || e.Field != tt.field || !strings.Contains(e.Message, tt.says) {
				t.Fatalf("error %+v; want status %d, field %q, message containing %q", e, tt.status, tt.field, tt.says)
			}
		})
	}

	// The server is unharmed: it still predicts and takes the first feedback.
	if code, body := do(t, http.MethodPost, ts.URL+"/api/v1/feedback", "application/json", fb(`"happy": true`)); code != http.StatusCreated {
		t.Fatalf("feedback after bad input: %d %s", code, body)
	}
	if got := predictID(t, ts.URL, "c# linq"); got == "" {
		t.Fatal("no prediction after bad input")
	}
	mf := testenv.MustScrape(t, ts.URL+"/metrics")
	if v, _ := mf.Value("feedback_total", "verdict", "happy"); v != 2 {
		t.Fatalf("feedback_total{happy} = %v after bad input, want 2 (refused feedback must not count)", v)
	}
}

func TestHealthAndVersion(t *testing.T) {
	ts := startServer(t, newFake())
	for _, tt := range []struct{ path, want string }{
		{"/healthz", `"status":"ok"`},
		{"/readyz", `"status":"ready"`},
		{"/version", `"model_version":"fake-1"`},
		{"/version", `"color":"green"`},
		{"/version", `"code_version":"test"`},
	} {
		code, body := do(t, http.MethodGet, ts.URL+tt.path, "", "")
		if code != http.StatusOK || !strings.Contains(body, tt.want) {
			t.Errorf("GET %s: %d %s; want 200 with %s", tt.path, code, body, tt.want)
		}
	}
	// A store that does not answer is reported, and the server stays ready:
	// predictions do not need it.
	ts.store.Close()
	ts.health.mu.Lock()
	ts.health.interval = 0
	ts.health.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := do(t, http.MethodGet, ts.URL+"/readyz", "", "")
		if code != http.StatusOK {
			t.Fatalf("readyz with a closed store: %d %s; want 200 (ready, store reported)", code, body)
		}
		if strings.Contains(body, `"feedback_store":"unavailable: `) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz never reported the closed store: %s", body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if v, _ := testenv.MustScrape(t, ts.URL+"/metrics").Value("feedback_store_up"); v != 0 {
		t.Fatalf("feedback_store_up = %v with a closed store, want 0", v)
	}
	if code, _ := do(t, http.MethodGet, ts.URL+"/healthz", "", ""); code != http.StatusOK {
		t.Fatalf("healthz with a closed store: %d, want 200", code)
	}
}

// TestFeedbackStoreDown checks that an answer the store cannot keep is not
// acknowledged and not counted.
func TestFeedbackStoreDown(t *testing.T) {
	ts := startServer(t, newFake())
	id := predictID(t, ts.URL, "php sql")
	ts.store.Close()
	res, err := http.Post(ts.URL+"/api/v1/feedback", "application/json", strings.NewReader(fmt.Sprintf(`{"prediction_id": %q, "happy": false}`, id)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), "could not be stored") || res.Header.Get("Retry-After") != "5" {
		t.Fatalf("feedback with the store down: %d %s Retry-After %q; want 503 with Retry-After: 5", res.StatusCode, b, res.Header.Get("Retry-After"))
	}
	if code, _ := do(t, http.MethodPost, ts.URL+"/api/v1/predict", "application/json", `{"title": "php sql"}`); code != http.StatusOK {
		t.Fatalf("predict with the store down: %d, want 200", code)
	}
	if v, _ := testenv.MustScrape(t, ts.URL+"/metrics").Value("feedback_total", "verdict", "unhappy"); v != 0 {
		t.Fatalf("feedback_total{unhappy} = %v after a failed store, want 0", v)
	}
}

func TestNewRefusesMissingParts(t *testing.T) {
	if _, err := New(Config{Store: nil, Predictor: newFake()}); err == nil {
		t.Fatal("New without a store succeeded")
	}
	if _, err := New(Config{}); err == nil {
		t.Fatal("New without a model succeeded")
	}
}

package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/remla/tagger/feedback"
	"github.com/remla/tagger/test/testenv"
)

// These tests are the list of answers that were lost, each now
// given the right answer.

// newReplica builds a server of the given color on a shared store.
func newReplica(t *testing.T, store feedback.Store, color string, p Predictor) *httptest.Server {
	t.Helper()
	_, hs := serveWith(t, Config{Predictor: p, Store: store, Color: color})
	return hs
}

func answerJSON(t *testing.T, base, id string, happy bool) (int, string) {
	t.Helper()
	return do(t, http.MethodPost, base+"/api/v1/feedback", "application/json", fmt.Sprintf(`{"prediction_id": %q, "happy": %v}`, id, happy))
}

// TestAnswerOnAnotherReplicaAndColor: blue predicts, green takes the
// answer (201), blue refuses a second one (409). The record names blue, and
// only blue's metrics... are not touched: green counts it apart.
func TestAnswerOnAnotherReplicaAndColor(t *testing.T) {
	store, err := feedback.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "shared.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	blue := newReplica(t, store, "blue", newFake())
	green := newReplica(t, store, "green", newFake())

	id := predictID(t, blue.URL, "php sql")
	if code, body := answerJSON(t, green.URL, id, true); code != http.StatusCreated {
		t.Fatalf("answer on the other color: %d %s, want 201", code, body)
	}
	if code, body := answerJSON(t, blue.URL, id, false); code != http.StatusConflict {
		t.Fatalf("second answer on the predicting replica: %d %s, want 409", code, body)
	}
	var got []feedback.Record
	store.Each(t.Context(), feedback.Filter{}, func(r feedback.Record) error { got = append(got, r); return nil })
	if len(got) != 1 || got[0].Color != "blue" || got[0].ModelVersion != "fake-1" || !got[0].Happy || got[0].Title != "php sql" || got[0].PredictedAt.IsZero() {
		t.Fatalf("stored %+v; want one happy answer about blue's prediction", got)
	}
	mf := testenv.MustScrape(t, green.URL+"/metrics")
	if v, _ := mf.Value("feedback_total", "verdict", "happy"); v != 0 {
		t.Fatalf("green's feedback_total{happy} = %v: an answer about blue's prediction judged green", v)
	}
	if v, _ := mf.Value("feedback_other_release_total", "verdict", "happy"); v != 1 {
		t.Fatalf("green's feedback_other_release_total{happy} = %v, want 1", v)
	}
	// The page on green shows blue's prediction as answered.
	if code, body := do(t, http.MethodGet, green.URL+"/?p="+id, "", ""); code != http.StatusOK || !strings.Contains(body, "Thanks! Your feedback was recorded.") {
		t.Fatalf("green's page for blue's answered prediction: %d", code)
	}
}

// TestAnswerAfterFlood: 80,000 predictions from another client come
// between a prediction and its answer (the in-memory ring kept 20,000).
func TestAnswerAfterFlood(t *testing.T) {
	ts := startServer(t, newFake())
	id := predictID(t, ts.URL, "php sql")
	h := ts.Handler()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 20000 {
				req := httptest.NewRequest(http.MethodPost, "/api/v1/predict", strings.NewReader(fmt.Sprintf(`{"title": "flood %d %d"}`, w, i)))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					t.Errorf("flood request: %d", rec.Code)
					return
				}
			}
		})
	}
	wg.Wait()
	if v, _ := testenv.MustScrape(t, ts.URL+"/metrics").Value("num_pred"); v < 80001 {
		t.Fatalf("num_pred = %v, want the flood counted", v)
	}
	if code, body := answerJSON(t, ts.URL, id, true); code != http.StatusCreated {
		t.Fatalf("answer after 80,000 other predictions: %d %s, want 201", code, body)
	}
}

// TestOversizedTagLists: 7,000 distinct missing tags in a 62 KB body get a
// 400 naming the cap, and nothing is stored. (How fast: see
// TestOversizedTagLists: 7,000 distinct missing tags in a 62 KB body get a
// 400 naming the cap, and nothing is stored. (How fast: see
// BenchmarkRefuse62KB.)
func TestOversizedTagLists(t *testing.T) {
	ts := startServer(t, newFake())
	id := predictID(t, ts.URL, "php sql")
	for _, field := range []string{"missing_tags", "wrong_tags", "correct_tags"} {
		body := oversizedBody(id, field, 7000)
		if len(body) < 60<<10 || len(body) > 64<<10 {
			t.Fatalf("body is %d bytes; the case is a 62 KB body", len(body))
		}
		code, out := do(t, http.MethodPost, ts.URL+"/api/v1/feedback", "application/json", body)
		var e apiError
		json.Unmarshal([]byte(out), &e)
		if code != http.StatusBadRequest || e.Field != field || !strings.Contains(e.Message, "7000 entries; at most 9") {
			t.Fatalf("%s with 7,000 tags: %d %s; want 400 naming the cap", field, code, out)
		}
	}
	// Repeats within the cap are folded, not refused.
	code, out := do(t, http.MethodPost, ts.URL+"/api/v1/feedback", "application/json",
		fmt.Sprintf(`{"prediction_id": %q, "happy": false, "missing_tags": ["python", "python", " python "], "wrong_tags": ["sql", "sql"]}`, id))
	if code != http.StatusCreated {
		t.Fatalf("repeated tags: %d %s", code, out)
	}
	var got []feedback.Record
	ts.store.Each(t.Context(), feedback.Filter{}, func(r feedback.Record) error { got = append(got, r); return nil })
	if len(got) != 1 || fmt.Sprint(got[0].MissingTags, got[0].WrongTags) != "[python] [sql]" {
		t.Fatalf("stored %+v", got)
	}
	// The form path has the same cap.
	form := "prediction_id=" + predictID(t, ts.URL, "php sql") + "&happy=no" + strings.Repeat("&missing=python", 50)
	if code, page := do(t, http.MethodPost, ts.URL+"/feedback", "application/x-www-form-urlencoded", form); code != http.StatusBadRequest || !strings.Contains(page, "at most 9") {
		t.Fatalf("form with 50 missing tags: %d", code)
	}
}

func TestCountElements(t *testing.T) {
	for in, want := range map[string]int{
		`[]`: 0, `[ ]`: 0, `["a"]`: 1, `["a","b"]`: 2, `["a,b", "c"]`: 2, `["a\",", "b"]`: 2,
		`[[1,2],{"x":1,"y":2},3]`: 3, "[\n\t\"a\" ,\n \"b\"\n]": 2,
	} {
		if got := countElements([]byte(in)); got != want {
			t.Errorf("countElements(%s) = %d, want %d", in, got, want)
		}
	}
}

func oversizedBody(id, field string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"prediction_id": %q, "happy": false, %q: [`, id, field)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"t%05d"`, i)
	}
	b.WriteString("]}")
	return b.String()
}

// BenchmarkRefuse62KB is the refusal of the 62 KB, 7,000-tag feedback
// body through the whole handler chain, beside a 62 KB title refused by
// predict: the tag list now costs what any body of its size costs, one JSON
// scan.
func BenchmarkRefuse62KB(b *testing.B) {
	s, _ := serveWith(b, Config{})
	h := s.Handler()
	p := s.predict("php sql")
	for _, bc := range []struct{ name, path, body string }{
		{"feedback-7000-tags", "/api/v1/feedback", oversizedBody(p.ID, "missing_tags", 7000)},
		{"predict-62KB-title", "/api/v1/predict", `{"title": "` + strings.Repeat("word ", 62<<10/5) + `"}`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.body)))
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, bc.path, strings.NewReader(bc.body))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusBadRequest {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}

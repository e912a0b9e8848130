package analysis

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/remla/tagger/training"
)

// taggerApp is a fake application whose predictions come from answer; it
// knows tags.
func taggerApp(t *testing.T, tags []string, answer func(title string) []string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/tags":
			json.NewEncoder(w).Encode(map[string]any{"tags": tags})
		case "/api/v1/predict":
			var req struct{ Title string }
			json.NewDecoder(r.Body).Decode(&req)
			var out []map[string]any
			for _, tg := range answer(req.Title) {
				out = append(out, map[string]any{"tag": tg, "score": 0.9})
			}
			json.NewEncoder(w).Encode(map[string]any{"tags": out})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func labelled(n int) (*training.Dataset, map[string][]string) {
	ds := &training.Dataset{Path: "golden.tsv"}
	truth := map[string][]string{}
	for i := range n {
		title := fmt.Sprintf("title %d", i)
		tags := []string{[]string{"python", "java", "c#"}[i%3]}
		ds.Titles, ds.Tags = append(ds.Titles, title), append(ds.Tags, tags)
		truth[title] = tags
	}
	return ds, truth
}

func TestQualityGate(t *testing.T) {
	ds, truth := labelled(60)
	all := []string{"python", "java", "c#"}
	perfect := func(title string) []string { return truth[title] }
	// worse misses every java title: java F1 0, the others 1, F1 weighted 2/3.
	worse := func(title string) []string {
		if truth[title][0] == "java" {
			return nil
		}
		return truth[title]
	}
	stable := taggerApp(t, all, perfect)
	for _, tc := range []struct {
		name   string
		answer func(string) []string
		tags   []string
		margin float64
		want   Phase
		msg    string
	}{
		{"equal", perfect, all, 0.01, Successful, "F1 weighted 1.0000 against the stable color's 1.0000 (change +0.0000"},
		{"worse", worse, all, 0.01, Failed, "worse by 0.3333, more than the margin 0.0100 by 0.3233"},
		{"worse within a wide margin", worse, all, 0.5, Successful, "change -0.3333"},
		// A tag the candidate does not know is scored as missed, not dropped.
		{"fewer tags known", worse, []string{"python", "c#"}, 0.01, Failed, "worse by 0.3333"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cand := taggerApp(t, tc.tags, tc.answer)
			m := tc.margin
			q := QualityGate(context.Background(), &HTTPTarget{Label: "green", URL: cand.URL}, &HTTPTarget{Label: "blue", URL: stable.URL}, ds,
				QualityConfig{File: "golden.tsv", Margin: &m})
			if q.Phase != tc.want || !strings.Contains(q.Message, tc.msg) {
				t.Fatalf("quality: %s %q, want %s with %q", q.Phase, q.Message, tc.want, tc.msg)
			}
			if q.Titles != 60 || q.Stable.Rows != 60 {
				t.Fatalf("%d titles scored (stable %d rows), want 60", q.Titles, q.Stable.Rows)
			}
			if tc.want == Failed && !strings.Contains(q.Detail, "java") {
				t.Fatalf("table does not name the tag that regressed:\n%s", q.Detail)
			}
		})
	}
	t.Run("table", func(t *testing.T) {
		cand := taggerApp(t, all, worse)
		q := QualityGate(context.Background(), &HTTPTarget{Label: "green", URL: cand.URL}, &HTTPTarget{Label: "blue", URL: stable.URL}, ds, QualityConfig{File: "x"})
		for _, want := range []string{"metric", "accuracy", "F1 weighted", "F1 micro", "F1 macro", "tags that regressed most", "java", "20", "-1.0000"} {
			if !strings.Contains(q.Detail, want) {
				t.Errorf("table lacks %q:\n%s", want, q.Detail)
			}
		}
	})
	t.Run("limit", func(t *testing.T) {
		q := QualityGate(context.Background(), &HTTPTarget{Label: "g", URL: stable.URL}, &HTTPTarget{Label: "b", URL: stable.URL}, ds, QualityConfig{File: "x", Limit: 7})
		if q.Titles != 7 || q.Candidate.Rows != 7 {
			t.Fatalf("limit 7 scored %d titles", q.Candidate.Rows)
		}
	})
	t.Run("error answers", func(t *testing.T) {
		broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/api/v1/tags" {
				json.NewEncoder(w).Encode(map[string]any{"tags": all})
				return
			}
			http.Error(w, "boom", http.StatusInternalServerError)
		}))
		defer broken.Close()
		q := QualityGate(context.Background(), &HTTPTarget{Label: "green", URL: broken.URL}, &HTTPTarget{Label: "blue", URL: stable.URL}, ds, QualityConfig{File: "x"})
		if q.Phase != Error || !strings.Contains(q.Message, "answered 500") {
			t.Fatalf("quality against errors: %s %q", q.Phase, q.Message)
		}
	})
	t.Run("unlabelled", func(t *testing.T) {
		q := QualityGate(context.Background(), &HTTPTarget{URL: stable.URL}, &HTTPTarget{URL: stable.URL}, &training.Dataset{Path: "u.tsv", Titles: []string{"a"}}, QualityConfig{File: "u.tsv"})
		if q.Phase != Error || !strings.Contains(q.Message, "no labelled titles") {
			t.Fatalf("%s %q", q.Phase, q.Message)
		}
	})
}

package app

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/remla/tagger/model"
)

// titleBodies are bodies the fast reader must take (ok) or hand to
// encoding/json.
var titleBodies = []struct {
	body string
	fast bool
}{
	{`{"title": "How to parse JSON in Python"}`, true},
	{`{"title":"x"}`, true},
	{" \r\n\t{ \"title\" :\t\"Grüße <b>&amp;</b> \u2028\" }\n", true},
	{`{"title": ""}`, true},
	{`{"title": "a \"quoted\" word"}`, false}, // escapes: encoding/json unescapes
	{`{"title": "tab\there"}`, false},
	{`{"Title": "x"}`, false}, // encoding/json matches keys without case
	{`{"title": "x", "title": "y"}`, false},
	{`{"title": "x", "extra": 1}`, false},
	{`{"title": "x"} {}`, false},
	{`{"title": "x"`, false},
	{`{"title": null}`, false},
	{`{"title": 5}`, false},
	{`{"title": "x"}}`, false},
	{"{\"title\": \"raw\x01control\"}", false},
	{`[]`, false},
	{`{}`, false},
}

func TestFastTitleAgreesWithEncodingJSON(t *testing.T) {
	for _, tc := range titleBodies {
		t.Run(tc.body, func(t *testing.T) {
			got, ok := fastTitle([]byte(tc.body))
			if ok != tc.fast {
				t.Fatalf("fastTitle ok = %v, want %v", ok, tc.fast)
			}
			if ok {
				checkFastTitle(t, tc.body, got)
			}
		})
	}
}

// checkFastTitle fails unless encoding/json, as readTitle's slow path
// runs it, accepts body with title want.
func checkFastTitle(t *testing.T, body, want string) {
	t.Helper()
	var req predictRequest
	if e := unmarshalBody([]byte(body), &req); e != nil {
		t.Fatalf("fastTitle took %q, encoding/json refuses it: %s", body, e.Message)
	}
	if req.Title == nil || *req.Title != want {
		t.Fatalf("fastTitle read %q from %q, encoding/json %v", want, body, req.Title)
	}
}

func FuzzFastTitle(f *testing.F) {
	for _, tc := range titleBodies {
		f.Add(tc.body)
	}
	f.Fuzz(func(t *testing.T, body string) {
		if !utf8.ValidString(body) { // readBody refuses it before
			return
		}
		if got, ok := fastTitle([]byte(body)); ok {
			checkFastTitle(t, body, got)
		}
	})
}

var jsonStrings = []string{
	"", "plain", `"quoted" and \back\slash`, "<script>&amp;</script>", "\b\f\n\r\t\x00\x1f\x7f",
	"Grüße, 日本語, 🙂", "line\u2028sep\u2029para", "bad \xff utf-8 \xe2\x82", "c# and c++",
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range jsonStrings {
		checkJSONString(t, s)
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range jsonStrings {
		f.Add(s)
	}
	f.Fuzz(checkJSONString)
}

func checkJSONString(t *testing.T, s string) {
	want, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := appendJSONString(nil, s); string(got) != string(want) {
		t.Errorf("appendJSONString(%q) = %s, encoding/json %s", s, got, want)
	}
}

func TestAppendPredictResponseMatchesEncodingJSON(t *testing.T) {
	scores := []float64{0, 1, 0.5, 0.9999999999, 0.123456789012345, 1e-6, 9.99e-7, 1.5e-9, 1e-300,
		math.SmallestNonzeroFloat64, 1e21, 2.5e22, math.MaxFloat64, -0.25, math.Copysign(0, -1)}
	for _, r := range []predictResponse{
		{PredictionID: "AQxkZXYtbW9kZWw", Title: "How to <parse> JSON & more", ModelVersion: "20261202T1455Z-488fb61", Color: "blue",
			Tags: []model.TagScore{{Tag: "python", Score: 0.93}, {Tag: "json", Score: 0.41}}},
		{Title: "none", Tags: []model.TagScore{}},
		{Title: "nil tags"},
		{Title: "scores", Tags: func() (ts []model.TagScore) {
			for _, s := range scores {
				ts = append(ts, model.TagScore{Tag: "t", Score: s})
			}
			return ts
		}()},
	} {
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := appendPredictResponse(nil, &r)
		if !ok || string(got) != string(want) {
			t.Errorf("appendPredictResponse = %s (ok %v)\nencoding/json        %s", got, ok, want)
		}
	}
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		r := predictResponse{Tags: []model.TagScore{{Tag: "t", Score: bad}}}
		if _, ok := appendPredictResponse(nil, &r); ok {
			t.Errorf("score %v: ok, but encoding/json refuses it", bad)
		}
	}
}

// TestPredictAnswerOnTheWire checks the hand-written answer through the
// server: the headers c.JSON sent, and a body byte for byte what
// encoding/json makes of the same values, for a title that takes the fast
// reader and one that takes encoding/json (an escape).
func TestPredictAnswerOnTheWire(t *testing.T) {
	ts := startServer(t, newFake())
	for _, body := range []string{`{"title": "php sql"}`, `{"title": "php\u0020sql"}`, `{"title": "c# linq <&>"}`} {
		req, err := http.NewRequest(http.MethodPost, ts.URL+"/api/v1/predict", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s %v", body, res.StatusCode, got, err)
		}
		for k, want := range map[string]string{
			"Content-Type":           "application/json; charset=utf-8",
			"Content-Length":         strconv.Itoa(len(got)),
			"X-Content-Type-Options": "nosniff",
			"Referrer-Policy":        "same-origin",
		} {
			if v := res.Header.Values(k); len(v) != 1 || v[0] != want {
				t.Errorf("%s: header %s = %q, want %q", body, k, v, want)
			}
		}
		var r predictResponse
		if err := json.Unmarshal(got, &r); err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(r)
		if string(got) != string(want) {
			t.Errorf("%s: answer %s\nencoding/json %s", body, got, want)
		}
		if r.Title == "php sql" && len(r.Tags) != 2 {
			t.Errorf("%s: tags %v, want php and sql", body, r.Tags)
		}
	}
}

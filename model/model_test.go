package model

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// tinyModel knows three tags over four words: "go" pushes golang, "python" pushes python, "web"
// pushes javascript a little.
func tinyModel(t testing.TB) *Model {
	t.Helper()
	v, err := NewVectorizer(VectorizerConfig{Kind: BagOfWords, MaxN: 1}, []string{"go", "python", "web", "list"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tags := []string{"python", "golang", "javascript"}
	w := []float32{ // feature-major: rows are features, columns tags
		-2, 4, -1, // go
		4, -2, -1, // python
		0, 0, 1.5, // web
		1, 0, 0, // list
	}
	spec := Spec{
		Meta:       Meta{Created: time.Date(2026, 11, 26, 1, 42, 0, 0, time.UTC), Tokenizer: TokenizerReference, CodeVersion: "test"},
		Vectorizer: v, Tags: tags, Weights: w, Bias: []float64{-2, -2, -2}, Rule: FixedRule(3),
	}
	if err := StampVersion(&spec); err != nil {
		t.Fatal(err)
	}
	m, err := New(spec)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestPredict(t *testing.T) {
	m := tinyModel(t)
	tests := []struct {
		title string
		want  []string
	}{
		{"How do I use Go channels?", []string{"golang"}},
		{"Python or Go for the web?", []string{"python", "golang"}}, // both at σ(0)=0.5; ties keep tag order
		{"A Python list", []string{"python"}},
		{"nothing known here", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.title, func(t *testing.T) {
			got := m.Predict(tt.title)
			if got == nil {
				t.Fatal("Predict returned nil, want a non-nil slice")
			}
			var names []string
			for _, s := range got {
				names = append(names, s.Tag)
			}
			if !slices.Equal(names, tt.want) && !(len(names) == 0 && len(tt.want) == 0) {
				t.Fatalf("Predict(%q) = %v, want %v", tt.title, got, tt.want)
			}
		})
	}
	got := m.Predict("A Python list")
	if want := Sigmoid(-2 + 4 + 1); math.Abs(got[0].Score-want) > 1e-12 {
		t.Fatalf("score %v, want σ(3) = %v", got[0].Score, want)
	}
	if !slices.Equal(m.Tags(), []string{"golang", "javascript", "python"}) {
		t.Fatalf("Tags() = %v, want them sorted", m.Tags())
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	m := tinyModel(t)
	path := filepath.Join(t.TempDir(), "m.model")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version() != m.Version() || !strings.HasPrefix(got.Version(), "20261126T0142Z-") {
		t.Fatalf("version %q, want %q", got.Version(), m.Version())
	}
	a, b := m.Spec(), got.Spec()
	if !slices.Equal(a.Weights, b.Weights) || !slices.Equal(a.Bias, b.Bias) || !slices.Equal(a.Tags, b.Tags) ||
		!slices.Equal(a.Vectorizer.Terms(), b.Vectorizer.Terms()) || !a.Meta.Created.Equal(b.Meta.Created) {
		t.Fatal("loaded model differs from the saved one")
	}
	for _, title := range []string{"Python or Go for the web?", "go"} {
		if x, y := m.Predict(title), got.Predict(title); !slices.Equal(x, y) {
			t.Fatalf("%q: saved predicts %v, loaded %v", title, x, y)
		}
	}
	e1, _ := m.Encode()
	e2, _ := got.Encode()
	if !bytes.Equal(e1, e2) {
		t.Fatal("re-encoding the loaded model changes its bytes")
	}
}

func TestLoadRefusesDamagedFiles(t *testing.T) {
	good, err := tinyModel(t).Encode()
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte { b := bytes.Clone(good); b[i] ^= 0x40; return b }
	version := bytes.Clone(good)
	binary.LittleEndian.PutUint32(version[8:], FormatVersion+1)
	tests := []struct {
		name    string
		data    []byte
		want    string
		corrupt bool
	}{
		{"empty", nil, "not a REMLA tagger model", false},
		{"not a model", []byte("PK\x03\x04 a zip file"), "not a REMLA tagger model", false},
		{"truncated header", good[:15], "truncated", true},
		{"truncated body", good[:len(good)/2], "header says", true},
		{"appended", append(bytes.Clone(good), 0), "header says", true},
		{"flipped weight byte", flip(len(good) - 40), "checksum mismatch", true},
		{"flipped checksum byte", flip(len(good) - 1), "checksum mismatch", true},
		{"newer format", version, "format version 4", false},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".model")
			if err := os.WriteFile(path, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			if err == nil {
				t.Fatal("Load accepted a damaged file")
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q should name %s and say %q", err, path, tt.want)
			}
			if errors.Is(err, ErrCorrupt) != tt.corrupt {
				t.Fatalf("errors.Is(err, ErrCorrupt) = %v, want %v", !tt.corrupt, tt.corrupt)
			}
		})
	}
	if _, err := Load(filepath.Join(dir, "missing.model")); err == nil || !strings.Contains(err.Error(), "make train") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestNewRefusesInconsistentSpec(t *testing.T) {
	base := tinyModel(t).Spec()
	tests := []struct {
		name string
		edit func(s *Spec)
	}{
		{"weights", func(s *Spec) { s.Weights = s.Weights[:5] }},
		{"bias", func(s *Spec) { s.Bias = s.Bias[:1] }},
		{"thresholds", func(s *Spec) { s.Rule.Thresholds = nil }},
		{"duplicate tag", func(s *Spec) { s.Tags = []string{"a", "a", "b"} }},
		{"tokenizer", func(s *Spec) { s.Meta.Tokenizer = "spacy" }},
		{"NaN weight", func(s *Spec) { s.Weights = slices.Clone(s.Weights); s.Weights[0] = float32(math.NaN()) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base
			tt.edit(&s)
			if _, err := New(s); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// TestPredictConcurrently predicts from many goroutines at once and expects every answer to be
// the sequential one (run with -race to check the scratch pooling).
func TestPredictConcurrently(t *testing.T) {
	m := tinyModel(t)
	titles := []string{"Python or Go for the web?", "A Python list", "go go go", "", "nothing known"}
	want := make([][]TagScore, len(titles))
	for i, s := range titles {
		want[i] = m.Predict(s)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 500; k++ {
				i := (g + k) % len(titles)
				if got := m.Predict(titles[i]); !slices.Equal(got, want[i]) {
					errs <- fmt.Sprintf("%q: %v, want %v", titles[i], got, want[i])
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestInt8RoundTrip(t *testing.T) {
	s := tinyModel(t).Spec()
	s.Int8, s.Weights = QuantizeInt8(s.Weights, len(s.Tags)), nil
	m, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	// Every tiny-model weight is a multiple of its row's max/127 only approximately; the
	// predictions must stay those of the float32 model.
	f := tinyModel(t)
	for _, title := range []string{"How do I use Go channels?", "A Python list", "web"} {
		a, b := f.Predict(title), m.Predict(title)
		if len(a) != len(b) {
			t.Fatalf("%q: float32 %v, int8 %v", title, a, b)
		}
		for i := range a {
			if a[i].Tag != b[i].Tag || math.Abs(a[i].Score-b[i].Score) > 0.01 {
				t.Fatalf("%q: float32 %v, int8 %v", title, a, b)
			}
		}
	}
	path := filepath.Join(t.TempDir(), "q.model")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Spec().Int8.Q, s.Int8.Q) || !slices.Equal(got.Spec().Int8.Scale, s.Int8.Scale) || got.Spec().Weights != nil {
		t.Fatal("int8 weights changed through Save/Load")
	}
	s.Int8 = &Int8Weights{Q: s.Int8.Q[:3], Scale: s.Int8.Scale}
	if _, err := New(s); err == nil {
		t.Fatal("accepted int8 weights of the wrong size")
	}
}

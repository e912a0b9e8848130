package model_test

import (
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/remla/tagger/model"
	"github.com/remla/tagger/training"
)

// The notebook's text_prepare, with its regular expressions, as the reference that the hand-written
// scanner in Tokens must match on every input.
var (
	replaceBySpace = regexp.MustCompile(`[/(){}\[\]\|@,;]`)
	badSymbols     = regexp.MustCompile(`[^0-9a-z #+_]`)
)

// regexpTokens is text_prepare: lower(), REPLACE_BY_SPACE_RE → ' ', BAD_SYMBOLS_RE → ”, split, drop
// stopwords. Go's strings.ToLower and Python's str.lower() differ only on letters that lowercase
// outside ASCII, which the deletion removes either way (U+212A and U+0130 give k and i in both).
func regexpTokens(text string) []string {
	text = badSymbols.ReplaceAllString(replaceBySpace.ReplaceAllString(strings.ToLower(text), " "), "")
	var out []string
	for _, w := range strings.Fields(text) {
		if !model.IsStopword(w) {
			out = append(out, w)
		}
	}
	return out
}

// refVector is the feature vector of tokens computed the plain way, with a map from term to
// feature and string keys: the features in the order Transform looks them up (words and bigrams,
// then each word's character n-grams by start and length), repeats merged in first-appearance
// order (sorted when sorted is set), then tf-idf and the per-block norm, sums in that order.
func refVector(cfg model.VectorizerConfig, index map[string]int32, idf []float64, charStart int32, tokens []string, sorted bool) model.Sparse {
	var seen []int32
	look := func(term string) {
		if j, ok := index[term]; ok {
			seen = append(seen, j)
		}
	}
	for i, w := range tokens {
		look(w)
		if cfg.MaxN >= 2 && i+1 < len(tokens) {
			look(w + " " + tokens[i+1])
		}
	}
	if cfg.CharMax > 0 {
		for _, w := range tokens {
			padded := " " + w + " "
			for i := 0; i+cfg.CharMin <= len(padded); i++ {
				for n := cfg.CharMin; n <= cfg.CharMax && i+n <= len(padded); n++ {
					look(model.CharPrefix + padded[i:i+n])
				}
			}
		}
	}
	count := map[int32]float64{}
	var x model.Sparse
	for _, j := range seen {
		if count[j] == 0 {
			x.Idx = append(x.Idx, j)
		}
		count[j]++
	}
	if sorted {
		slices.Sort(x.Idx)
	}
	for _, j := range x.Idx {
		tf := count[j]
		if cfg.Kind == model.TFIDF {
			if cfg.Sublinear && tf > 1 {
				tf = 1 + math.Log(tf)
			}
			tf *= idf[j]
		}
		x.Val = append(x.Val, tf)
	}
	if cfg.Normalize {
		var ss [2]float64 // word block, character block
		block := func(j int32) int {
			if j >= charStart {
				return 1
			}
			return 0
		}
		for k, j := range x.Idx {
			ss[block(j)] += x.Val[k] * x.Val[k]
		}
		for k, j := range x.Idx {
			if s := ss[block(j)]; s > 0 {
				x.Val[k] *= 1 / math.Sqrt(s)
			}
		}
	}
	return x
}

// sameBits reports whether a and b hold the same features with bit-identical values.
func sameBits(a, b model.Sparse) bool {
	if !slices.Equal(a.Idx, b.Idx) || len(a.Val) != len(b.Val) {
		return false
	}
	for k := range a.Val {
		if math.Float64bits(a.Val[k]) != math.Float64bits(b.Val[k]) {
			return false
		}
	}
	return true
}

func allTitles(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "data", "*.tsv.gz"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no data/*.tsv.gz (%v)", err)
	}
	var titles []string
	for _, p := range paths {
		d, err := training.LoadDataset(p)
		if err != nil {
			t.Fatal(err)
		}
		titles = append(titles, d.Titles...)
	}
	return titles
}

// TestFastPathsMatchReference checks, on every title of data/*.tsv.gz, that Tokens gives what the
// regular expressions give, and that Transform and TransformUnsorted give refVector's features
// bit for bit: on a vectorizer fitted here with the default model's features (word 1-2-grams and
// character 2-4-grams, tf-idf), and on the test model's when REMLA_TEST_MODEL is set, whose
// Logits are also checked against bias + Σ value × scale × weight summed feature by feature.
func TestFastPathsMatchReference(t *testing.T) {
	titles := allTitles(t)
	tokens := make([][]string, len(titles))
	for i, title := range titles {
		tokens[i] = model.Tokens(nil, title)
		if want := regexpTokens(title); !slices.Equal(tokens[i], want) && len(tokens[i])+len(want) > 0 {
			t.Fatalf("Tokens(%q) = %q, regular expressions give %q", title, tokens[i], want)
		}
	}
	cfg := model.VectorizerConfig{Kind: model.TFIDF, MaxN: 2, Sublinear: true, Normalize: true, CharMin: 2, CharMax: 4}
	fitted, err := training.FitVectorizer(training.FeatureConfig{VectorizerConfig: cfg, MinDF: 1, MaxDF: 1}, tokens)
	if err != nil {
		t.Fatal(err)
	}
	vecs := []struct {
		name string
		v    *model.Vectorizer
		m    *model.Model
	}{{"fitted", fitted, nil}}
	if m := testModel(t); m != nil {
		vecs = append(vecs, struct {
			name string
			v    *model.Vectorizer
			m    *model.Model
		}{"test model", m.Spec().Vectorizer, m})
	}
	for _, tt := range vecs {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.v
			index := map[string]int32{}
			charStart := int32(v.Len())
			for i, term := range v.Terms() {
				index[term] = int32(i)
				if strings.HasPrefix(term, model.CharPrefix) {
					charStart = min(charStart, int32(i))
				}
			}
			var x model.Sparse
			var key []byte
			var dd model.Dedup
			var z []float64
			for i, toks := range tokens {
				want := refVector(v.VectorizerConfig, index, v.IDF(), charStart, toks, true)
				key = v.Transform(&x, toks, key)
				if !sameBits(x, want) {
					t.Fatalf("%q: Transform = %v, reference %v", titles[i], x, want)
				}
				want = refVector(v.VectorizerConfig, index, v.IDF(), charStart, toks, false)
				key = v.TransformUnsorted(&x, toks, key, &dd)
				if !sameBits(x, want) {
					t.Fatalf("%q: TransformUnsorted = %v, reference %v", titles[i], x, want)
				}
				if tt.m == nil {
					continue
				}
				z = tt.m.Logits(z, titles[i])
				if wz := refLogits(tt.m.Spec(), want); !slices.Equal(z, wz) {
					t.Fatalf("%q: Logits = %v, reference %v", titles[i], z, wz)
				}
			}
		})
	}
}

// refLogits is bias + x·W the plain way, one feature and one tag at a time.
func refLogits(s model.Spec, x model.Sparse) []float64 {
	nt := len(s.Tags)
	z := slices.Clone(s.Bias)
	for k, j := range x.Idx {
		v := x.Val[k]
		if s.Int8 != nil {
			v *= float64(s.Int8.Scale[j])
		}
		for t := range z {
			if s.Int8 != nil {
				z[t] += v * float64(s.Int8.Q[int(j)*nt+t])
			} else {
				z[t] += v * float64(s.Weights[int(j)*nt+t])
			}
		}
	}
	return z
}

// FuzzTokens checks Tokens against the regular expressions on any input, valid UTF-8 or not.
func FuzzTokens(f *testing.F) {
	for _, s := range []string{"SQL Server - any equivalent of Excel's CHOOSE function?", "C# /(){}[]|@,; separated",
		"ÄÖÜ node.js ＡＢＣ", "KELVIN \u212aelvin", "\u0130stanbul", "tab\tand\nnewline", "\xff\xfe a\xc3", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, want := model.Tokens(nil, s), regexpTokens(s)
		if !slices.Equal(got, want) && len(got)+len(want) > 0 {
			t.Fatalf("Tokens(%q) = %q, regular expressions give %q", s, got, want)
		}
	})
}

// testModel is the model at testModelPath; nil when there is none.
func testModel(t *testing.T) *model.Model {
	t.Helper()
	m, err := model.Load(testModelPath())
	if err != nil {
		t.Logf("no model (%v): checking the fitted vectorizer only; run `make train` or set REMLA_TEST_MODEL", err)
		return nil
	}
	return m
}

package model

import (
	"math"
	"slices"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

func TestBagOfWordsCounts(t *testing.T) {
	v, err := NewVectorizer(VectorizerConfig{Kind: BagOfWords, MaxN: 1}, []string{"hi", "you", "me", "are"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var x Sparse
	// The notebook's example: "hi how are you" over ['hi', 'you', 'me', 'are'] → [1, 1, 0, 1].
	v.Transform(&x, []string{"hi", "how", "are", "you", "hi"}, nil)
	if want := []int32{0, 1, 3}; !slices.Equal(x.Idx, want) {
		t.Fatalf("indices %v, want %v", x.Idx, want)
	}
	if want := []float64{2, 1, 1}; !slices.Equal(x.Val, want) {
		t.Fatalf("values %v, want %v", x.Val, want)
	}
	v.Transform(&x, nil, nil)
	if len(x.Idx) != 0 || len(x.Val) != 0 {
		t.Fatalf("empty title gave %v", x)
	}
}

func TestTFIDFTransform(t *testing.T) {
	terms := []string{"a", "a b", "b", "c"}
	idf := []float64{1, 2, 1.5, 3}
	tests := []struct {
		name    string
		cfg     VectorizerConfig
		tokens  []string
		wantIdx []int32
		wantVal []float64
	}{
		{
			name: "counts × idf, L2-normalised", cfg: VectorizerConfig{Kind: TFIDF, MaxN: 2, Normalize: true},
			tokens:  []string{"a", "b", "a", "x"}, // a:2 "a b":1 b:1; "b a", "a x", x unknown
			wantIdx: []int32{0, 1, 2},
			wantVal: func() []float64 {
				raw := []float64{2 * 1, 1 * 2, 1 * 1.5}
				n := math.Sqrt(4 + 4 + 2.25)
				return []float64{raw[0] / n, raw[1] / n, raw[2] / n}
			}(),
		},
		{
			name: "sublinear tf, no norm", cfg: VectorizerConfig{Kind: TFIDF, MaxN: 2, Sublinear: true},
			tokens: []string{"a", "a", "c"}, wantIdx: []int32{0, 3}, wantVal: []float64{(1 + math.Log(2)) * 1, 3},
		},
		{
			name: "unigrams only", cfg: VectorizerConfig{Kind: TFIDF, MaxN: 1},
			tokens: []string{"a", "b"}, wantIdx: []int32{0, 2}, wantVal: []float64{1, 1.5},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := NewVectorizer(tt.cfg, terms, idf)
			if err != nil {
				t.Fatal(err)
			}
			var x Sparse
			v.Transform(&x, tt.tokens, nil)
			if !slices.Equal(x.Idx, tt.wantIdx) {
				t.Fatalf("indices %v, want %v", x.Idx, tt.wantIdx)
			}
			for k := range x.Val {
				if !near(x.Val[k], tt.wantVal[k]) {
					t.Fatalf("values %v, want %v", x.Val, tt.wantVal)
				}
			}
		})
	}
}

func TestCharGramsNormalisedPerBlock(t *testing.T) {
	// Word "ab" padded is " ab ": 2-grams " a", "ab", "b ".
	terms := []string{"ab", CharPrefix + " a", CharPrefix + "ab", CharPrefix + "zz"}
	v, err := NewVectorizer(VectorizerConfig{Kind: TFIDF, MaxN: 1, Normalize: true, CharMin: 2, CharMax: 2}, terms, []float64{1, 1, 2, 1})
	if err != nil {
		t.Fatal(err)
	}
	var x Sparse
	v.Transform(&x, []string{"ab"}, nil)
	if want := []int32{0, 1, 2}; !slices.Equal(x.Idx, want) {
		t.Fatalf("indices %v, want %v", x.Idx, want)
	}
	want := []float64{1, 1 / math.Sqrt(5), 2 / math.Sqrt(5)}
	for k := range want {
		if !near(x.Val[k], want[k]) {
			t.Fatalf("values %v, want %v (each block of unit norm)", x.Val, want)
		}
	}
	var keys []string
	CharGrams("ab", 2, 2, nil, func(k []byte) { keys = append(keys, string(k)) })
	if want := []string{"~ a", "~ab", "~b "}; !slices.Equal(keys, want) {
		t.Fatalf("CharGrams = %q, want %q", keys, want)
	}
}

func TestNewVectorizerRefusesBadInput(t *testing.T) {
	tests := []struct {
		name  string
		cfg   VectorizerConfig
		terms []string
		idf   []float64
	}{
		{"unknown kind", VectorizerConfig{Kind: "lda", MaxN: 1}, []string{"a"}, nil},
		{"trigrams", VectorizerConfig{Kind: BagOfWords, MaxN: 3}, []string{"a"}, nil},
		{"idf length", VectorizerConfig{Kind: TFIDF, MaxN: 1}, []string{"a", "b"}, []float64{1}},
		{"duplicate term", VectorizerConfig{Kind: BagOfWords, MaxN: 1}, []string{"a", "a"}, nil},
		{"char term without char config", VectorizerConfig{Kind: TFIDF, MaxN: 1}, []string{"~ab"}, []float64{1}},
		{"duplicate char term", VectorizerConfig{Kind: TFIDF, MaxN: 1, CharMin: 2, CharMax: 3}, []string{"a", "~ab", "~ab"}, []float64{1, 1, 1}},
		{"word after char terms", VectorizerConfig{Kind: TFIDF, MaxN: 1, CharMin: 2, CharMax: 3}, []string{"~ab", "a"}, []float64{1, 1}},
		{"char term too long", VectorizerConfig{Kind: TFIDF, MaxN: 1, CharMin: 2, CharMax: 3}, []string{"~abcd"}, []float64{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewVectorizer(tt.cfg, tt.terms, tt.idf); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestTransformUnsortedMatchesTransform(t *testing.T) {
	terms := []string{"c#", "c# list", "list", "sort", "sort list", CharPrefix + " c", CharPrefix + "c#", CharPrefix + "is", CharPrefix + "st", CharPrefix + "st "}
	idf := []float64{1.5, 3, 1.2, 2, 4, 1.1, 1.3, 1.7, 1.9, 2.1}
	v, err := NewVectorizer(VectorizerConfig{Kind: TFIDF, MaxN: 2, Sublinear: true, Normalize: true, CharMin: 2, CharMax: 3}, terms, idf)
	if err != nil {
		t.Fatal(err)
	}
	var dd Dedup
	for _, toks := range [][]string{{"sort", "list", "c#", "list"}, {"list", "list", "list"}, {"x"}, nil, {"c#", "c#", "sort", "list"}} {
		var a, b Sparse
		v.Transform(&a, toks, nil)
		v.TransformUnsorted(&b, toks, nil, &dd)
		got := map[int32]float64{}
		for k, j := range b.Idx {
			if _, dup := got[j]; dup {
				t.Fatalf("%v: feature %d twice", toks, j)
			}
			got[j] = b.Val[k]
		}
		if len(got) != len(a.Idx) {
			t.Fatalf("%v: %d features unsorted, %d sorted", toks, len(got), len(a.Idx))
		}
		for k, j := range a.Idx {
			if math.Abs(got[j]-a.Val[k]) > 1e-12 {
				t.Fatalf("%v: feature %d is %v unsorted, %v sorted", toks, j, got[j], a.Val[k])
			}
		}
	}
}

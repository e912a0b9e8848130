package model

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestVocabMatchesMaps checks the vocabulary tables against the Go maps they replaced, term by
// term and on lookups that miss: Transform only differs from before through these lookups, so
// equal lookups mean bit-identical features and predictions.
func TestVocabMatchesMaps(t *testing.T) {
	tests := []struct {
		name string
		vec  func(t *testing.T) *Vectorizer
	}{
		{"generated vocabulary", generatedVectorizer},
		{"latest model", func(t *testing.T) *Vectorizer {
			path := os.Getenv("REMLA_TEST_MODEL")
			if path == "" {
				path = filepath.Join("..", "models", "latest.model")
			}
			m, err := Load(path)
			if err != nil {
				t.Skipf("no model (%v); run `make train` or set REMLA_TEST_MODEL", err)
			}
			return m.spec.Vectorizer
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.vec(t)
			terms := v.Terms()
			words, chars := map[string]int32{}, map[uint64]int32{}
			var wordTerms []string
			for i, term := range terms {
				if g, ok := strings.CutPrefix(term, CharPrefix); ok {
					chars[packGram(g)] = int32(i)
				} else {
					words[term] = int32(i)
					wordTerms = append(wordTerms, term)
				}
			}
			if len(words)+len(chars) != v.Len() {
				t.Fatalf("%d distinct terms, vectorizer has %d", len(words)+len(chars), v.Len())
			}
			checkWord := func(s string) {
				j, ok := word(&v.vocab, s)
				jb, okb := word(&v.vocab, []byte(s))
				want, wantOK := words[s]
				if ok != wantOK || ok && j != want || jb != j || okb != ok {
					t.Fatalf("word %q: got %d %v ([]byte: %d %v), map has %d %v", s, j, ok, jb, okb, want, wantOK)
				}
			}
			checkChar := func(g string) {
				j, ok := v.char(packGram(g))
				want, wantOK := chars[packGram(g)]
				if ok != wantOK || ok && j != want {
					t.Fatalf("char gram %q: got %d %v, map has %d %v", g, j, ok, want, wantOK)
				}
			}
			for i, term := range terms {
				if v.Term(i) != term {
					t.Fatalf("Term(%d) = %q, Terms()[%d] = %q", i, v.Term(i), i, term)
				}
			}
			rng := rand.New(rand.NewPCG(1, 2))
			var scratch []byte
			for _, w := range wordTerms {
				checkWord(w)
				checkWord(w + "x")
				checkWord("x" + w)
				if w != "" {
					checkWord(w[:len(w)-1])
					checkWord(w[1:])
				}
				checkWord(w + " " + wordTerms[rng.IntN(len(wordTerms))])
				if v.CharMax > 0 && !strings.Contains(w, " ") {
					scratch = CharGrams(w, v.CharMin, v.CharMax, scratch, func(key []byte) { checkChar(string(key[len(CharPrefix):])) })
				}
			}
			for _, term := range terms {
				if g, ok := strings.CutPrefix(term, CharPrefix); ok {
					checkChar(g)
					checkChar(g + "x")
				}
			}
		})
	}
}

// generatedVectorizer has words, bigrams and character n-grams over a small alphabet, so that
// many terms share prefixes and hash slots collide.
func generatedVectorizer(t *testing.T) *Vectorizer {
	rng := rand.New(rand.NewPCG(3, 4))
	const alphabet = "abc#+.-"
	seen := map[string]bool{}
	var words, chars []string
	add := func(list *[]string, s string) {
		if !seen[s] {
			seen[s] = true
			*list = append(*list, s)
		}
	}
	for len(words) < 3000 {
		b := make([]byte, rng.IntN(7))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		add(&words, string(b))
	}
	for range 3000 {
		add(&words, words[rng.IntN(len(words))]+" "+words[rng.IntN(len(words))])
	}
	for _, w := range words[:500] {
		if !strings.Contains(w, " ") {
			CharGrams(w, 2, 4, nil, func(key []byte) { add(&chars, string(key)) })
		}
	}
	slices.Sort(chars)
	terms := append(words, chars...)
	idf := make([]float64, len(terms))
	for i := range idf {
		idf[i] = 1
	}
	v, err := NewVectorizer(VectorizerConfig{Kind: TFIDF, MaxN: 2, CharMin: 2, CharMax: 4}, terms, idf)
	if err != nil {
		t.Fatal(fmt.Errorf("generated vocabulary: %w", err))
	}
	return v
}

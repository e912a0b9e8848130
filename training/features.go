package training

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/remla/tagger/model"
)

// FeatureConfig says how to build the vocabulary.
type FeatureConfig struct {
	model.VectorizerConfig
	// MaxFeatures keeps the most frequent terms (bag of words: by occurrences, ties in order of
	// first appearance, as the notebook's sorted(Counter)); 0 keeps all.
	MaxFeatures int `json:"max_features"`
	// MinDF and MaxDF bound a TF-IDF term's document frequency: at least MinDF documents and at
	// most MaxDF × documents (scikit-learn's min_df=int, max_df=float).
	MinDF int     `json:"min_df"`
	MaxDF float64 `json:"max_df"`
	// MinDFWord, when positive, replaces MinDF for single words (not bigrams or character
	// n-grams): a rare word can name a rare technology, a bigram seen once says little.
	MinDFWord int `json:"min_df_word,omitempty"`
}

// FitVectorizer learns the vocabulary (and idf) from the prepared documents.
func FitVectorizer(cfg FeatureConfig, docs [][]string) (*model.Vectorizer, error) {
	switch cfg.Kind {
	case model.BagOfWords:
		return fitBagOfWords(cfg, docs)
	case model.TFIDF:
		return fitTFIDF(cfg, docs)
	}
	return nil, fmt.Errorf("unknown feature kind %q (want bow or tfidf)", cfg.Kind)
}

func fitBagOfWords(cfg FeatureConfig, docs [][]string) (*model.Vectorizer, error) {
	if cfg.MaxN != 1 {
		return nil, fmt.Errorf("bag of words counts single words; set n-grams to 1")
	}
	count := map[string]int{}
	var order []string
	for _, d := range docs {
		for _, w := range d {
			if count[w] == 0 {
				order = append(order, w)
			}
			count[w]++
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return count[order[i]] > count[order[j]] })
	if cfg.MaxFeatures > 0 && len(order) > cfg.MaxFeatures {
		order = order[:cfg.MaxFeatures]
	}
	return model.NewVectorizer(cfg.VectorizerConfig, order, nil)
}

func fitTFIDF(cfg FeatureConfig, docs [][]string) (*model.Vectorizer, error) {
	df := map[string]int{}
	seen := map[string]bool{}
	var key []byte
	for _, d := range docs {
		clear(seen)
		for i, w := range d {
			seen[w] = true
			if cfg.MaxN >= 2 && i+1 < len(d) {
				seen[w+" "+d[i+1]] = true
			}
			if cfg.CharMax > 0 {
				key = model.CharGrams(w, cfg.CharMin, cfg.CharMax, key, func(k []byte) {
					if !seen[string(k)] {
						seen[string(k)] = true
					}
				})
			}
		}
		for t := range seen {
			df[t]++
		}
	}
	n := len(docs)
	var terms []string
	for t, c := range df {
		minDF := cfg.MinDF
		if cfg.MinDFWord > 0 && !strings.Contains(t, " ") && !strings.HasPrefix(t, model.CharPrefix) {
			minDF = cfg.MinDFWord
		}
		if c >= minDF && float64(c) <= maxDocs(cfg.MaxDF, n) {
			terms = append(terms, t)
		}
	}
	slices.Sort(terms) // scikit-learn orders features alphabetically
	if cfg.MaxFeatures > 0 && len(terms) > cfg.MaxFeatures {
		// Keep the most frequent (by document frequency), then restore alphabetical order.
		sort.SliceStable(terms, func(i, j int) bool { return df[terms[i]] > df[terms[j]] })
		terms = terms[:cfg.MaxFeatures]
		slices.Sort(terms)
	}
	idf := make([]float64, len(terms))
	for i, t := range terms {
		idf[i] = math.Log(float64(1+n)/float64(1+df[t])) + 1
	}
	return model.NewVectorizer(cfg.VectorizerConfig, terms, idf)
}

// maxDocs is scikit-learn's max_doc_count: a float max_df in (0,1] is a fraction of the documents.
func maxDocs(maxDF float64, n int) float64 {
	if maxDF <= 0 || maxDF >= 1 {
		return float64(n)
	}
	return maxDF * float64(n)
}

// Matrix is a sparse row-major (CSR) matrix: row i has columns Col[RowPtr[i]:RowPtr[i+1]]
// with values Val[RowPtr[i]:RowPtr[i+1]].
type Matrix struct {
	Rows, Cols int
	RowPtr     []int
	Col        []int32
	Val        []float64
}

// Vectorize turns prepared documents into the CSR matrix of their feature vectors.
func Vectorize(v *model.Vectorizer, docs [][]string) *Matrix {
	m := &Matrix{Rows: len(docs), Cols: v.Len(), RowPtr: make([]int, 1, len(docs)+1)}
	var x model.Sparse
	var key []byte
	for _, d := range docs {
		key = v.Transform(&x, d, key)
		m.Col = append(m.Col, x.Idx...)
		m.Val = append(m.Val, x.Val...)
		m.RowPtr = append(m.RowPtr, len(m.Col))
	}
	return m
}

// Row returns row i as a sparse vector sharing the matrix's storage.
func (m *Matrix) Row(i int) model.Sparse {
	a, b := m.RowPtr[i], m.RowPtr[i+1]
	return model.Sparse{Idx: m.Col[a:b], Val: m.Val[a:b]}
}

// CSC is the same matrix column-major: column j has rows Row[ColPtr[j]:ColPtr[j+1]].
type CSC struct {
	Rows, Cols int
	ColPtr     []int
	Row        []int32
	Val        []float64
}

// Transpose returns the matrix in column-major form.
func (m *Matrix) Transpose() *CSC {
	c := &CSC{Rows: m.Rows, Cols: m.Cols, ColPtr: make([]int, m.Cols+1), Row: make([]int32, len(m.Col)), Val: make([]float64, len(m.Val))}
	for _, j := range m.Col {
		c.ColPtr[j+1]++
	}
	for j := 0; j < m.Cols; j++ {
		c.ColPtr[j+1] += c.ColPtr[j]
	}
	next := slices.Clone(c.ColPtr[:m.Cols])
	for i := 0; i < m.Rows; i++ {
		for k := m.RowPtr[i]; k < m.RowPtr[i+1]; k++ {
			j := m.Col[k]
			c.Row[next[j]] = int32(i)
			c.Val[next[j]] = m.Val[k]
			next[j]++
		}
	}
	return c
}

package model

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
)

// FeatureKind names how a prepared title becomes a feature vector.
type FeatureKind string

const (
	// BagOfWords counts the title's words that are in the vocabulary (the notebook's my_bag_of_words).
	BagOfWords FeatureKind = "bow"
	// TFIDF weighs the title's n-grams by term frequency × smoothed inverse document frequency,
	// as scikit-learn's TfidfVectorizer.
	TFIDF FeatureKind = "tfidf"
)

// VectorizerConfig is everything about a vectorizer except its fitted vocabulary and idf.
type VectorizerConfig struct {
	Kind      FeatureKind `json:"kind"`
	MaxN      int         `json:"max_n"`     // longest word n-gram (1 or 2)
	Sublinear bool        `json:"sublinear"` // tf replaced by 1+ln(tf)
	Normalize bool        `json:"normalize"` // rows scaled to unit L2 norm
	// CharMin..CharMax, when CharMax > 0, adds the character n-grams of each word padded with a
	// space on both sides (scikit-learn's char_wb analyzer) as a second block of features. Their
	// terms start with CharPrefix. With Normalize, each block is scaled to unit norm on its own.
	CharMin int `json:"char_min,omitempty"`
	CharMax int `json:"char_max,omitempty"`
}

// CharPrefix starts the term of a character n-gram feature. Prepared words never contain it, and
// it sorts after every character they can contain, so character terms come last in sorted order.
const CharPrefix = "~"

// Vectorizer turns prepared tokens into a sparse feature vector. A fitted Vectorizer is
// read-only and safe for concurrent use.
type Vectorizer struct {
	VectorizerConfig
	vocab           // feature index ↔ term; a bigram is "w1 w2"
	idf   []float64 // per feature; nil for BagOfWords
}

// NewVectorizer returns a vectorizer over terms (feature i is terms[i]) with the given idf
// (one per term, or nil for bag-of-words).
func NewVectorizer(cfg VectorizerConfig, terms []string, idf []float64) (*Vectorizer, error) {
	size := 0
	for _, t := range terms {
		size += len(t)
	}
	if size > math.MaxUint32 || len(terms) > math.MaxInt32 {
		return nil, fmt.Errorf("vocabulary of %d terms (%d bytes) is too large", len(terms), size)
	}
	blob := make([]byte, 0, size)
	ends := make([]uint32, len(terms))
	for i, t := range terms {
		blob = append(blob, t...)
		ends[i] = uint32(len(blob))
	}
	return newVectorizer(cfg, string(blob), ends, idf)
}

// newVectorizer is NewVectorizer over the terms concatenated in all, term i ending at ends[i].
func newVectorizer(cfg VectorizerConfig, all string, ends []uint32, idf []float64) (*Vectorizer, error) {
	switch cfg.Kind {
	case BagOfWords, TFIDF:
	default:
		return nil, fmt.Errorf("unknown feature kind %q (want %q or %q)", cfg.Kind, BagOfWords, TFIDF)
	}
	if cfg.MaxN < 1 || cfg.MaxN > 2 {
		return nil, fmt.Errorf("n-gram length %d is not supported (want 1 or 2)", cfg.MaxN)
	}
	if cfg.Kind == TFIDF && len(idf) != len(ends) {
		return nil, fmt.Errorf("tf-idf vectorizer has %d terms but %d idf values", len(ends), len(idf))
	}
	if cfg.Kind == BagOfWords && idf != nil {
		return nil, fmt.Errorf("bag-of-words vectorizer must not have idf values")
	}
	if len(ends) > math.MaxInt32 {
		return nil, fmt.Errorf("vocabulary of %d terms is too large", len(ends))
	}
	if cfg.CharMax > 0 && (cfg.CharMin < 1 || cfg.CharMin > cfg.CharMax || cfg.CharMax > maxCharGram || cfg.Kind != TFIDF) {
		return nil, fmt.Errorf("character n-grams %d-%d: want 1 ≤ min ≤ max ≤ %d, with tf-idf features", cfg.CharMin, cfg.CharMax, maxCharGram)
	}
	v := &Vectorizer{VectorizerConfig: cfg, vocab: vocab{all: all, ends: ends, charStart: int32(len(ends))}, idf: idf}
	nChars := 0
	for i := int32(0); i < int32(len(ends)); i++ {
		if t := v.term(i); len(t) > 0 && t[:1] == CharPrefix {
			v.charStart = min(v.charStart, i)
			nChars++
		}
	}
	v.setIdxBits(len(ends))
	v.words = tableFor[uint32](len(ends) - nChars)
	if nChars > 0 {
		v.chars = tableFor[charSlot](nChars)
	}
	for i := int32(0); i < int32(len(ends)); i++ {
		t := v.term(i)
		if i >= v.charStart {
			if len(t) == 0 || t[:1] != CharPrefix {
				return nil, fmt.Errorf("word term %q comes after the character n-grams", t)
			}
			if cfg.CharMax == 0 {
				return nil, fmt.Errorf("term %q is a character n-gram but the vectorizer has none configured", t)
			}
			g := t[len(CharPrefix):]
			if len(g) < cfg.CharMin || len(g) > cfg.CharMax {
				return nil, fmt.Errorf("character term %q is not %d-%d characters long", t, cfg.CharMin, cfg.CharMax)
			}
			if !v.addChar(i, packGram(g)) {
				return nil, fmt.Errorf("term %q appears twice in the vocabulary", t)
			}
		} else if !v.addWord(i) {
			return nil, fmt.Errorf("term %q appears twice in the vocabulary", t)
		}
	}
	return v, nil
}

// Len is the number of features.
func (v *Vectorizer) Len() int { return len(v.ends) }

// Term returns the term of feature i.
func (v *Vectorizer) Term(i int) string { return v.term(int32(i)) }

// Terms returns the vocabulary, feature index → term, in a new slice (the terms share one string).
func (v *Vectorizer) Terms() []string {
	out := make([]string, len(v.ends))
	for i := range out {
		out[i] = v.term(int32(i))
	}
	return out
}

// IDF returns the idf of each feature (nil for bag-of-words). The caller must not modify it.
func (v *Vectorizer) IDF() []float64 { return v.idf }

// Sparse is a sparse vector: Val[k] is the value at index Idx[k]; Idx is strictly increasing.
type Sparse struct {
	Idx []int32
	Val []float64
}

// Transform writes the feature vector of the prepared tokens into dst, reusing its storage.
// scratch is a reusable byte buffer for bigram keys (may be nil); the grown buffer is returned.
func (v *Vectorizer) Transform(dst *Sparse, tokens []string, scratch []byte) []byte {
	return v.transform(dst, tokens, scratch, nil)
}

// TransformUnsorted is Transform without the sorted-index guarantee: the same features and
// values, in an order of its choosing, a little faster (no sort). dd is reusable scratch.
func (v *Vectorizer) TransformUnsorted(dst *Sparse, tokens []string, scratch []byte, dd *Dedup) []byte {
	return v.transform(dst, tokens, scratch, dd)
}

func (v *Vectorizer) transform(dst *Sparse, tokens []string, scratch []byte, dd *Dedup) []byte {
	dst.Idx, dst.Val = dst.Idx[:0], dst.Val[:0]
	for i, w := range tokens {
		if j, ok := word(&v.vocab, w); ok {
			dst.Idx = append(dst.Idx, j)
		}
		if v.MaxN >= 2 && i+1 < len(tokens) {
			scratch = append(append(append(scratch[:0], w...), ' '), tokens[i+1]...)
			if j, ok := word(&v.vocab, scratch); ok {
				dst.Idx = append(dst.Idx, j)
			}
		}
	}
	if v.CharMax > 0 {
		for _, w := range tokens {
			pad := len(w) + 2
			at := func(k int) byte {
				if k == 0 || k == pad-1 {
					return ' '
				}
				return w[k-1]
			}
			// Each start position extends its key one byte at a time through CharMin..CharMax.
			for i := 0; i+v.CharMin <= pad; i++ {
				var key uint64
				for n := 1; n <= v.CharMax && i+n <= pad; n++ {
					key = key<<8 | uint64(at(i+n-1))
					if n < v.CharMin {
						continue
					}
					if j, ok := v.char(key | uint64(n)<<56); ok {
						dst.Idx = append(dst.Idx, j)
					}
				}
			}
		}
	}
	if len(dst.Idx) == 0 {
		return scratch
	}
	if dd == nil {
		slices.Sort(dst.Idx)
		// Collapse repeats into counts.
		n := 0
		for k := 0; k < len(dst.Idx); {
			j, c := dst.Idx[k], 1
			for k++; k < len(dst.Idx) && dst.Idx[k] == j; k++ {
				c++
			}
			dst.Idx[n] = j
			dst.Val = append(dst.Val, float64(c))
			n++
		}
		dst.Idx = dst.Idx[:n]
	} else {
		dd.collapse(dst)
	}
	if v.Kind == TFIDF {
		for k, j := range dst.Idx {
			tf := dst.Val[k]
			if v.Sublinear && tf > 1 {
				tf = 1 + math.Log(tf)
			}
			dst.Val[k] = tf * v.idf[j]
		}
	}
	if v.Normalize {
		// The word block and the character block are each scaled to unit norm.
		var ssW, ssC float64
		for k, j := range dst.Idx {
			if j >= v.charStart {
				ssC += dst.Val[k] * dst.Val[k]
			} else {
				ssW += dst.Val[k] * dst.Val[k]
			}
		}
		invW, invC := invSqrt(ssW), invSqrt(ssC)
		for k, j := range dst.Idx {
			if j >= v.charStart {
				dst.Val[k] *= invC
			} else {
				dst.Val[k] *= invW
			}
		}
	}
	return scratch
}

func invSqrt(ss float64) float64 {
	if ss > 0 {
		return 1 / math.Sqrt(ss)
	}
	return 0
}

// Dedup is reusable scratch that lets TransformUnsorted merge repeated features without sorting.
type Dedup struct {
	// slots is an open-addressing table sized to the title, not to the vocabulary, so it stays
	// in the L1 cache: slot holds 1 + the position in dst.Idx of the feature hashed there, 0 when
	// empty.
	slots []int32
}

// collapse merges repeats in dst.Idx into counts in dst.Val, keeping first-appearance order.
func (d *Dedup) collapse(dst *Sparse) {
	size := 16
	for size < 2*len(dst.Idx) {
		size *= 2
	}
	if cap(d.slots) < size {
		d.slots = make([]int32, size)
	}
	slots := d.slots[:size]
	clear(slots)
	shift := 64 - bits.TrailingZeros(uint(size))
	mask := uint32(size - 1)
	n := 0
	for _, j := range dst.Idx {
		for i := uint32(uint64(uint32(j)) * 0x9e3779b97f4a7c15 >> shift); ; i = (i + 1) & mask {
			e := slots[i]
			if e == 0 {
				slots[i] = int32(n + 1)
				dst.Idx[n] = j
				dst.Val = append(dst.Val, 1)
				n++
				break
			}
			if dst.Idx[e-1] == j {
				dst.Val[e-1]++
				break
			}
		}
	}
	dst.Idx = dst.Idx[:n]
}

// maxCharGram is the longest character n-gram: a gram and its length pack into one uint64.
const maxCharGram = 7

// packGram packs a gram of at most maxCharGram bytes with its length into a lookup key.
func packGram(g string) uint64 {
	var key uint64
	for i := 0; i < len(g); i++ {
		key = key<<8 | uint64(g[i])
	}
	return key | uint64(len(g))<<56
}

// CharGrams calls fn with the key (CharPrefix + n-gram) of each character n-gram of the word,
// in the order Transform looks them up. The key is only valid during the call.
func CharGrams(w string, nmin, nmax int, scratch []byte, fn func(key []byte)) []byte {
	pad := len(w) + 2
	for n := nmin; n <= nmax; n++ {
		for i := 0; i+n <= pad; i++ {
			scratch = append(scratch[:0], CharPrefix...)
			for k := i; k < i+n; k++ {
				if k == 0 || k == pad-1 {
					scratch = append(scratch, ' ')
				} else {
					scratch = append(scratch, w[k-1])
				}
			}
			fn(scratch)
		}
	}
	return scratch
}

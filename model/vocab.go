package model

import "math/bits"

// vocab maps terms to feature indexes. It replaces a []string of terms with a map[string]int32 (and
// a map[uint64]int32 for the character n-grams), which cost about 85 bytes per term beyond the
// terms' own bytes: 10 MB of a 116k-term model, held by every server. Here every term lives in
// one string, and two open-addressing tables hold feature indexes: about 20 bytes per word term
// and 60 per character n-gram (16-byte slots, at least twice as many as grams).
//
// A word slot's low bits hold the feature+1 (idxMask), its high bits the same bits of the key's
// hash (a fingerprint): a probe whose fingerprint differs is skipped without reading the term, so
// most lookups that miss (most of a title's bigrams) and most collisions cost one read of the
// table instead of one more of the scattered terms. A character slot holds the gram's packed key
// itself (at most 7 bytes), so every probe is one read.
//
// The hashes have no seed, so lookups are deterministic; the vocabulary is fixed at training
// time, so there is no adversary to seed against.
type vocab struct {
	all  string   // every term, concatenated in feature order
	ends []uint32 // term i is all[ends[i-1]:ends[i]] (start 0 for i = 0)
	// words is the table of the word terms: slot holds feature+1 and a fingerprint, 0 when
	// empty; linear probing.
	words []uint32
	// chars is the table of the character n-grams, keyed by packGram of the gram (the term
	// without CharPrefix). A slot holds the key beside its feature, so a probe reads one
	// place: a title looks up about a hundred grams, most of them known, and a key kept
	// apart would be a second, dependent miss for each.
	chars     []charSlot
	charStart int32
	idxMask   uint32 // the bits of a slot that hold feature+1
}

// charSlot is a slot of the character table: key 0 (no packed gram is 0) is empty.
type charSlot struct {
	key  uint64
	feat int32
}

// setIdxBits makes room in a slot for feature+1 of n features; the rest is fingerprint.
func (v *vocab) setIdxBits(n int) { v.idxMask = 1<<bits.Len32(uint32(n)) - 1 }

// fingerprint is the bits of h a slot keeps beside the feature (not the bits slot uses, for
// tables of up to 2^24 slots).
func (v *vocab) fingerprint(h uint64) uint32 { return uint32(h>>8) &^ v.idxMask }

// term returns the term of feature i.
func (v *vocab) term(i int32) string {
	start := uint32(0)
	if i > 0 {
		start = v.ends[i-1]
	}
	return v.all[start:v.ends[i]]
}

// tableFor returns an empty table with at least twice as many slots as n keys (a power of two),
// so linear probing stays short.
func tableFor[S uint32 | charSlot](n int) []S {
	size := 8
	for size < 2*n {
		size *= 2
	}
	return make([]S, size)
}

// wordHash is 64-bit FNV-1a of the term spread over the high bits (Fibonacci hashing); the
// table index is its top bits.
func wordHash[T string | []byte](s T) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h * 0x9e3779b97f4a7c15
}

func charHash(key uint64) uint64 { return (key ^ key>>29) * 0x9e3779b97f4a7c15 }

// slot returns the start slot of hash h in a table of len(t) (a power of two) slots.
func slot[S uint32 | charSlot](t []S, h uint64) uint32 {
	return uint32(h >> (64 - bits.TrailingZeros(uint(len(t)))))
}

// word returns the feature of the word term (a word or "w1 w2" bigram).
func word[T string | []byte](v *vocab, s T) (int32, bool) {
	if len(v.words) == 0 {
		return 0, false
	}
	mask := uint32(len(v.words) - 1)
	h := wordHash(s)
	fp := v.fingerprint(h)
	for i := slot(v.words, h); ; i = (i + 1) & mask {
		e := v.words[i]
		if e == 0 {
			return 0, false
		}
		if e&^v.idxMask != fp {
			continue
		}
		j := int32(e&v.idxMask) - 1
		if t := v.term(j); len(t) == len(s) && equal(t, s) {
			return j, true
		}
	}
}

func equal[T string | []byte](t string, s T) bool {
	for k := 0; k < len(t); k++ {
		if t[k] != s[k] {
			return false
		}
	}
	return true
}

// addWord inserts feature i, whose term is a word term; false if the term is already there.
func (v *vocab) addWord(i int32) bool {
	t := v.term(i)
	if _, dup := word(v, t); dup {
		return false
	}
	mask := uint32(len(v.words) - 1)
	h := wordHash(t)
	k := slot(v.words, h)
	for v.words[k] != 0 {
		k = (k + 1) & mask
	}
	v.words[k] = uint32(i) + 1 | v.fingerprint(h)
	return true
}

// char returns the feature of the character n-gram packed in key (see packGram).
func (v *vocab) char(key uint64) (int32, bool) {
	if len(v.chars) == 0 {
		return 0, false
	}
	mask := uint32(len(v.chars) - 1)
	for i := slot(v.chars, charHash(key)); ; i = (i + 1) & mask {
		switch e := &v.chars[i]; e.key {
		case key:
			return e.feat, true
		case 0:
			return 0, false
		}
	}
}

// addChar inserts feature i, a character n-gram with the given packed key; false if it is
// already there.
func (v *vocab) addChar(i int32, key uint64) bool {
	if _, dup := v.char(key); dup {
		return false
	}
	mask := uint32(len(v.chars) - 1)
	k := slot(v.chars, charHash(key))
	for v.chars[k].key != 0 {
		k = (k + 1) & mask
	}
	v.chars[k] = charSlot{key: key, feat: i}
	return true
}

package model

import (
	"strings"
	"unicode/utf8"
)

// Tokenizer names the text preparation a model uses. It is stored in the model file so that
// prediction prepares a title exactly as training did.
type Tokenizer string

const (
	// TokenizerReference is the notebook's text_prepare: lowercase, /(){}[]|@,; to spaces,
	// everything outside [0-9a-z #+_] deleted, NLTK's English stopwords removed.
	TokenizerReference Tokenizer = "reference"
)

// stopwords is NLTK's English stopword list (nltk.corpus.stopwords.words('english'), 179 words).
// The words with an apostrophe can never match a prepared token (the apostrophe is deleted first);
// they are kept so the list is recognisably NLTK's.
var stopwords = func() map[string]struct{} {
	words := strings.Fields(`i me my myself we our ours ourselves you you're you've you'll you'd your yours
yourself yourselves he him his himself she she's her hers herself it it's its itself they them their theirs
themselves what which who whom this that that'll these those am is are was were be been being have has had
having do does did doing a an the and but if or because as until while of at by for with about against
between into through during before after above below to from up down in out on off over under again further
then once here there when where why how all any both each few more most other some such no nor not only own
same so than too very s t can will just don don't should should've now d ll m o re ve y ain aren aren't
couldn couldn't didn didn't doesn doesn't hadn hadn't hasn hasn't haven haven't isn isn't ma mightn mightn't
mustn mustn't needn needn't shan shan't shouldn shouldn't wasn wasn't weren weren't won won't wouldn
wouldn't`)
	m := make(map[string]struct{}, len(words))
	for _, w := range words {
		m[w] = struct{}{}
	}
	return m
}()

// NumStopwords is the size of the stopword list (179, as NLTK's).
func NumStopwords() int { return len(stopwords) }

// IsStopword reports whether w is one of NLTK's English stopwords.
func IsStopword(w string) bool {
	_, ok := stopwords[w]
	return ok
}

// PrepareText is the notebook's text_prepare, returning the prepared title as one string of
// space-separated tokens ("SQL Server - any equivalent of Excel's CHOOSE function?" →
// "sql server equivalent excels choose function").
func PrepareText(text string) string {
	return strings.Join(Tokens(nil, text), " ")
}

// Tokens appends the prepared tokens of text to dst and returns it. It allocates only the token
// strings' backing store: one string for the whole title, which the tokens share.
func Tokens(dst []string, text string) []string {
	var buf [256]byte
	b := buf[:0]
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case 'A' <= c && c <= 'Z':
				b = append(b, c+('a'-'A'))
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == ' ', c == '#', c == '+', c == '_':
				b = append(b, c)
			case strings.IndexByte("/(){}[]|@,;", c) >= 0:
				b = append(b, ' ')
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		// Python's str.lower() maps a few non-ASCII letters to ASCII ones (U+212A KELVIN SIGN → k,
		// U+0130 → i + combining dot); everything else non-ASCII is deleted by the reference.
		for _, l := range lowerToASCII(r) {
			b = append(b, l)
		}
	}
	s := string(b)
	for len(s) > 0 {
		j := strings.IndexByte(s, ' ')
		var w string
		if j < 0 {
			w, s = s, ""
		} else {
			w, s = s[:j], s[j+1:]
		}
		if w == "" {
			continue
		}
		if _, stop := stopwords[w]; stop {
			continue
		}
		dst = append(dst, w)
	}
	return dst
}

// lowerToASCII returns the ASCII characters that Python's str.lower() of r keeps after the
// reference deletes everything outside [0-9a-z #+_].
func lowerToASCII(r rune) []byte {
	switch r {
	case '\u212a': // KELVIN SIGN
		return []byte{'k'}
	case '\u0130': // LATIN CAPITAL LETTER I WITH DOT ABOVE → "i̇"
		return []byte{'i'}
	}
	return nil
}

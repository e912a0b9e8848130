package model

import (
	"strings"

	"github.com/jdkato/prose/v2"
)

// TokenizerCode splits the lowercased title with prose's tokenizer, which strips punctuation
// around a word but keeps code names such as c#, c++, .net, node.js and asp.net-mvc whole, then
// drops tokens without a letter or digit and NLTK's stopwords. It is an option, not the
// reference: the notebook's text_prepare deletes the dots (node.js → nodejs).
const TokenizerCode Tokenizer = "code"

// CodeTokens appends the code-aware tokens of text to dst and returns it.
func CodeTokens(dst []string, text string) []string {
	doc, err := prose.NewDocument(strings.ToLower(text),
		prose.WithTagging(false), prose.WithSegmentation(false), prose.WithExtraction(false))
	if err != nil {
		return dst
	}
	for _, tok := range doc.Tokens() {
		if strings.ContainsAny(tok.Text, "'’") {
			continue // the pieces prose splits contractions into: n't, 's, 'll
		}
		w := codeClean(tok.Text)
		if w == "" || IsStopword(w) {
			continue
		}
		dst = append(dst, w)
	}
	return dst
}

// codeClean keeps [0-9a-z#+_.-] (the reference's set plus . and -), trims trailing dots and
// dashes (a leading dot stays: .net), and requires a letter or digit.
func codeClean(s string) string {
	var b strings.Builder
	alnum := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
			alnum = true
			b.WriteByte(c)
		case c == '#' || c == '+' || c == '_' || c == '.' || c == '-':
			b.WriteByte(c)
		}
	}
	if !alnum {
		return ""
	}
	return strings.TrimLeft(strings.TrimRight(b.String(), ".-"), "-")
}

// TokenizeWith prepares text with the named tokenizer.
func TokenizeWith(tk Tokenizer, dst []string, text string) []string {
	if tk == TokenizerCode {
		return CodeTokens(dst, text)
	}
	return Tokens(dst, text)
}

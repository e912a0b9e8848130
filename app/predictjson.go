package app

import (
	"bytes"
	"math"
	"strconv"
	"sync"
	"unicode/utf8"
)

// POST /api/v1/predict is the hot path: its request and its answer have one
// fixed shape each, so they are read and written here by hand instead of by
// encoding/json's reflection. Both produce exactly what encoding/json would
// (predictjson_test.go checks them against it); whatever the fast reader
// does not recognise goes to encoding/json, with its error messages.

// bodyBufs and answerBufs recycle request bodies and encoded answers. A
// buffer that grew past maxPooledBuf (a rare long body) is left to the
// collector, so the pools hold small buffers only and resident memory stays
// flat.
var (
	bodyBufs   = sync.Pool{New: func() any { return new(bytes.Buffer) }}
	answerBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}
)

const maxPooledBuf = 16 << 10

func getBuf() *bytes.Buffer { return bodyBufs.Get().(*bytes.Buffer) }

func putBuf(b *bytes.Buffer) {
	if b.Cap() > maxPooledBuf {
		return
	}
	b.Reset()
	bodyBufs.Put(b)
}

func getAnswerBuf() *[]byte { return answerBufs.Get().(*[]byte) }

// putAnswerBuf returns b, the last thing appended to *p, to the pool.
func putAnswerBuf(p *[]byte, b []byte) {
	if cap(b) > maxPooledBuf {
		return
	}
	*p = b[:0]
	answerBufs.Put(p)
}

// fastTitle returns the title of a body that is exactly one object with one
// key "title" and a string value without escapes or control characters, as
// clients send it. ok is false for anything else (escapes, other or
// repeated keys, other key spellings, trailing data, malformed JSON): the
// caller then decodes with encoding/json, which accepts or refuses it as it
// always did. body must be valid UTF-8 (readBody checks it).
func fastTitle(body []byte) (title string, ok bool) {
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return "", false
	}
	i = skipSpace(body, i+1)
	const key = `"title"`
	if !bytes.HasPrefix(body[i:], []byte(key)) {
		return "", false
	}
	i = skipSpace(body, i+len(key))
	if i >= len(body) || body[i] != ':' {
		return "", false
	}
	i = skipSpace(body, i+1)
	if i >= len(body) || body[i] != '"' {
		return "", false
	}
	start := i + 1
	for i = start; i < len(body) && body[i] != '"'; i++ {
		if body[i] == '\\' || body[i] < 0x20 {
			return "", false
		}
	}
	if i >= len(body) {
		return "", false
	}
	end := i
	i = skipSpace(body, i+1)
	if i >= len(body) || body[i] != '}' || skipSpace(body, i+1) != len(body) {
		return "", false
	}
	return string(body[start:end]), true
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON whitespace.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// appendPredictResponse appends r as encoding/json marshals it (what gin's
// c.JSON sends). ok is false when a score is not finite, which
// encoding/json refuses; the caller then takes c.JSON's path.
func appendPredictResponse(b []byte, r *predictResponse) (_ []byte, ok bool) {
	b = append(b, `{"prediction_id":`...)
	b = appendJSONString(b, r.PredictionID)
	b = append(b, `,"title":`...)
	b = appendJSONString(b, r.Title)
	b = append(b, `,"tags":`...)
	if r.Tags == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, t := range r.Tags {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"tag":`...)
			b = appendJSONString(b, t.Tag)
			b = append(b, `,"score":`...)
			if b, ok = appendJSONFloat(b, t.Score); !ok {
				return b, false
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"model_version":`...)
	b = appendJSONString(b, r.ModelVersion)
	b = append(b, `,"color":`...)
	b = appendJSONString(b, r.Color)
	return append(b, '}'), true
}

// appendJSONFloat formats f as encoding/json does for a float64.
func appendJSONFloat(b []byte, f float64) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' { // e-09 becomes e-9, as encoding/json writes it
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}

const hexDigits = "0123456789abcdef"

// jsonSafe says which ASCII bytes encoding/json writes as they are (with HTML escaping): the
// printable ones but for '"', '\\', '<', '>' and '&'. One load a byte instead of six tests.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := byte(0x20); c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendJSONString appends s quoted as encoding/json does by default: with
// <, > and & escaped for HTML, U+2028 and U+2029 escaped, and invalid UTF-8
// replaced by U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

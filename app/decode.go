package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"
)

// decodeJSON reads one JSON object from r into dst. Every failure becomes an
// apiError that says what is wrong and, where it can, which field.
func decodeJSON(r *http.Request, limit int64, dst any) *apiError {
	buf := getBuf()
	defer putBuf(buf)
	body, e := readBody(r, limit, buf)
	if e != nil {
		return e
	}
	return unmarshalBody(body, dst)
}

// readBody reads r's body into buf and checks that it is non-empty UTF-8.
func readBody(r *http.Request, limit int64, buf *bytes.Buffer) ([]byte, *apiError) {
	if _, err := buf.ReadFrom(r.Body); err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			return nil, tooLarge(limit)
		}
		return nil, badRequest("", "could not read the request body: %v", err)
	}
	body := buf.Bytes()
	if !utf8.Valid(body) {
		return nil, badRequest("", "the request body is not valid UTF-8; send UTF-8 encoded JSON")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, badRequest("", "the request body is empty; send a JSON object")
	}
	return body, nil
}

// unmarshalBody decodes the one JSON object body holds into dst, refusing
// unknown fields and anything after the object.
func unmarshalBody(body []byte, dst any) *apiError {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("", "the request body must hold exactly one JSON object, with nothing after it")
	}
	return nil
}

func tooLarge(limit int64) *apiError {
	return newError(http.StatusRequestEntityTooLarge, "", "the request body is larger than %d KiB; send a shorter title", limit>>10)
}

func jsonError(err error) *apiError {
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syntax):
		return badRequest("", "the request body is not valid JSON (at byte %d: %v)", syntax.Offset, syntax)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("", "the request body is not valid JSON: it ends too early")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return badRequest("", "the request body must be a JSON object, not %s", article(typ.Value))
		}
		want := jsonType(typ.Type.String())
		if strings.HasSuffix(typ.Field, "_tags") { // the error names the element, not the list
			want = "an array of strings"
		}
		return badRequest(typ.Field, "field %q must be %s, not %s", typ.Field, want, article(typ.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return badRequest(name, "unknown field %q; see /api/openapi.json for the accepted fields", name)
	}
	return badRequest("", "the request body is not valid JSON: %v", err)
}

// jsonType names a Go type the way a JSON client thinks of it.
func jsonType(goType string) string {
	switch {
	case goType == "string" || goType == "*string":
		return "a string"
	case goType == "bool" || goType == "*bool":
		return "true or false"
	case strings.HasPrefix(goType, "[]"):
		return "an array of strings"
	}
	return goType
}

func article(jsonValue string) string {
	switch jsonValue {
	case "object", "array":
		return "an " + jsonValue
	case "string", "number", "bool":
		return "a " + jsonValue
	}
	return jsonValue
}

// tagList decodes one of the feedback's tag lists. It counts the entries
// first, on the raw bytes, and refuses a list longer than the model's
// vocabulary before decoding a single string of it: a 62 KB body of 7,000
// tags costs a scan, not 7,000 allocations.
func (s *Server) tagList(field string, raw json.RawMessage) ([]string, *apiError) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] != '[' {
		return nil, badRequest(field, "field %q must be an array of strings, not %s", field, article(jsonKind(raw[0])))
	}
	if n := countElements(raw); n > len(s.known) {
		return nil, badRequest(field, "%s has %d entries; at most %d are allowed (the number of tags the model knows)", field, n, len(s.known))
	}
	var out []string
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, badRequest(field, "field %q must be an array of strings", field)
	}
	return out, nil
}

// countElements counts the top-level elements of a JSON array that the
// decoder already found valid.
func countElements(arr []byte) int {
	depth, n, inString, escaped, empty := 0, 0, false, false, true
	for _, c := range arr {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
			if depth == 1 {
				continue
			}
		case c == ']' || c == '}':
			depth--
		case c == ',' && depth == 1:
			n++
		}
		if depth >= 1 && c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			empty = false
		}
	}
	if empty {
		return 0
	}
	return n + 1
}

// jsonKind names the JSON type a value starting with c has.
func jsonKind(c byte) string {
	switch c {
	case '{':
		return "object"
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	}
	return "number"
}

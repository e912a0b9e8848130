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
	body, err := io.ReadAll(r.Body)
	if err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			return tooLarge(limit)
		}
		return badRequest("", "could not read the request body: %v", err)
	}
	if !utf8.Valid(body) {
		return badRequest("", "the request body is not valid UTF-8; send UTF-8 encoded JSON")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest("", "the request body is empty; send a JSON object")
	}
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

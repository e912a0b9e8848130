package app

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestOpenAPIDocument checks that /api/openapi.json is a JSON OpenAPI 3
// document that names every registered route with its method.
func TestOpenAPIDocument(t *testing.T) {
	ts := startServer(t, newFake())
	code, body := do(t, http.MethodGet, ts.URL+"/api/openapi.json", "", "")
	if code != http.StatusOK {
		t.Fatalf("GET /api/openapi.json: %d", code)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("not valid JSON: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi = %q, want 3.x", doc.OpenAPI)
	}
	routes := ts.Routes()
	if len(routes) < 10 {
		t.Fatalf("only %d routes registered: %v", len(routes), routes)
	}
	for _, r := range routes {
		method, path, _ := strings.Cut(r, " ")
		// gin's :name and *name are OpenAPI's {name}.
		parts := strings.Split(path, "/")
		for i, p := range parts {
			if strings.HasPrefix(p, ":") || strings.HasPrefix(p, "*") {
				parts[i] = "{" + p[1:] + "}"
			}
		}
		path = strings.Join(parts, "/")
		if _, ok := doc.Paths[path][strings.ToLower(method)]; !ok {
			t.Errorf("route %s %s is not in the OpenAPI document", method, path)
		}
	}
	// Every $ref points at something defined.
	var all map[string]any
	json.Unmarshal([]byte(body), &all)
	for _, ref := range refs(all) {
		if !resolves(all, ref) {
			t.Errorf("$ref %q does not resolve", ref)
		}
	}
}

func refs(v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && k == "$ref" {
				out = append(out, s)
			}
			out = append(out, refs(e)...)
		}
	case []any:
		for _, e := range x {
			out = append(out, refs(e)...)
		}
	}
	return out
}

func resolves(doc map[string]any, ref string) bool {
	var cur any = doc
	for _, p := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[p]; !ok {
			return false
		}
	}
	return true
}

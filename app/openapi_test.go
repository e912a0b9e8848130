package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/remla/tagger/test/testenv"
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

// oasValidator is the npm package that checks the document against the
// official OpenAPI 3.0 JSON schema; the test installs it once into .run/.
const oasValidator = "@seriousme/openapi-schema-validator@2.11.0"

// TestOpenAPISchema validates openapi.json against the OpenAPI 3.0 schema.
func TestOpenAPISchema(t *testing.T) {
	npm, err := exec.LookPath("npm")
	if err != nil {
		testenv.Need(t, "npm is needed once to install "+oasValidator+" (apt-get install npm)")
	}
	prefix, _ := filepath.Abs(filepath.Join("..", ".run", "npm", "openapi-schema-validator-2.11.0"))
	bin := filepath.Join(prefix, "node_modules", ".bin", "validate-api")
	if _, err := os.Stat(bin); err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, npm, "install", "--silent", "--no-audit", "--no-fund", "--prefix", prefix, oasValidator).CombinedOutput()
		if err != nil {
			testenv.Need(t, fmt.Sprintf("npm install %s failed (is the npm registry reachable?): %v\n%s", oasValidator, err, out))
		}
	}
	out, err := exec.Command(bin, "openapi.json").CombinedOutput()
	if err != nil {
		t.Fatalf("validate-api: %v\n%s", err, out)
	}
	var res struct {
		Valid  bool            `json:"valid"`
		Errors json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("validate-api printed %q: %v", out, err)
	}
	if !res.Valid {
		t.Fatalf("openapi.json does not follow the OpenAPI 3.0 schema:\n%s", res.Errors)
	}
}

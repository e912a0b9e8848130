package logging

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		name, level, format string
		wantJSON            bool
		wantErr             string
		debugShown          bool
	}{
		{name: "auto off a terminal is JSON", level: "info", format: "auto", wantJSON: true},
		{name: "text", level: "info", format: "text"},
		{name: "json", level: "debug", format: "json", wantJSON: true, debugShown: true},
		{name: "bad level", level: "loud", format: "auto", wantErr: `--log-level "loud"`},
		{name: "bad format", level: "info", format: "xml", wantErr: `--log-format "xml"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			log, err := New(&b, tc.level, tc.format)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			log.Debug("quiet", "k", 1)
			log.Info("hello", "k", 2)
			lines := strings.Split(strings.TrimSpace(b.String()), "\n")
			if want := map[bool]int{true: 2, false: 1}[tc.debugShown]; len(lines) != want {
				t.Fatalf("%d lines, want %d:\n%s", len(lines), want, b.String())
			}
			last := lines[len(lines)-1]
			var m map[string]any
			isJSON := json.Unmarshal([]byte(last), &m) == nil
			if isJSON != tc.wantJSON {
				t.Errorf("JSON = %v, want %v: %s", isJSON, tc.wantJSON, last)
			}
			if !strings.Contains(last, "hello") {
				t.Errorf("message missing: %s", last)
			}
		})
	}
}

package notify

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		yaml, want string
	}{
		{`receivers: [{name: a, type: webhook, urlFile: /x}]`, ""},
		{`receivers: [{name: a, type: slack, urlSecret: {name: s, key: k}}]`, ""},
		{`receivers: [{type: webhook, urlFile: /x}]`, "give it a name"},
		{`receivers: [{name: a, type: teams, urlFile: /x}]`, `type "teams": use webhook or slack`},
		{`receivers: [{name: a, type: webhook}]`, "set urlFile or urlSecret"},
		{`receivers: [{name: a, type: webhook, urlFile: /x, urlSecret: {name: s, key: k}}]`, "keep one"},
		{`receivers: [{name: a, type: webhook, urlSecret: {name: s}}]`, "needs name and key"},
		{`receivers: [{name: a, type: webhook, urlFile: /x}, {name: a, type: slack, urlFile: /y}]`, "used twice"},
		{`timeout: -1s`, "timeout must not be negative"},
	} {
		var c Config
		if err := yaml.UnmarshalStrict([]byte(tc.yaml), &c); err != nil {
			t.Fatalf("%s: %v", tc.yaml, err)
		}
		err := c.Validate()
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", tc.yaml, err, tc.want)
		}
	}
	var c Config
	if err := yaml.UnmarshalStrict([]byte(`receivers: [{name: a, type: webhook, url: http://x}]`), &c); err == nil {
		t.Error("a URL written into remla.yaml itself must be refused")
	}
}

func TestURLSources(t *testing.T) {
	f := filepath.Join(t.TempDir(), "url")
	os.WriteFile(f, []byte("  http://127.0.0.1:9/hook \n# comment\n"), 0o600)
	if u, err := fileURL(f)(context.Background()); err != nil || u != "http://127.0.0.1:9/hook" {
		t.Errorf("file: %q %v", u, err)
	}
	os.WriteFile(f, nil, 0o600)
	if _, err := fileURL(f)(context.Background()); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Errorf("empty file: %v", err)
	}
	reads := 0
	src := secretURL(func(_ context.Context, name, key string) ([]byte, error) {
		reads++
		if name != "remla-notify" || key != "slack" {
			return nil, errors.New("not found")
		}
		return []byte("https://hooks.slack.com/services/T/B/x\n"), nil
	}, SecretKey{Name: "remla-notify", Key: "slack"})
	for range 3 {
		if u, err := src(context.Background()); err != nil || u != "https://hooks.slack.com/services/T/B/x" {
			t.Fatalf("secret: %q %v", u, err)
		}
	}
	if reads != 1 {
		t.Errorf("the Secret was read %d times, want once (cached)", reads)
	}
	if _, err := secretURL(nil, SecretKey{Name: "a", Key: "b"})(context.Background()); err == nil {
		t.Error("no reader: want an error")
	}
}

func TestNewWithoutReceiversDoesNothing(t *testing.T) {
	d, err := New(Config{}, nil, nil, nil, "t")
	if err != nil {
		t.Fatal(err)
	}
	d.Notify(context.Background(), sample)
	if len(d.Counts()) != 0 || d.Close(context.Background()) != nil {
		t.Error("a notifier without receivers must do nothing")
	}
}

package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/remla/tagger/model"
	"github.com/remla/tagger/test/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// smallData writes the first n rows of the shipped train and validation files into a directory.
func smallData(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"train.tsv.gz", "validation.tsv.gz"} {
		in, err := os.Open(filepath.Join("..", "..", "data", name))
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(in)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(zr)
		var b strings.Builder
		for i := 0; i <= n && sc.Scan(); i++ {
			b.WriteString(sc.Text() + "\n")
		}
		in.Close()
		out := strings.TrimSuffix(name, ".gz") // plain .tsv: the loader reads both
		if err := os.WriteFile(filepath.Join(dir, out), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func run(t *testing.T, bin string, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

func TestTrainEvaluatePredict(t *testing.T) {
	bin := testenv.Binary(t, "remla-train")
	data := smallData(t, 1500)
	out := filepath.Join(t.TempDir(), "models")
	stdout, stderr, err := run(t, bin, "train", "--data", data, "--out", out, "--created", "2026-11-26T01:42:00Z")
	if err != nil {
		t.Fatalf("train: %v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "| F1 weighted |") || !strings.Contains(stderr, "tags fitted") {
		t.Fatalf("train output lacks the metrics table or progress:\n%s\n%s", stdout, stderr)
	}
	latest := filepath.Join(out, "latest.model")
	m, err := model.Load(latest)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(m.Version(), "20261126T0142Z-") {
		t.Fatalf("version %q", m.Version())
	}
	if _, err := os.Stat(filepath.Join(out, m.Version()+".model")); err != nil {
		t.Fatal("no versioned model file:", err)
	}
	for _, f := range []string{"report.json", "report.md", "report.svg", "report.png"} {
		if fi, err := os.Stat(filepath.Join(out, "latest.report", f)); err != nil || fi.Size() == 0 {
			t.Fatalf("report file %s: %v", f, err)
		}
	}

	stdout, stderr, err = run(t, bin, "evaluate", "--model", latest, "--data", filepath.Join(data, "validation.tsv"), "--json")
	if err != nil {
		t.Fatalf("evaluate: %v\n%s", err, stderr)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("evaluate --json printed %q: %v", stdout, err)
	}
	for _, k := range []string{"accuracy", "f1_weighted", "f1_macro", "f1_micro", "average_precision_macro", "roc_auc_macro"} {
		v, ok := got[k].(float64)
		if !ok || v < 0 || v > 1 {
			t.Errorf("%s = %v, want a number in [0,1]", k, got[k])
		}
	}
	if got["f1_weighted"].(float64) < 0.3 {
		t.Errorf("F1 weighted %v on 500 validation titles: the model learned nothing", got["f1_weighted"])
	}

	stdout, stderr, err = run(t, bin, "predict", "--model", latest, "How do I parse JSON in Python?")
	if err != nil {
		t.Fatalf("predict: %v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "python") {
		t.Errorf("predict output lacks python:\n%s", stdout)
	}

	// A damaged model file is refused with its name and the problem.
	b, _ := os.ReadFile(latest)
	b[len(b)/2] ^= 1
	bad := filepath.Join(t.TempDir(), "bad.model")
	os.WriteFile(bad, b, 0o644)
	_, stderr, err = run(t, bin, "predict", "--model", bad, "x")
	if err == nil || !strings.Contains(stderr, bad) || !strings.Contains(stderr, "checksum mismatch") {
		t.Errorf("corrupt model: err %v, stderr %q", err, stderr)
	}
}

// TestExitCodes runs the command tree in-process: a usage error is exit 2
// with the message and the command's usage on stderr, any other failure
// exit 1 with one line, --help the help on stdout.
func TestExitCodes(t *testing.T) {
	empty := t.TempDir()
	tests := []struct {
		args      []string
		code      int
		want      string // on stderr, or on stdout for exit 0
		wantUsage string // the usage of this command follows the message
	}{
		{[]string{}, ExitUsage, "give a command", "remla-train [command]"},
		{[]string{"frobnicate"}, ExitUsage, `unknown command "frobnicate"`, "remla-train [command]"},
		{[]string{"trian"}, ExitUsage, "Did you mean this?\n\ttrain", "remla-train [command]"},
		{[]string{"train", "--config", "nope"}, ExitUsage, `unknown --config "nope"; choose one of bow-l1-1,`, "remla-train train [flags]"},
		{[]string{"train", "-data", empty}, ExitUsage, "-data: long flags take two dashes: use --data", "remla-train train [flags]"},
		{[]string{"train", "-config=nope"}, ExitUsage, "use --config=nope", "remla-train train [flags]"},
		{[]string{"evaluate", "-json"}, ExitUsage, "use --json", "remla-train evaluate [flags]"},
		{[]string{"train", "-log-level", "debug"}, ExitUsage, "use --log-level", "remla-train train [flags]"},
		{[]string{"train", "--int8", "false"}, ExitUsage, "--int8=false", "remla-train train [flags]"},
		{[]string{"train", "--ngrams", "two"}, ExitUsage, `invalid argument "two" for "--ngrams"`, "remla-train train [flags]"},
		{[]string{"train", "--log-level", "loud"}, ExitUsage, `--log-level "loud"`, "remla-train train [flags]"},
		{[]string{"predict", "--log-format", "xml", "title"}, ExitUsage, `--log-format "xml"`, "remla-train predict [flags] <title>..."},
		{[]string{"train", "--created", "yesterday"}, ExitUsage, "RFC 3339", "remla-train train [flags]"},
		{[]string{"predict", "--model", "x.model"}, ExitUsage, "give a title", "remla-train predict [flags] <title>..."},
		{[]string{"export-feedback", "--since", "yesterday"}, ExitUsage, "--since", "remla-train export-feedback [flags]"},
		{[]string{"train", "--data", empty}, ExitError, "no train.tsv.gz or train.tsv in " + empty + "; pass --data", ""},
		{[]string{"evaluate", "--model", filepath.Join(empty, "missing.model")}, ExitError, "make train", ""},
		{[]string{"--help"}, ExitOK, "export-feedback", ""},
		{[]string{"help"}, ExitOK, "Examples:", ""},
		{[]string{"train", "--help"}, ExitOK, "--int8", ""},
		{[]string{"help", "predict"}, ExitOK, "remla-train predict --json -", ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr strings.Builder
			code := execute(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr.String())
			}
			got := stderr.String()
			if tt.code == ExitOK {
				got = stdout.String()
				if stderr.Len() > 0 {
					t.Errorf("stderr %q, want nothing", stderr.String())
				}
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("output lacks %q:\n%s", tt.want, got)
			}
			if tt.code == ExitOK {
				return
			}
			if stdout.Len() > 0 {
				t.Errorf("stdout %q, want nothing on an error", stdout.String())
			}
			if tt.wantUsage == "" {
				if strings.Contains(got, "Usage:") || strings.Count(got, "\n") != 1 {
					t.Errorf("want one line without usage:\n%s", got)
				}
				return
			}
			if !strings.Contains(got, "\nUsage:\n  "+tt.wantUsage) {
				t.Errorf("stderr lacks the usage %q:\n%s", tt.wantUsage, got)
			}
		})
	}
}

// TestUsageErrors runs the binary: main passes the exit code on.
func TestUsageErrors(t *testing.T) {
	bin := testenv.Binary(t, "remla-train")
	for _, tt := range []struct {
		args []string
		code int
	}{
		{[]string{"frobnicate"}, ExitUsage},
		{[]string{"train", "-data", "data"}, ExitUsage},
		{[]string{"evaluate", "--model", filepath.Join(t.TempDir(), "missing.model")}, ExitError},
		{[]string{"--help"}, ExitOK},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, stderr, err := run(t, bin, tt.args...)
			code := 0
			if e, ok := err.(*exec.ExitError); ok {
				code = e.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr)
			}
		})
	}
}

package main

import (
	"bufio"
	"compress/gzip"
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
	stdout, stderr, err := run(t, bin, "train", "-data", data, "-out", out, "-created", "2026-11-26T01:42:00Z")
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

	stdout, stderr, err = run(t, bin, "evaluate", "-model", latest, "-data", filepath.Join(data, "validation.tsv"), "-json")
	if err != nil {
		t.Fatalf("evaluate: %v\n%s", err, stderr)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("evaluate -json printed %q: %v", stdout, err)
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

	stdout, stderr, err = run(t, bin, "predict", "-model", latest, "How do I parse JSON in Python?")
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
	_, stderr, err = run(t, bin, "predict", "-model", bad, "x")
	if err == nil || !strings.Contains(stderr, bad) || !strings.Contains(stderr, "checksum mismatch") {
		t.Errorf("corrupt model: err %v, stderr %q", err, stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	bin := testenv.Binary(t, "remla-train")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, "unknown command"},
		{[]string{"train", "-config", "nope"}, "unknown -config"},
		{[]string{"train", "-data", t.TempDir()}, "no train.tsv.gz or train.tsv"},
		{[]string{"predict", "-model", "x.model"}, "give a title"},
		{[]string{"evaluate", "-model", filepath.Join(t.TempDir(), "missing.model")}, "make train"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, stderr, err := run(t, bin, tt.args...)
			if err == nil || !strings.Contains(stderr, tt.want) {
				t.Fatalf("err %v, stderr %q, want it to say %q", err, stderr, tt.want)
			}
		})
	}
	_, stderr, _ := run(t, bin, "help")
	for _, c := range []string{"train", "evaluate", "predict"} {
		if !strings.Contains(stderr, c) {
			t.Errorf("help lacks %s:\n%s", c, stderr)
		}
	}
}

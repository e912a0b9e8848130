package clustertest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/remla/tagger/model"
	"github.com/remla/tagger/test/ociimage"
	"github.com/remla/tagger/test/testenv"
	"github.com/remla/tagger/training"
)

// AppRepository is the chart's image repository (charts/remla-app values.yaml).
const AppRepository = "ghcr.io/remla/tagger"

// AppVariant says which model an app image carries.
type AppVariant string

const (
	// Good carries the trained test model (testenv.Model).
	Good AppVariant = "good"
	// NoTags carries the trained model with every threshold at 1: it answers
	// every title with no tag, so TooManyEmptyPredictions fires from real
	// traffic.
	NoTags AppVariant = "no-tags"
	// BrokenModel carries a file that is not a model: remla-app exits at
	// start, so its pods never become ready (CrashLoopBackOff).
	BrokenModel AppVariant = "broken-model"
	// Worse carries a model trained, with the same configuration as the
	// test model (training.Presets["default"]), on every tenth title of
	// data/train.tsv.gz: a deliberately worse model, for the quality gate.
	// It is trained once and cached in ociimage.CacheDir, keyed by the
	// data's sha256, the configuration and the fraction.
	Worse AppVariant = "worse"
	// Throttled carries the good model, but its entrypoint gives remla-app
	// -rate-limit-predict=0.0001 -rate-limit-predict-burst=1
	// -rate-limit-loopback=true (flags win over the chart's REMLA_RATE_LIMIT_*
	// environment): it becomes ready, and
	// answers 429 to every prediction after the first of each client, as a
	// misconfigured release does. The smoke gate must refuse it.
	Throttled AppVariant = "throttled"
)

// throttledFlags are the Throttled variant's extra entrypoint flags.
// Loopback is limited too: a request through the API server's service
// proxy may come from 127.0.0.1.
var throttledFlags = []string{"-rate-limit-predict=0.0001", "-rate-limit-predict-burst=1", "-rate-limit-loopback=true"}

var (
	importMu sync.Mutex
	imported = map[string]bool{} // socket + archive
)

// AppImage builds the image the Dockerfile's final stage describes, with the
// remla-app binary (testenv.Binary) and the variant's model baked in, and
// imports it into the real node's containerd under each ref. A ref without
// a colon is a tag of AppRepository ("1.0.0" is ghcr.io/remla/tagger:1.0.0).
// The archive is built once per content into ociimage.CacheDir, and
// imported once per test process.
//
// Every image a pod of the node runs must come from here or test/ociimage:
// the node's containerd resolves every registry to a refused loopback port,
// so a version not imported fails as a real pull failure (ErrImagePull).
func AppImage(t testing.TB, v AppVariant, refs ...string) {
	t.Helper()
	node := RealNode(t)
	bin := testenv.Binary(t, "remla-app")
	modelPath := variantModel(t, v)
	st, err := ociimage.FinalStage(filepath.Join(repoRoot(), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if v == Throttled {
		st.Entrypoint = append(slices.Clone(st.Entrypoint), throttledFlags...)
	}
	data := t.TempDir()
	img, err := st.Image(map[string]string{
		"/out/bin/remla-app":       bin,
		"/out/models/latest.model": modelPath,
		"/out/data":                data,
	})
	if err != nil {
		t.Fatalf("pack the app image: %v", err)
	}
	full := make([]string, len(refs))
	for i, r := range refs {
		full[i] = r
		if !strings.Contains(r, ":") {
			full[i] = AppRepository + ":" + r
		}
	}
	claimTags(t, node, v, full)
	Import(t, node, img, full...)
}

// Import packs img (cached by content) and imports it into the node's
// containerd under refs, full image references.
func Import(t testing.TB, node Node, img *ociimage.Image, refs ...string) {
	t.Helper()
	cache, err := ociimage.CacheDir()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(refs)
	archive, err := img.Archive(cache, refs...)
	if err != nil {
		t.Fatal(err)
	}
	importMu.Lock()
	defer importMu.Unlock()
	key := node.ContainerdSocket + " " + archive
	if imported[key] {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ctr", "--address", node.ContainerdSocket, "-n", "k8s.io", "images", "import", archive).CombinedOutput()
	if err != nil {
		t.Fatalf("import %v into the node's containerd: %v\n%s", refs, err, out)
	}
	imported[key] = true
}

// variantModel returns the path of the variant's model file, written once
// per source model into ociimage.CacheDir.
func variantModel(t testing.TB, v AppVariant) string {
	t.Helper()
	src := testenv.Model(t)
	switch v {
	case Good, Throttled:
		return src
	case Worse:
		return worseModel(t)
	}
	fi, err := os.Stat(src)
	if err != nil {
		t.Fatal(err)
	}
	cache, err := ociimage.CacheDir()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(cache, "models", fmt.Sprintf("%s-%d-%d.model", v, fi.Size(), fi.ModTime().UnixNano()))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	var data []byte
	switch v {
	case NoTags:
		m, err := model.Load(src)
		if err != nil {
			t.Fatal(err)
		}
		spec := m.Spec()
		spec.Rule = model.Rule{Name: "never", Thresholds: slices.Repeat([]float64{1}, len(spec.Tags))}
		nm, err := model.New(spec)
		if err != nil {
			t.Fatalf("make the no-tags model: %v", err)
		}
		if data, err = nm.Encode(); err != nil {
			t.Fatal(err)
		}
	case BrokenModel:
		data = []byte("this is not a REMLA tagger model: the image exists to fail its readiness\n")
	default:
		t.Fatalf("unknown app image variant %q", v)
	}
	writeAtomic(t, path, data)
	return path
}

// repoRoot is the repository's top directory, two levels above this file.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// worseFraction: the Worse model sees one title in worseFraction.
const worseFraction = 10

var worseMu sync.Mutex

// worseModel trains the Worse variant's model once (about 20 s) and caches
// it by its inputs: the training file's sha256, the configuration and the
// fraction.
func worseModel(t testing.TB) string {
	t.Helper()
	worseMu.Lock()
	defer worseMu.Unlock()
	full, err := training.LoadDataset(filepath.Join(repoRoot(), "data", "train.tsv.gz"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := training.Presets["default"]
	key, _ := json.Marshal(struct {
		Data     string
		Config   training.Config
		Fraction int
	}{full.SHA256, cfg, worseFraction})
	sum := sha256.Sum256(key)
	cache, err := ociimage.CacheDir()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(cache, "models", "worse-"+hex.EncodeToString(sum[:8])+".model")
	if _, err := os.Stat(path); err == nil {
		return path
	}
	sub := &training.Dataset{Path: full.Path + " (every 10th title)", SHA256: full.SHA256}
	for i := 0; i < len(full.Titles); i += worseFraction {
		sub.Titles, sub.Tags = append(sub.Titles, full.Titles[i]), append(sub.Tags, full.Tags[i])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	t.Logf("training the worse model on %d of %d titles (once; cached at %s)", len(sub.Titles), len(full.Titles), path)
	m, _, err := training.Train(ctx, cfg, sub, training.Options{Created: time.Unix(0, 0)})
	if err != nil {
		t.Fatalf("train the worse model: %v", err)
	}
	data, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	writeAtomic(t, path, data)
	return path
}

// writeAtomic writes data to path (creating its directory) under a temporary
// name first, so a concurrent reader of the cache sees the whole file or none.
func writeAtomic(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	// A name of its own for each writer: tests of one process (run side by
	// side) and of other processes may write the same file at once.
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		t.Fatal(err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		t.Fatal(err)
	}
}

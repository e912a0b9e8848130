package ociimage

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestFinalStage(t *testing.T) {
	st, err := FinalStage("testdata/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	want := []Copy{{"/out/bin/app", "/usr/local/bin/app", ""}, {"/out/data", "/data", "65532:65532"}}
	if !slices.Equal(st.Copies, want) || st.User != "65532:65532" || !slices.Equal(st.Env, []string{"A=1", "B=two"}) ||
		!slices.Equal(st.Expose, []string{"8080"}) || !slices.Equal(st.Volumes, []string{"/data"}) ||
		!slices.Equal(st.Entrypoint, []string{"/usr/local/bin/app", "-flag"}) {
		t.Errorf("FinalStage = %+v", st)
	}
	one := filepath.Join(t.TempDir(), "Dockerfile")
	os.WriteFile(one, []byte("FROM scratch\nCOPY a /a\n"), 0o644)
	if _, err := FinalStage(one); err == nil || !strings.Contains(err.Error(), "1 stages") {
		t.Errorf("single-stage Dockerfile: %v, want a refusal", err)
	}
}

func testImage(t *testing.T) *Image {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "app")
	os.WriteFile(bin, []byte("#!/bin/false\n"), 0o755)
	st, err := FinalStage("testdata/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	img, err := st.Image(map[string]string{"/out/bin/app": bin, "/out/data": dir})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestArchiveIsCachedByContent(t *testing.T) {
	cache := t.TempDir()
	img := testImage(t)
	a, err := img.Archive(cache, "example.local/app:1")
	if err != nil {
		t.Fatal(err)
	}
	b, err := testImage(t).Archive(cache, "example.local/app:1")
	if err != nil || a != b {
		t.Fatalf("the same image packed twice gave %s and %s (%v); want one cached archive", a, b, err)
	}
	c, err := img.Archive(cache, "example.local/app:2")
	if err != nil || c == a {
		t.Fatalf("another name gave %s (%v); want another archive", c, err)
	}
	first, _ := img.archive([]string{"x:1"})
	again, _ := img.archive([]string{"x:1"})
	if !bytes.Equal(first, again) {
		t.Error("packing the same image twice gave different bytes")
	}
}

// TestLayoutUnpacks checks the layout with umoci, a real OCI tool, when it is
// installed, and with Unpack.
func TestLayoutUnpacks(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("unpacking with the image's owners needs root")
	}
	layout := filepath.Join(t.TempDir(), "oci")
	if err := testImage(t).WriteLayout(layout, "1"); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := Unpack(layout, root); err != nil {
		t.Fatal(err)
	}
	check := func(root string) {
		t.Helper()
		fi, err := os.Stat(filepath.Join(root, "usr/local/bin/app"))
		if err != nil || fi.Mode().Perm() != 0o755 {
			t.Errorf("usr/local/bin/app: %v %v", fi, err)
		}
		if fi, err := os.Stat(filepath.Join(root, "tmp")); err != nil || fi.Mode()&os.ModeSticky == 0 {
			t.Errorf("tmp: %v %v; want a sticky directory", fi, err)
		}
	}
	check(root)
	if umoci, err := exec.LookPath("umoci"); err == nil {
		bundle := filepath.Join(t.TempDir(), "bundle")
		if out, err := exec.Command(umoci, "unpack", "--image", layout+":1", bundle).CombinedOutput(); err != nil {
			t.Fatalf("umoci refuses the layout: %v\n%s", err, out)
		}
		check(filepath.Join(bundle, "rootfs"))
	}
}

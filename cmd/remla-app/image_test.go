package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/remla/tagger/test/testenv"
)

// There is no Docker engine here, so this test builds the image the
// Dockerfile describes without one: it reads the final stage of the
// Dockerfile (COPY, USER, ENV, EXPOSE, VOLUME, ENTRYPOINT), packs the same
// files into an OCI image layout by hand, checks the layout with umoci when
// it is installed, then unpacks it into a root filesystem and runs the
// entrypoint chrooted as the image's user, with nothing else in the root:
// no libc, no shell. That proves the binary is static, runs as non-root,
// serves the baked-in model and can write its feedback database to /data.

// finalStage is what the test needs from the Dockerfile's last stage.
type finalStage struct {
	Copies     [][3]string // source in the build stage, destination, chown ("" for root)
	User       string
	Env        []string
	Expose     []string
	Volumes    []string
	Entrypoint []string
}

func parseDockerfile(t *testing.T, path string) finalStage {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Join continuation lines, drop comments.
	var lines []string
	var cur strings.Builder
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		if strings.HasSuffix(l, "\\") {
			cur.WriteString(strings.TrimSuffix(l, "\\") + " ")
			continue
		}
		cur.WriteString(l)
		if s := strings.TrimSpace(cur.String()); s != "" {
			lines = append(lines, s)
		}
		cur.Reset()
	}
	stages, last := 0, 0
	for i, l := range lines {
		if strings.HasPrefix(strings.ToUpper(l), "FROM ") {
			stages, last = stages+1, i
		}
	}
	if stages < 2 {
		t.Fatalf("Dockerfile has %d stages; it should build in one and ship in another", stages)
	}
	var st finalStage
	for _, l := range lines[last+1:] {
		word, rest, _ := strings.Cut(l, " ")
		rest = strings.TrimSpace(rest)
		switch strings.ToUpper(word) {
		case "COPY":
			f := strings.Fields(rest)
			var chown string
			from := false
			var args []string
			for _, a := range f {
				switch {
				case strings.HasPrefix(a, "--from="):
					from = true
				case strings.HasPrefix(a, "--chown="):
					chown = strings.TrimPrefix(a, "--chown=")
				default:
					args = append(args, a)
				}
			}
			if !from || len(args) != 2 {
				t.Fatalf("Dockerfile: final-stage COPY %q must copy one file from the build stage", rest)
			}
			st.Copies = append(st.Copies, [3]string{args[0], args[1], chown})
		case "USER":
			st.User = rest
		case "ENV":
			for _, kv := range strings.Fields(rest) {
				st.Env = append(st.Env, kv)
			}
		case "EXPOSE":
			st.Expose = append(st.Expose, strings.Fields(rest)...)
		case "VOLUME":
			if err := json.Unmarshal([]byte(rest), &st.Volumes); err != nil {
				t.Fatalf("Dockerfile: VOLUME %s: %v", rest, err)
			}
		case "ENTRYPOINT":
			if err := json.Unmarshal([]byte(rest), &st.Entrypoint); err != nil {
				t.Fatalf("Dockerfile: ENTRYPOINT must be exec form: %v", err)
			}
		}
	}
	return st
}

type blob struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int    `json:"size"`
}

func writeBlob(t *testing.T, dir, mediaType string, data []byte) blob {
	t.Helper()
	sum := sha256.Sum256(data)
	hexSum := hex.EncodeToString(sum[:])
	if err := os.WriteFile(filepath.Join(dir, "blobs", "sha256", hexSum), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return blob{MediaType: mediaType, Digest: "sha256:" + hexSum, Size: len(data)}
}

// buildOCI writes an OCI image layout for the Dockerfile's final stage;
// sources maps each COPY source to a local file or directory.
func buildOCI(t *testing.T, dir string, st finalStage, sources map[string]string) {
	t.Helper()
	os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755)
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	dirs := map[string]bool{}
	addDir := func(name string, uid int, mode int64) {
		if dirs[name] {
			return
		}
		dirs[name] = true
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode, Uid: uid, Gid: uid, ModTime: time.Unix(0, 0)})
	}
	addParents := func(dst string) {
		parts := strings.Split(strings.Trim(dst, "/"), "/")
		for i := 1; i < len(parts); i++ {
			addDir(strings.Join(parts[:i], "/"), 0, 0o755)
		}
	}
	addDir("tmp", 0, 0o1777) // distroless has /tmp; the chart mounts one too
	for _, c := range st.Copies {
		src, ok := sources[c[0]]
		if !ok {
			t.Fatalf("Dockerfile copies %s, which this test does not know how to provide; teach it", c[0])
		}
		uid := 0
		if c[2] != "" {
			fmt.Sscanf(c[2], "%d", &uid)
		}
		dst := strings.Trim(c[1], "/")
		addParents(dst)
		fi, err := os.Stat(src)
		if err != nil {
			t.Fatal(err)
		}
		if fi.IsDir() {
			addDir(dst, uid, 0o755)
			continue
		}
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: dst, Mode: int64(fi.Mode().Perm()), Size: int64(len(data)), Uid: uid, Gid: uid, ModTime: time.Unix(0, 0)})
		tw.Write(data)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	diffID := sha256.Sum256(layer.Bytes())
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(layer.Bytes())
	zw.Close()
	layerBlob := writeBlob(t, dir, "application/vnd.oci.image.layer.v1.tar+gzip", gz.Bytes())

	exposed := map[string]struct{}{}
	for _, p := range st.Expose {
		if !strings.Contains(p, "/") {
			p += "/tcp"
		}
		exposed[p] = struct{}{}
	}
	volumes := map[string]struct{}{}
	for _, v := range st.Volumes {
		volumes[v] = struct{}{}
	}
	config, _ := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux", "created": "1970-01-01T00:00:00Z",
		"config": map[string]any{"User": st.User, "Env": st.Env, "Entrypoint": st.Entrypoint, "ExposedPorts": exposed, "Volumes": volumes},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + hex.EncodeToString(diffID[:])}},
	})
	configBlob := writeBlob(t, dir, "application/vnd.oci.image.config.v1+json", config)
	manifest, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": configBlob, "layers": []blob{layerBlob},
	})
	manifestBlob := writeBlob(t, dir, "application/vnd.oci.image.manifest.v1+json", manifest)
	index, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
		"manifests": []any{map[string]any{
			"mediaType": manifestBlob.MediaType, "digest": manifestBlob.Digest, "size": manifestBlob.Size,
			"annotations": map[string]string{"org.opencontainers.image.ref.name": "test"},
		}},
	})
	os.WriteFile(filepath.Join(dir, "index.json"), index, 0o644)
	os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
}

// unpack extracts the image's single layer into root.
func unpack(t *testing.T, layout, root string) {
	t.Helper()
	var index struct{ Manifests []blob }
	readJSON(t, filepath.Join(layout, "index.json"), &index)
	var manifest struct{ Layers []blob }
	readJSON(t, blobPath(layout, index.Manifests[0].Digest), &manifest)
	f, err := os.Open(blobPath(layout, manifest.Layers[0].Digest))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(root, h.Name)
		switch h.Typeflag {
		case tar.TypeDir:
			os.MkdirAll(p, 0o755)
			os.Chmod(p, os.FileMode(h.Mode)&os.ModePerm|modeBits(h.Mode))
		case tar.TypeReg:
			data, _ := io.ReadAll(tr)
			if err := os.WriteFile(p, data, os.FileMode(h.Mode)); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Lchown(p, h.Uid, h.Gid); err != nil {
			t.Fatal(err)
		}
	}
}

func modeBits(m int64) os.FileMode {
	if m&0o1000 != 0 {
		return os.ModeSticky
	}
	return 0
}

func blobPath(layout, digest string) string {
	return filepath.Join(layout, "blobs", "sha256", strings.TrimPrefix(digest, "sha256:"))
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestImageRunsOffline(t *testing.T) {
	if os.Getuid() != 0 {
		testenv.Need(t, "running the image chrooted as its user needs root")
	}
	modelPath := testenv.Model(t)
	st := parseDockerfile(t, filepath.Join("..", "..", "Dockerfile"))
	if st.User == "" || strings.HasPrefix(st.User, "0") || strings.HasPrefix(st.User, "root") {
		t.Fatalf("the image runs as %q; it must run as a non-root user", st.User)
	}
	bin := testenv.Binary(t, "remla-app")
	if out, err := exec.Command("go", "version", "-m", bin).CombinedOutput(); err == nil && !strings.Contains(string(out), "CGO_ENABLED=0") {
		t.Fatalf("%s was not built with CGO_ENABLED=0:\n%s", bin, out)
	}
	dataDir := t.TempDir()
	layout := filepath.Join(t.TempDir(), "oci")
	buildOCI(t, layout, st, map[string]string{
		"/out/bin/remla-app":       bin,
		"/out/models/latest.model": modelPath,
		"/out/data":                dataDir,
	})
	// Unpack with umoci, a real OCI tool, when it is there; by hand otherwise.
	bundle := filepath.Join(t.TempDir(), "bundle")
	root := filepath.Join(bundle, "rootfs")
	if umoci, err := exec.LookPath("umoci"); err == nil {
		out, err := exec.Command(umoci, "unpack", "--image", layout+":test", bundle).CombinedOutput()
		if err != nil {
			t.Fatalf("umoci does not accept the OCI layout: %v\n%s", err, out)
		}
		t.Log("unpacked with umoci")
	} else {
		t.Log("umoci is not installed; unpacking the layout by hand")
		os.MkdirAll(root, 0o755)
		unpack(t, layout, root)
	}
	os.Chmod(bundle, 0o755) // the image's user must reach into its root
	var uid, gid uint32
	if _, err := fmt.Sscanf(st.User, "%d:%d", &uid, &gid); err != nil {
		t.Fatalf("USER %q: want numeric uid:gid so Kubernetes can check runAsNonRoot", st.User)
	}

	// docker run -e REMLA_ADDR=127.0.0.1:0 -e REMLA_LOG_FORMAT=json <image>
	cmd := exec.Command(st.Entrypoint[0], st.Entrypoint[1:]...)
	cmd.Env = append(append([]string{}, st.Env...), "REMLA_ADDR=127.0.0.1:0", "REMLA_LOG_FORMAT=json")
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root, Credential: &syscall.Credential{Uid: uid, Gid: gid}}
	p := &proc{cmd: cmd, logs: &lockedBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("run the image's entrypoint: %v", err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-p.done
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for p.base == "" && time.Now().Before(deadline) {
		sc := bufio.NewScanner(strings.NewReader(p.logs.String()))
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
				p.base = "http://" + line.Addr
			}
		}
		select {
		case err := <-p.done:
			t.Fatalf("the image's entrypoint exited: %v\n%s", err, p.logs)
		case <-time.After(50 * time.Millisecond):
		}
	}
	if p.base == "" {
		t.Fatalf("the image did not start listening:\n%s", p.logs)
	}
	if code, body := get(t, p.base+"/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz in the image: %d %s", code, body)
	}
	answer(t, p.base, predict(t, p.base, "How to parse JSON in Python"), true)
	cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t); code != 0 {
		t.Fatalf("exit code %d after SIGTERM:\n%s", code, p.logs)
	}
	db := filepath.Join(root, "data", "feedback.db")
	fi, err := os.Stat(db)
	if err != nil {
		t.Fatalf("no feedback database in the image's /data: %v", err)
	}
	if s := fi.Sys().(*syscall.Stat_t); s.Uid != uid {
		t.Fatalf("/data/feedback.db belongs to uid %d, want the image user %d", s.Uid, uid)
	}
	if got := stored(t, db); len(got) != 1 {
		t.Fatalf("the image stored %d answers, want 1", len(got))
	}
}

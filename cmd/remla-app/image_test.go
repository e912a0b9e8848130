package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/remla/tagger/test/ociimage"
	"github.com/remla/tagger/test/testenv"
)

// There is no Docker engine here, so this test builds the image the
// Dockerfile describes without one: test/ociimage reads the final stage of
// the Dockerfile (COPY, USER, ENV, EXPOSE, VOLUME, ENTRYPOINT) and packs the
// same files into an OCI image layout by hand. The test checks the layout
// with umoci when it is installed, then unpacks it into a root filesystem and
// runs the entrypoint chrooted as the image's user, with nothing else in the root:
// no libc, no shell. That proves the binary is static, runs as non-root,
// serves the baked-in model and can write its feedback database to /data.

func TestImageRunsOffline(t *testing.T) {
	if os.Getuid() != 0 {
		testenv.Need(t, "running the image chrooted as its user needs root")
	}
	modelPath := testenv.Model(t)
	st, err := ociimage.FinalStage(filepath.Join("..", "..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if st.User == "" || strings.HasPrefix(st.User, "0") || strings.HasPrefix(st.User, "root") {
		t.Fatalf("the image runs as %q; it must run as a non-root user", st.User)
	}
	bin := testenv.Binary(t, "remla-app")
	if out, err := exec.Command("go", "version", "-m", bin).CombinedOutput(); err == nil && !strings.Contains(string(out), "CGO_ENABLED=0") {
		t.Fatalf("%s was not built with CGO_ENABLED=0:\n%s", bin, out)
	}
	dataDir := t.TempDir()
	layout := filepath.Join(t.TempDir(), "oci")
	img, err := st.Image(map[string]string{
		"/out/bin/remla-app":       bin,
		"/out/models/latest.model": modelPath,
		"/out/data":                dataDir,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := img.WriteLayout(layout, "test"); err != nil {
		t.Fatal(err)
	}
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
		if err := ociimage.Unpack(layout, root); err != nil {
			t.Fatal(err)
		}
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
	p := listening(t, testenv.Start(t, "the image's entrypoint", cmd))
	if code, body := get(t, p.base+"/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz in the image: %d %s", code, body)
	}
	answer(t, p.base, predict(t, p.base, "How to parse JSON in Python"), true)
	p.Signal(syscall.SIGTERM)
	if code := p.Wait(t, 30*time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM:\n%s", code, p.Logs())
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

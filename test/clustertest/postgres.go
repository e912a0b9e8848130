package clustertest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/remla/tagger/test/ociimage"
	"github.com/remla/tagger/test/testenv"
)

// PostgresImageRef is the reference PostgresImage imports; the chart's
// postgresql.image points at it in the tests.
const PostgresImageRef = "remla.test/postgres:15"

// PostgresUID is the user the image runs as (the chart's
// postgresql.runAsUser).
const PostgresUID = 999

// PostgresImage packs Debian's PostgreSQL 15 server (the programs the
// chart's StatefulSet runs, their shared libraries, the share directory, the
// time zones, and dash as /bin/sh for initdb's popen) with pgentrypoint, which initialises $PGDATA the way the
// official postgres image does, and imports it into the real node under
// PostgresImageRef. No registry is involved.
func PostgresImage(t testing.TB) string {
	t.Helper()
	node := RealNode(t)
	Import(t, node, packPostgres(t), PostgresImageRef)
	return PostgresImageRef
}

// packPostgres builds PostgresImage's image.
func packPostgres(t testing.TB) *ociimage.Image {
	t.Helper()
	pgbin := testenv.PostgresBinDir(t)
	if filepath.Base(filepath.Dir(pgbin)) != "15" {
		t.Fatalf("PostgresImage packs PostgreSQL 15 (pgentrypoint's paths); found %s", pgbin)
	}
	img := &ociimage.Image{Config: ociimage.Config{
		User:         fmt.Sprint(PostgresUID),
		Env:          []string{"PATH=/usr/lib/postgresql/15/bin:/usr/bin:/bin", "LANG=C", "TZ=UTC"},
		Entrypoint:   []string{"/usr/local/bin/pgentrypoint"},
		ExposedPorts: []string{"5432/tcp"},
	}}
	entry := filepath.Join(t.TempDir(), "pgentrypoint")
	build := exec.Command("go", "build", "-trimpath", "-o", entry, "github.com/remla/tagger/test/clustertest/pgentrypoint")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build pgentrypoint: %v\n%s", err, out)
	}
	add := func(path string, mode fs.FileMode) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("pack %s: %v", path, err)
		}
		img.AddFile(path, b, mode, 0, 0)
	}
	eb, err := os.ReadFile(entry)
	if err != nil {
		t.Fatal(err)
	}
	img.AddFile("/usr/local/bin/pgentrypoint", eb, 0o755, 0, 0)
	programs := []string{"postgres", "initdb", "pg_isready"}
	libs := map[string]bool{}
	for _, p := range programs {
		add(filepath.Join(pgbin, p), 0o755)
		for _, l := range sharedLibraries(t, filepath.Join(pgbin, p)) {
			libs[l] = true
		}
	}
	// initdb loads these into template1 (PL/pgSQL, the text search
	// dictionaries).
	for _, so := range []string{"plpgsql.so", "dict_snowball.so"} {
		p := filepath.Join("/usr/lib/postgresql/15/lib", so)
		add(p, 0o755)
		for _, l := range sharedLibraries(t, p) {
			libs[l] = true
		}
	}
	// initdb runs postgres through popen(), that is /bin/sh -c: Debian's dash.
	sh, err := os.ReadFile("/usr/bin/dash")
	if err != nil {
		t.Fatalf("pack /bin/sh: %v (apt-get install dash)", err)
	}
	img.AddFile("/bin/sh", sh, 0o755, 0, 0)
	for _, l := range sharedLibraries(t, "/usr/bin/dash") {
		libs[l] = true
	}
	for _, l := range slices.Sorted(mapKeys(libs)) {
		add(l, 0o755) // the resolved file's bytes under the name the loader asks for
	}
	for _, dir := range []string{"/usr/share/postgresql/15", "/usr/share/zoneinfo"} {
		err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			if e.Type()&fs.ModeSymlink != 0 {
				if fi, err := os.Stat(p); err != nil || fi.IsDir() {
					return nil // a dangling link, or one to a directory walked anyway
				}
			}
			add(p, 0o644)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	img.AddFile("/etc/passwd", []byte(fmt.Sprintf("root:x:0:0:root:/root:/nonexistent\npostgres:x:%d:%d:PostgreSQL:/var/lib/postgresql:/nonexistent\n", PostgresUID, PostgresUID)), 0o644, 0, 0)
	img.AddFile("/etc/group", []byte(fmt.Sprintf("root:x:0:\npostgres:x:%d:\n", PostgresUID)), 0o644, 0, 0)
	for _, d := range []string{"/var/lib/postgresql/data", "/var/run/postgresql", "/tmp"} {
		img.AddDir(d, 0o775, PostgresUID, PostgresUID)
	}
	return img
}

// sharedLibraries lists what ldd says path needs, the loader included.
func sharedLibraries(t testing.TB, path string) []string {
	t.Helper()
	out, err := exec.Command("ldd", path).Output()
	if err != nil {
		t.Fatalf("ldd %s: %v", path, err)
	}
	var libs []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 3 && f[1] == "=>" && strings.HasPrefix(f[2], "/"):
			libs = append(libs, f[2])
		case len(f) >= 1 && strings.HasPrefix(f[0], "/"):
			libs = append(libs, f[0]) // the loader
		}
	}
	return libs
}

func mapKeys(m map[string]bool) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// HostPathVolume creates a PersistentVolume of class on a fresh directory
// of the real node's host, writable by uid, for a claim of that class to
// bind (the test cluster has no dynamic provisioner). It is deleted at the
// end of the test; the directory with it.
func HostPathVolume(t testing.TB, class string, uid int) string {
	t.Helper()
	RealNode(t)
	dir, err := os.MkdirTemp("", "remla-pv-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, uid, uid); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o700)
	name := "pv-" + NamespaceName(t.Name())
	cs := Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{NamespaceLabel: "true"}},
		Spec: corev1.PersistentVolumeSpec{
			StorageClassName:              class,
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			PersistentVolumeSource:        corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: dir}},
		},
	}
	if _, err := cs.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create PersistentVolume %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cs.CoreV1().PersistentVolumes().Delete(ctx, name, metav1.DeleteOptions{})
		os.RemoveAll(dir)
	})
	return name
}

// WithPostgres returns TestValues with what gives the test's namespace a
// working feedback store on the real node: the chart's PostgreSQL runs
// PostgresImage, and its claim binds a PersistentVolume of the test's own
// storage class on the host.
func WithPostgres(t testing.TB) map[string]any {
	t.Helper()
	image := PostgresImage(t)
	class := "remla-test-" + NamespaceName(t.Name())
	HostPathVolume(t, class, PostgresUID)
	repo, tag, _ := strings.Cut(image, ":")
	v := TestValues()
	v["postgresql"] = map[string]any{
		"image":     map[string]any{"repository": repo, "tag": tag, "pullPolicy": "Never"},
		"runAsUser": PostgresUID,
		"storage":   map[string]any{"storageClassName": class},
		"resources": testResources(),
	}
	return v
}

// WaitForStore waits until the app at base (a Service URL) reports its
// feedback store reachable on /readyz: the namespace's PostgreSQL has
// started and the app's background check has seen it.
func WaitForStore(t testing.TB, ctx context.Context, base string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	var last string
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
		if res, err := HTTPClient.Do(req); err == nil {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			last = string(b)
			if strings.Contains(last, `"feedback_store":"ok"`) {
				return
			}
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the feedback store behind %s did not become reachable within 3 minutes; last /readyz: %s", base, last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// FeedbackRetrying gives the app at base the answer to prediction id as a
// well-behaved client does: a 503 (the store could not take it; nothing was
// stored) or a request that timed out is sent again, after Retry-After, for
// up to a minute. Any other refusal is returned at once.
func FeedbackRetrying(ctx context.Context, base, id string, happy bool) error {
	deadline := time.Now().Add(time.Minute)
	for {
		err := Feedback(ctx, base, id, happy)
		retry := err != nil && (strings.Contains(err.Error(), "503 Service Unavailable") || strings.Contains(err.Error(), "Client.Timeout exceeded"))
		if !retry || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Second):
		}
	}
}

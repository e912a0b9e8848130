package clustertest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/remla/tagger/feedback"
	"github.com/remla/tagger/test/ociimage"
	"github.com/remla/tagger/test/testenv"
)

// TestPostgresImageRunsOffline runs the PostgreSQL image the cluster tests
// import the way a container runtime would, without one: its layout
// unpacked into a root with nothing else in it, the entrypoint chrooted as
// the image's user with the chart's environment. It must initialise an empty
// data directory, take a password login over TCP, store a record, and stop
// cleanly on SIGTERM; started again on the same data, the record is there.
func TestPostgresImageRunsOffline(t *testing.T) {
	if os.Getuid() != 0 {
		testenv.Need(t, "running the image chrooted as its user needs root")
	}
	img := packPostgres(t)
	layout := filepath.Join(t.TempDir(), "oci")
	if err := img.WriteLayout(layout, "test"); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(t.TempDir(), "rootfs")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := ociimage.Unpack(layout, root); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Dir(root), 0o755)
	// What a container runtime puts in /dev.
	os.MkdirAll(filepath.Join(root, "dev", "shm"), 0o1777)
	os.Chmod(filepath.Join(root, "dev", "shm"), 0o1777)
	for name, minor := range map[string]int{"null": 3, "zero": 5, "urandom": 9} {
		if err := syscall.Mknod(filepath.Join(root, "dev", name), syscall.S_IFCHR|0o666, 1<<8|minor); err != nil {
			t.Fatalf("mknod /dev/%s: %v", name, err)
		}
		os.Chmod(filepath.Join(root, "dev", name), 0o666)
	}
	_, port, err := net.SplitHostPort(testenv.FreeAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	run := func() *testenv.Process {
		cmd := exec.Command(img.Config.Entrypoint[0])
		cmd.Env = append(append([]string{}, img.Config.Env...),
			"POSTGRES_USER=remla", "POSTGRES_DB=remla", "POSTGRES_PASSWORD=s3cret", "PGDATA=/var/lib/postgresql/data/pgdata",
			"LISTEN_ADDRESSES=127.0.0.1", "PGPORT="+port)
		cmd.Dir = "/"
		cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root, Credential: &syscall.Credential{Uid: PostgresUID, Gid: PostgresUID}, Pdeathsig: syscall.SIGQUIT}
		return testenv.Start(t, "postgres-image", cmd)
	}
	dsn := fmt.Sprintf("host=127.0.0.1 port=%s user=remla password=s3cret dbname=remla sslmode=disable connect_timeout=2", port)
	connect := func(p *testenv.Process) *feedback.Postgres {
		var s *feedback.Postgres
		testenv.WaitFor(t, "a password login to the image's PostgreSQL", 60*time.Second, 200*time.Millisecond, []*testenv.Process{p}, func() (bool, error) {
			st, err := feedback.OpenPostgres(context.Background(), dsn, false)
			if err == nil {
				s = st
				return true, nil
			}
			if st != nil {
				st.Close()
			}
			return false, err
		})
		return s
	}
	stop := func(p *testenv.Process) {
		p.Signal(syscall.SIGTERM)
		if code := p.Wait(t, 30*time.Second); code != 0 {
			t.Fatalf("exit code %d after SIGTERM:\n%s", code, p.Tail(30))
		}
	}

	p := run()
	s := connect(p)
	if err := s.Save(context.Background(), feedback.Record{PredictionID: "p", Title: "kept on the volume", Happy: true}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	stop(p)

	p = run()
	s = connect(p)
	defer s.Close()
	if r, err := s.Get(context.Background(), "p"); err != nil || r.Title != "kept on the volume" {
		t.Fatalf("after a restart on the same data: %+v %v\n%s", r, err, p.Tail(30))
	}
	stop(p)
}

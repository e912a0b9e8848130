package clustertest

import (
	"bytes"
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	run := func() (*exec.Cmd, *bytes.Buffer, chan error) {
		cmd := exec.Command(img.Config.Entrypoint[0])
		cmd.Env = append(append([]string{}, img.Config.Env...),
			"POSTGRES_USER=remla", "POSTGRES_DB=remla", "POSTGRES_PASSWORD=s3cret", "PGDATA=/var/lib/postgresql/data/pgdata",
			"LISTEN_ADDRESSES=127.0.0.1", fmt.Sprint("PGPORT=", port))
		cmd.Dir = "/"
		cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root, Credential: &syscall.Credential{Uid: PostgresUID, Gid: PostgresUID}, Pdeathsig: syscall.SIGQUIT}
		var logs bytes.Buffer
		cmd.Stdout, cmd.Stderr = &logs, &logs
		if err := cmd.Start(); err != nil {
			t.Fatalf("run the entrypoint: %v", err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		t.Cleanup(func() {
			if cmd.ProcessState == nil {
				cmd.Process.Kill()
				<-done
			}
		})
		return cmd, &logs, done
	}
	dsn := fmt.Sprintf("host=127.0.0.1 port=%d user=remla password=s3cret dbname=remla sslmode=disable connect_timeout=2", port)
	connect := func(logs *bytes.Buffer, done chan error) *feedback.Postgres {
		deadline := time.Now().Add(60 * time.Second)
		for {
			s, err := feedback.OpenPostgres(context.Background(), dsn, false)
			if err == nil {
				return s
			}
			if s != nil {
				s.Close()
			}
			select {
			case e := <-done:
				t.Fatalf("the image exited (%v):\n%s", e, logs)
			case <-time.After(200 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("no login to the image's PostgreSQL within 60 s (%v):\n%s", err, logs)
			}
		}
	}
	stop := func(cmd *exec.Cmd, logs *bytes.Buffer, done chan error) {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("exit after SIGTERM: %v\n%s", err, logs)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("no exit within 30 s of SIGTERM:\n%s", logs)
		}
	}

	cmd, logs, done := run()
	s := connect(logs, done)
	if err := s.Save(context.Background(), feedback.Record{PredictionID: "p", Title: "kept on the volume", Happy: true}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	stop(cmd, logs, done)

	cmd, logs, done = run()
	s = connect(logs, done)
	defer s.Close()
	if r, err := s.Get(context.Background(), "p"); err != nil || r.Title != "kept on the volume" {
		t.Fatalf("after a restart on the same data: %+v %v\n%s", r, err, logs)
	}
	stop(cmd, logs, done)
}

package testenv

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// PostgresServer is a throwaway PostgreSQL server that a test started:
// initdb into its own temporary directory, listening only on a Unix socket
// there (no TCP port, so it collides with nothing), run as the postgres
// user when the test runs as root (PostgreSQL refuses root). It is stopped
// and removed when the test ends.
type PostgresServer struct {
	// Dir holds the data directory and the socket.
	Dir      string
	bin      string
	cred     *syscall.Credential
	uid, gid int

	mu   sync.Mutex
	proc *Process
}

// PostgresBinDir returns the directory of Debian's PostgreSQL server
// programs (the newest /usr/lib/postgresql/N/bin), or Needs it.
func PostgresBinDir(t testing.TB) string {
	t.Helper()
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	slices.SortFunc(dirs, func(a, b string) int { return pgMajor(b) - pgMajor(a) })
	if len(dirs) == 0 {
		Need(t, "PostgreSQL is not installed: apt-get install postgresql-15 (test/deps.sh does)")
	}
	return filepath.Dir(dirs[0])
}

func pgMajor(path string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return n
}

// Postgres starts a PostgreSQL server for the test and returns it running.
func Postgres(t testing.TB) *PostgresServer {
	t.Helper()
	p := &PostgresServer{bin: PostgresBinDir(t), uid: os.Getuid(), gid: os.Getgid()}
	dir, err := os.MkdirTemp("", "remla-pg-")
	if err != nil {
		t.Fatal(err)
	}
	p.Dir = dir
	t.Cleanup(func() {
		p.Stop(t)
		os.RemoveAll(dir)
	})
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			Need(t, "running as root, and PostgreSQL refuses root: no postgres user to run it as (apt-get install postgresql-15 creates it)")
		}
		p.uid, _ = strconv.Atoi(u.Uid)
		p.gid, _ = strconv.Atoi(u.Gid)
		p.cred = &syscall.Credential{Uid: uint32(p.uid), Gid: uint32(p.gid)}
		if err := os.Chown(dir, p.uid, p.gid); err != nil {
			t.Fatal(err)
		}
	}
	pwfile := filepath.Join(dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte("remla\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chown(pwfile, p.uid, p.gid)
	initdb := exec.Command(filepath.Join(p.bin, "initdb"), "-D", p.data(), "-U", "remla", "--pwfile", pwfile,
		"-A", "scram-sha-256", "--auth-local", "trust", "-E", "UTF8", "--locale", "C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	p.Start(t)
	p.CreateDatabase(t, "remla")
	return p
}

func (p *PostgresServer) data() string { return filepath.Join(p.Dir, "data") }

// DSN is the connection string of database db on this server, as user
// remla (password remla over TCP; trusted on the socket). The database remla
// exists from the start; CreateDatabase makes others.
func (p *PostgresServer) DSN(db string) string {
	return fmt.Sprintf("host=%s port=5432 user=remla dbname=%s sslmode=disable", p.Dir, db)
}

// Start starts the server (again, after Stop) and waits until it takes
// connections.
func (p *PostgresServer) Start(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc != nil {
		t.Fatal("PostgreSQL is already running")
	}
	cmd := exec.Command(filepath.Join(p.bin, "postgres"), "-D", p.data(),
		"-c", "listen_addresses=", "-c", "unix_socket_directories="+p.Dir, "-c", "port=5432",
		"-c", "max_connections=100", "-c", "shared_buffers=32MB", "-c", "log_min_messages=warning")
	// Pdeathsig: if the test binary dies, so does its server.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred, Pdeathsig: syscall.SIGQUIT}
	p.proc = Start(t, "postgres", cmd)
	// A fast shutdown at the end, before the harness's SIGTERM (a smart
	// shutdown, which would wait for every session).
	t.Cleanup(func() { p.Stop(t) })
	isready := filepath.Join(p.bin, "pg_isready")
	WaitFor(t, "postgres to take connections", 30*time.Second, 50*time.Millisecond, []*Process{p.proc}, func() (bool, error) {
		out, err := exec.Command(isready, "-h", p.Dir, "-p", "5432", "-U", "remla", "-d", "postgres").CombinedOutput()
		if err != nil {
			return false, fmt.Errorf("pg_isready: %v: %s", err, bytes.TrimSpace(out))
		}
		return true, nil
	})
}

// Stop shuts the server down (fast shutdown: open sessions are ended,
// committed data is kept) and waits for it.
func (p *PostgresServer) Stop(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc == nil {
		return
	}
	p.proc.Signal(syscall.SIGINT)
	select {
	case <-p.proc.Done():
	case <-time.After(30 * time.Second):
		p.proc.Signal(syscall.SIGKILL)
		<-p.proc.Done()
	}
	p.proc = nil
}

// CreateDatabase makes an empty database on the server and returns its DSN,
// so that tests sharing one server do not see each other's rows.
func (p *PostgresServer) CreateDatabase(t testing.TB, name string) string {
	t.Helper()
	psql := filepath.Join(p.bin, "psql")
	if _, err := os.Stat(psql); err != nil {
		psql = "psql"
	}
	out, err := exec.Command(psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", p.DSN("postgres"),
		"-c", fmt.Sprintf(`CREATE DATABASE %q`, name)).CombinedOutput()
	if err != nil {
		t.Fatalf("create database %s: %v\n%s", name, err, out)
	}
	return p.DSN(name)
}

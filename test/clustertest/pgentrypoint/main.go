// Command pgentrypoint is the entrypoint of the test cluster's PostgreSQL
// image (clustertest.PostgresImage), which packs Debian's server programs
// with no shell. It keeps the official postgres image's contract, which the
// chart relies on: on first start, an empty $PGDATA is initialised with
// $POSTGRES_USER, $POSTGRES_PASSWORD and $POSTGRES_DB, password
// authentication over TCP; then the server runs in the foreground. SIGTERM
// (what Kubernetes sends) becomes PostgreSQL's fast shutdown, SIGINT: the
// official image gets the same with STOPSIGNAL SIGINT, since PostgreSQL's own
// answer to SIGTERM, a smart shutdown, waits for every client to leave, and
// the colors' connection pools never do.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
)

const bin = "/usr/lib/postgresql/15/bin"

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "pgentrypoint: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	data := env("PGDATA", "/var/lib/postgresql/data")
	user := env("POSTGRES_USER", "postgres")
	db := env("POSTGRES_DB", user)
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); os.IsNotExist(err) {
		if err := initialise(data, user, db); err != nil {
			return err
		}
	}
	// LISTEN_ADDRESSES lets a test on the host run the image on loopback
	// only (and PGPORT, which postgres reads itself, on a free port).
	pg := exec.Command(filepath.Join(bin, "postgres"), "-D", data,
		"-c", "listen_addresses="+env("LISTEN_ADDRESSES", "*"), "-c", "unix_socket_directories=/var/run/postgresql")
	pg.Stdout, pg.Stderr = os.Stdout, os.Stderr
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	if err := pg.Start(); err != nil {
		return err
	}
	go func() {
		for range sigs {
			pg.Process.Signal(syscall.SIGINT)
		}
	}()
	if err := pg.Wait(); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

func initialise(data, user, db string) error {
	pw := os.Getenv("POSTGRES_PASSWORD")
	if pw == "" {
		return fmt.Errorf("POSTGRES_PASSWORD is empty; the chart sets it from its Secret")
	}
	if err := os.MkdirAll(data, 0o700); err != nil {
		return err
	}
	pwfile := filepath.Join(os.TempDir(), "pgpass")
	if err := os.WriteFile(pwfile, []byte(pw+"\n"), 0o600); err != nil {
		return err
	}
	defer os.Remove(pwfile)
	if err := command(nil, "initdb", "-D", data, "-U", user, "--pwfile", pwfile, "-E", "UTF8", "--locale", "C",
		"-A", "scram-sha-256", "--auth-local", "trust"); err != nil {
		return err
	}
	hba, err := os.OpenFile(filepath.Join(data, "pg_hba.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := hba.WriteString("host all all all scram-sha-256\n"); err != nil {
		return err
	}
	if err := hba.Close(); err != nil {
		return err
	}
	if db == "postgres" {
		return nil
	}
	// Single-user mode creates the database without opening a socket.
	return command(strings.NewReader(fmt.Sprintf("CREATE DATABASE %q;\n", db)), "postgres", "--single", "-D", data, "postgres")
}

func command(stdin *strings.Reader, name string, args ...string) error {
	cmd := exec.Command(filepath.Join(bin, name), args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if stdin != nil {
		cmd.Stdin = stdin
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

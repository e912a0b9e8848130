package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/remla/tagger/app"
)

// signingKeys returns the keys that sign and check prediction ids, and
// where they came from. In order: -signing-key-file, REMLA_SIGNING_KEY,
// and, for the SQLite store only, a key generated once into signing.key
// beside the database. A shared store without a key is refused: replicas
// that each made their own key would refuse each other's ids.
func signingKeys(c *config, getenv func(string) string) ([][]byte, string, error) {
	if c.keyFile != "" {
		b, err := os.ReadFile(c.keyFile)
		if err != nil {
			return nil, "", fmt.Errorf("-signing-key-file: %w", err)
		}
		keys, err := parseKeys(b)
		if err != nil {
			return nil, "", fmt.Errorf("-signing-key-file %s: %w", c.keyFile, err)
		}
		return keys, c.keyFile, nil
	}
	if v := getenv("REMLA_SIGNING_KEY"); v != "" {
		keys, err := parseKeys([]byte(strings.ReplaceAll(v, ",", "\n")))
		if err != nil {
			return nil, "", fmt.Errorf("REMLA_SIGNING_KEY: %w", err)
		}
		return keys, "REMLA_SIGNING_KEY", nil
	}
	if c.dsn != "" {
		return nil, "", errors.New("-feedback-dsn needs the signing key every replica shares: pass -signing-key-file (or REMLA_SIGNING_KEY); make one with: head -c 32 /dev/urandom | base64")
	}
	path := filepath.Join(filepath.Dir(c.dbPath), "signing.key")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		b, err = generateKey(path)
	}
	if err != nil {
		return nil, "", fmt.Errorf("signing key beside the feedback database: %w", err)
	}
	keys, err := parseKeys(b)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	return keys, path, nil
}

// parseKeys reads one key a line; blank lines and # comments are skipped.
func parseKeys(b []byte) ([][]byte, error) {
	var keys [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		if len(line) < app.MinSigningKeyLen {
			return nil, fmt.Errorf("key %d is %d characters; use at least %d random ones (head -c 32 /dev/urandom | base64)", len(keys)+1, len(line), app.MinSigningKeyLen)
		}
		keys = append(keys, append([]byte(nil), line...))
	}
	if len(keys) == 0 {
		return nil, errors.New("no key in it; put one key a line (head -c 32 /dev/urandom | base64)")
	}
	return keys, nil
}

// generateKey writes a new random key to path, readable by its owner only.
// It is written aside and linked into place, so a second process starting
// at the same moment reads either no file or the whole key, and keeps the
// first one written.
func generateKey(path string) ([]byte, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var raw [32]byte
	rand.Read(raw[:])
	key := []byte(base64.StdEncoding.EncodeToString(raw[:]) + "\n")
	f, err := os.CreateTemp(dir, ".signing.key-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(key); err != nil {
		f.Close()
		return nil, err
	}
	if err := errors.Join(f.Chmod(0o600), f.Sync(), f.Close()); err != nil {
		return nil, err
	}
	if err := os.Link(f.Name(), path); errors.Is(err, os.ErrExist) {
		return os.ReadFile(path)
	} else if err != nil {
		return nil, err
	}
	return key, nil
}

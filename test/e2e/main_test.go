package e2e_test

import (
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/remla/tagger/test/testenv"
)

// repoRoot is the module root, two levels up from test/e2e.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func TestMain(m *testing.M) { testenv.Main(m) }

var httpClient = &http.Client{Timeout: 5 * time.Second}

package app

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/remla/tagger/test/testenv"
)

// TestAppBinaryLinksNoKubernetes keeps Helm and client-go out of remla-app:
// they belong to the deployer, and would triple the binary.
func TestAppBinaryLinksNoKubernetes(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		testenv.Need(t, "the go command is not on PATH")
	}
	out, err := exec.Command(goBin, "list", "-deps", "github.com/remla/tagger/cmd/remla-app").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 || !contains(deps, "github.com/gin-gonic/gin") {
		t.Fatalf("go list -deps gave an unexpected list (%d packages)", len(deps))
	}
	for _, d := range deps {
		if strings.HasPrefix(d, "helm.sh/") || strings.HasPrefix(d, "k8s.io/") || strings.HasPrefix(d, "sigs.k8s.io/") {
			t.Errorf("remla-app depends on %s", d)
		}
	}
}

func contains(xs []string, x string) bool {
	for _, e := range xs {
		if e == x {
			return true
		}
	}
	return false
}

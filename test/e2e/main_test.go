package e2e_test

import (
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/remla/tagger/deployer"
	"github.com/remla/tagger/test/clustertest"
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

// postgresDeployer is an operator's Deployer of ns whose releases keep
// their answers in a real PostgreSQL in the namespace, shared by both
// colors.
func postgresDeployer(t *testing.T, kubeconfig, ns string) (*deployer.Deployer, *deployer.Config) {
	t.Helper()
	cfg := deployer.DefaultConfig()
	cfg.Values = clustertest.WithPostgres(t)
	d, err := deployer.New(deployer.Options{Kubeconfig: kubeconfig, Namespace: ns, Identity: "operator:e2e", Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	return d, cfg
}

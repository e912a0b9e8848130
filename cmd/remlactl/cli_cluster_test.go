package main

// End-to-end tests of the remlactl binary on the test cluster: exit codes,
// the one-line errors and the output formats an operator or script relies on.

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/remla/tagger/deployer"
	"github.com/remla/tagger/test/clustertest"
	"github.com/remla/tagger/test/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, kubeconfig, ns string, args ...string) result {
	t.Helper()
	full := append([]string{"--kubeconfig", kubeconfig, "-n", ns}, args...)
	cmd := exec.Command(testenv.Binary(t, "remlactl"), full...)
	cmd.Env = append(os.Environ(), "REMLA_CONFIG="+clustertest.ConfigFile(t))
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	r := result{stdout: o.String(), stderr: e.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	t.Logf("remlactl %s -> %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	return r
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestRemlactlOnCluster(t *testing.T) {
	t.Parallel()
	kc := clustertest.Kubeconfig(t)
	ns := clustertest.Namespace(t)
	// 9.0.0 is not imported: its pull fails for real.
	clustertest.AppImage(t, clustertest.Good, "1.0.0", "2.0.0")

	if r := run(t, kc, ns, "init", "1.0.0", "--timeout", "3m"); r.code != 0 || !strings.Contains(r.stdout, "blue runs 1.0.0") {
		t.Fatalf("init: %+v", r)
	}
	r := run(t, kc, ns, "deploy", "green", "2.0.0", "--timeout", "3m")
	if r.code != 0 || !strings.Contains(r.stdout, "green runs 2.0.0 and has the traffic") {
		t.Fatalf("deploy green: %+v", r)
	}
	// Off a terminal the logger writes JSON (cmd/internal/logging): one record a line.
	if !strings.Contains(r.stderr, `"msg":"rollout"`) || !strings.Contains(r.stderr, `"ready":2,"desired":2`) || strings.Contains(r.stderr, "\r") {
		t.Errorf("off a terminal the progress must be plain log lines: %q", r.stderr)
	}

	// A version whose image cannot be pulled: exit 3 well before the
	// timeout, the pods and why, traffic stays.
	r = run(t, kc, ns, "deploy", "blue", "9.0.0", "--pod-label", "remla.test/never-ready=true", "--replicas", "1", "--timeout", "3m")
	line := lastLine(r.stderr)
	if r.code != 3 || !strings.HasPrefix(line, "remlactl: blue 9.0.0 failed after") || !strings.Contains(line, "cannot be pulled") ||
		!strings.Contains(line, "pod remla-blue-") || !strings.Contains(line, "ImagePull") || !strings.Contains(line, "traffic stays on green") { // ErrImagePull, then ImagePullBackOff
		t.Errorf("never-ready deploy: exit %d, last line %q", r.code, line)
	}

	r = run(t, kc, ns, "status", "-o", "json")
	var st deployer.State
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || r.code != 0 {
		t.Fatalf("status -o json: %v %+v", err, r)
	}
	if st.Active != deployer.Green || st.Colors[deployer.Blue].Standing.Phase != deployer.Failed || st.Colors[deployer.Blue].Version != "9.0.0" ||
		st.Colors[deployer.Green].Ready != 2 || st.Colors[deployer.Green].Rollout != "complete" {
		t.Errorf("status after the failed deploy: %+v", st)
	}
	if r := run(t, kc, ns, "status"); r.code != 0 || !strings.Contains(r.stdout, "green  active") || !strings.Contains(r.stdout, "1 old replicas are pending termination") {
		t.Errorf("status table: %+v", r)
	}
	if r := run(t, kc, ns, "status", "-o", "yaml"); r.code != 0 || !strings.Contains(r.stdout, "active: green") {
		t.Errorf("status yaml: %+v", r)
	}

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"undeploy", "green"}, 1, "green serves traffic; switch to blue first"},
		{[]string{"switch", "purple"}, 2, `unknown color "purple": use blue or green`},
		{[]string{"deploy", "green"}, 2, "deploy needs 2 argument(s)"},
		{[]string{"switch", "green"}, 0, ""},
		{[]string{"switch", "blue", "--reason", "cli test"}, 0, ""},
		{[]string{"switch", "green"}, 0, ""},
	} {
		r := run(t, kc, ns, tc.args...)
		if r.code != tc.code || (tc.want != "" && (!strings.Contains(r.stderr, tc.want) || strings.Count(r.stderr, "\n") != 1)) {
			t.Errorf("%v: exit %d stderr %q, want exit %d and one line with %q", tc.args, r.code, r.stderr, tc.code, tc.want)
		}
	}

	r = run(t, kc, ns, "history", "-o", "json")
	var all, h []deployer.Record
	if err := json.Unmarshal([]byte(r.stdout), &all); err != nil {
		t.Fatal(err)
	}
	for _, rec := range all {
		if rec.Kind() == deployer.EventSwitched {
			h = append(h, rec)
		}
	}
	if len(h) != 4 || h[0].To != deployer.Green || h[1].Reason != "cli test" || h[2].Reason != "deploy 2.0.0" || h[3].Reason != "init 1.0.0" {
		t.Errorf("history newest first: %+v", h)
	}
	if r := run(t, kc, ns, "history"); !strings.Contains(r.stdout, "cli test") || !strings.HasPrefix(r.stdout, "TIME") {
		t.Errorf("history table: %q", r.stdout)
	}
	if r := run(t, kc, ns, "undeploy", "blue"); r.code != 0 {
		t.Errorf("undeploy standby blue: %+v", r)
	}

	// Clear errors: missing namespace, unreachable cluster.
	if r := run(t, kc, ns+"-nope", "status"); r.code != 1 || !strings.Contains(r.stderr, "does not exist: create it") {
		t.Errorf("missing namespace: %+v", r)
	}
	bad := filepath.Join(t.TempDir(), "kubeconfig")
	os.WriteFile(bad, []byte("apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: \"https://127.0.0.1:1\"}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\nusers: [{name: u, user: {token: x}}]\ncurrent-context: c\n"), 0o600)
	if r := run(t, bad, "default", "status"); r.code != 1 || !strings.Contains(r.stderr, "cannot reach the Kubernetes API server") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("unreachable cluster: %+v", r)
	}
}

// TestHelp: every command documents itself with examples and the common flags.
func TestHelp(t *testing.T) {
	for _, c := range []string{"init", "deploy", "switch", "rollback", "undeploy", "status", "history"} {
		out, err := exec.Command(testenv.Binary(t, "remlactl"), c, "--help").CombinedOutput()
		if err != nil {
			t.Fatalf("%s --help: %v", c, err)
		}
		for _, want := range []string{"Examples:", "--kubeconfig", "--context", "-n, --namespace", "--timeout", "--config"} {
			if !bytes.Contains(out, []byte(want)) {
				t.Errorf("%s --help lacks %q", c, want)
			}
		}
	}
}

// TestForbidden: a user without RBAC permissions gets one line saying so.
func TestForbidden(t *testing.T) {
	t.Parallel()
	ns := clustertest.Namespace(t)
	cs := clustertest.Client(t)
	ctx := t.Context()
	if _, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "nobody"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tok, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "nobody", &authv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rc := clustertest.RESTConfig(t)
	kc := clientcmdapi.NewConfig()
	kc.Clusters["c"] = &clientcmdapi.Cluster{Server: rc.Host, CertificateAuthorityData: rc.CAData, CertificateAuthority: rc.CAFile}
	kc.AuthInfos["nobody"] = &clientcmdapi.AuthInfo{Token: tok.Status.Token}
	kc.Contexts["nobody"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "nobody"}
	kc.CurrentContext = "nobody"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"status"}, {"switch", "green"}, {"deploy", "green", "1", "--no-switch"}} {
		r := run(t, path, ns, args...)
		if r.code != 1 || !strings.HasPrefix(r.stderr, "remlactl: permission denied: ") || !strings.Contains(r.stderr, "nobody") ||
			!strings.Contains(r.stderr, "ask a cluster admin") || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%v without RBAC: %+v", args, r)
		}
	}
}

package controlplane

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"slices"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
)

func TestPKI(t *testing.T) {
	dir := t.TempDir()
	p, err := writePKI(dir)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	caPEM, err := os.ReadFile(p.CACert)
	if err != nil {
		t.Fatal(err)
	}
	pool.AppendCertsFromPEM(caPEM)
	load := func(certPath, keyPath string) *x509.Certificate {
		t.Helper()
		pair, err := tls.LoadX509KeyPair(certPath, keyPath)
		if err != nil {
			t.Fatalf("load %s: %v", certPath, err)
		}
		return pair.Leaf
	}

	serving := load(p.ServingCert, p.ServingKey)
	for _, host := range []string{"127.0.0.1", "localhost", "kubernetes.default.svc", serviceIP} {
		_, err := serving.Verify(x509.VerifyOptions{DNSName: host, Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		if err != nil {
			t.Errorf("serving certificate for %s: %v", host, err)
		}
	}
	if _, err := serving.Verify(x509.VerifyOptions{DNSName: "example.com", Roots: pool}); err == nil {
		t.Errorf("serving certificate verifies for example.com; want only the cluster's names")
	}

	admin := load(p.AdminCert, p.AdminKey)
	if _, err := admin.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("admin client certificate: %v", err)
	}
	if !slices.Contains(admin.Subject.Organization, AdminGroup) {
		t.Errorf("admin certificate groups %v, want %s", admin.Subject.Organization, AdminGroup)
	}

	kc, err := kubeconfig("https://127.0.0.1:6443", p)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.Load(kc)
	if err != nil {
		t.Fatalf("kubeconfig does not parse: %v", err)
	}
	rest, err := clientcmd.NewDefaultClientConfig(*cfg, nil).ClientConfig()
	if err != nil {
		t.Fatalf("kubeconfig gives no client configuration: %v", err)
	}
	if rest.Host != "https://127.0.0.1:6443" || len(rest.CAData) == 0 || len(rest.CertData) == 0 || len(rest.KeyData) == 0 {
		t.Errorf("client configuration host %q, CA %d bytes, cert %d, key %d; want the server and embedded certificates",
			rest.Host, len(rest.CAData), len(rest.CertData), len(rest.KeyData))
	}
}

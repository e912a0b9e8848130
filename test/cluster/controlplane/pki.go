package controlplane

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// pki holds the paths of the cluster's certificates and keys.
type pki struct {
	CACert, CAKey           string
	ServingCert, ServingKey string
	AdminCert, AdminKey     string
	NodeCert, NodeKey       string
	ProxyCert, ProxyKey     string
	SAKey, SAPub            string
}

func pkiPaths(dir string) pki {
	j := func(name string) string { return filepath.Join(dir, name) }
	return pki{
		CACert: j("ca.crt"), CAKey: j("ca.key"),
		ServingCert: j("apiserver.crt"), ServingKey: j("apiserver.key"),
		AdminCert: j("admin.crt"), AdminKey: j("admin.key"),
		NodeCert: j("node.crt"), NodeKey: j("node.key"),
		ProxyCert: j("kube-proxy.crt"), ProxyKey: j("kube-proxy.key"),
		SAKey: j("sa.key"), SAPub: j("sa.pub"),
	}
}

// AdminGroup is the group of the admin client certificate: RBAC lets it do
// anything.
const AdminGroup = "system:masters"

// writePKI makes a fresh CA, the apiserver serving certificate (valid for
// 127.0.0.1, localhost and the in-cluster names), the client certificates of
// the admin, the real node's kubelet (user system:node:NAME in group
// system:nodes, which the Node authorizer knows) and kube-proxy (user
// system:kube-proxy, bound to system:node-proxier by default), and the
// service-account key pair into dir.
func writePKI(dir string) (pki, error) {
	p := pkiPaths(dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return p, fmt.Errorf("create %s: %w", dir, err)
	}
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return p, fmt.Errorf("generate CA key: %w", err)
	}
	caTmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: "remla-test-ca"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(1, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, ca, err := sign(caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return p, fmt.Errorf("self-sign CA: %w", err)
	}
	if err := writeCertKey(p.CACert, p.CAKey, caDER, caKey); err != nil {
		return p, err
	}

	leaf := func(certPath, keyPath string, tmpl *x509.Certificate) error {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return fmt.Errorf("generate key for %s: %w", certPath, err)
		}
		tmpl.NotBefore, tmpl.NotAfter = now.Add(-time.Hour), now.AddDate(1, 0, 0)
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		der, _, err := sign(tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			return fmt.Errorf("sign %s: %w", certPath, err)
		}
		return writeCertKey(certPath, keyPath, der, key)
	}
	err = leaf(p.ServingCert, p.ServingKey, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "kube-apiserver"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP(serviceIP)},
		DNSNames: []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
			"kubernetes.default.svc.cluster.local"},
	})
	if err != nil {
		return p, err
	}
	err = leaf(p.AdminCert, p.AdminKey, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "remla-admin", Organization: []string{AdminGroup}},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return p, err
	}
	err = leaf(p.NodeCert, p.NodeKey, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "system:node:" + RealNodeName, Organization: []string{"system:nodes"}},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return p, err
	}
	err = leaf(p.ProxyCert, p.ProxyKey, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "system:kube-proxy"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return p, err
	}

	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return p, fmt.Errorf("generate service-account key: %w", err)
	}
	if err := writeKey(p.SAKey, saKey); err != nil {
		return p, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return p, fmt.Errorf("encode service-account public key: %w", err)
	}
	if err := writePEM(p.SAPub, "PUBLIC KEY", pubDER, 0o644); err != nil {
		return p, err
	}
	return p, nil
}

// serviceIP is the first address of the service range (ServiceCIDR), which
// the apiserver gives to the kubernetes Service.
const serviceIP = "198.19.0.1"

func sign(tmpl, parent *x509.Certificate, pub crypto.PublicKey, parentKey crypto.Signer) ([]byte, *x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, nil, err
	}
	tmpl.SerialNumber = serial
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return der, cert, err
}

func writeCertKey(certPath, keyPath string, der []byte, key crypto.Signer) error {
	if err := writePEM(certPath, "CERTIFICATE", der, 0o644); err != nil {
		return err
	}
	return writeKey(keyPath, key)
}

func writeKey(path string, key crypto.Signer) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("encode key %s: %w", path, err)
	}
	return writePEM(path, "PRIVATE KEY", der, 0o600)
}

func writePEM(path, kind string, der []byte, mode os.FileMode) error {
	data := pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})
	if err := os.WriteFile(path, data, mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// kubeconfig renders a kubeconfig for the admin user with the certificates
// embedded, so the file works wherever it is copied.
func kubeconfig(server string, p pki) ([]byte, error) {
	return kubeconfigFor(server, p.CACert, p.AdminCert, p.AdminKey)
}

// kubeconfigFor renders a kubeconfig for the client certificate certPath.
func kubeconfigFor(server, caPath, certPath, keyPath string) ([]byte, error) {
	read := func(path string) (string, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("read %s: %w", path, err)
		}
		return base64.StdEncoding.EncodeToString(b), nil
	}
	ca, err := read(caPath)
	if err != nil {
		return nil, err
	}
	cert, err := read(certPath)
	if err != nil {
		return nil, err
	}
	key, err := read(keyPath)
	if err != nil {
		return nil, err
	}
	return fmt.Appendf(nil, `apiVersion: v1
kind: Config
clusters:
- name: remla-test
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: remla-admin
  user:
    client-certificate-data: %s
    client-key-data: %s
contexts:
- name: remla-test
  context:
    cluster: remla-test
    user: remla-admin
    namespace: default
current-context: remla-test
`, server, ca, cert, key), nil
}

package alert

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/remla/tagger/test/testenv"
)

// TestServeTLSAndShutdown serves HTTPS on a real socket, takes a webhook
// through it, and stops cleanly when the context ends.
func TestServeTLSAndShutdown(t *testing.T) {
	certFile, keyFile, pool := testenv.SelfSignedCert(t, t.TempDir())
	f := greenBad(t, "remla")
	s := newTestServer(t, Options{Token: testToken, ReconcileInterval: 10 * time.Millisecond}, f)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, certFile, keyFile) }()

	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	req, _ := http.NewRequest("POST", "https://"+ln.Addr().String()+"/webhook", bytes.NewReader(fixture(t, "firing.json")))
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("webhook over TLS: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || f.selector() != "blue" {
		t.Fatalf("webhook over TLS: %d, active %s", resp.StatusCode, f.selector())
	}
	// Plain HTTP to the TLS port is refused.
	if resp, err := http.Get("http://" + ln.Addr().String() + "/healthz"); err == nil {
		if resp.StatusCode == 200 {
			t.Error("plain HTTP answered 200 on the TLS port")
		}
		resp.Body.Close()
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve returned %v after shutdown, want nil", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
}

func TestServeNeedsCertAndKeyTogether(t *testing.T) {
	s := newTestServer(t, Options{}, greenBad(t, "remla"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := s.Serve(context.Background(), ln, "cert.pem", ""); err == nil {
		t.Fatal("Serve with a certificate but no key: want an error")
	}
}

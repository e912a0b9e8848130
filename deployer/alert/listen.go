package alert

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// shutdownGrace is how long in-flight notifications may finish on shutdown.
const shutdownGrace = 10 * time.Second

// Serve answers on ln until ctx ends, then shuts down gracefully. With
// certFile and keyFile set it serves HTTPS.
func (s *Server) Serve(ctx context.Context, ln net.Listener, certFile, keyFile string) error {
	if (certFile == "") != (keyFile == "") {
		return errors.New("TLS needs both a certificate and a key: pass --tls-cert and --tls-key together")
	}
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      s.opts.Timeout + 30*time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	errc := make(chan error, 1)
	go func() {
		if certFile != "" {
			errc <- hs.ServeTLS(ln, certFile, keyFile)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	scheme := "http"
	if certFile != "" {
		scheme = "https"
	}
	s.log.Info("alert actor listening", "url", fmt.Sprintf("%s://%s%s", scheme, ln.Addr(), s.opts.Path),
		"dryRun", s.opts.DryRun, "auth", s.opts.Token != "", "namespaces", s.order, "acceptUnscoped", s.opts.AcceptUnscoped)
	rctx, stopReconcile := context.WithCancel(ctx)
	reconciled := make(chan struct{})
	go func() { defer close(reconciled); s.reconcile(rctx) }()
	defer func() { stopReconcile(); <-reconciled }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving the alert actor on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutting down the alert actor: %w", err)
	}
	s.log.Info("alert actor stopped")
	return nil
}

// ListenAndServe listens on addr (e.g. ":8081") and calls Serve.
func (s *Server) ListenAndServe(ctx context.Context, addr, certFile, keyFile string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w (is another actor running? choose another --listen)", addr, err)
	}
	return s.Serve(ctx, ln, certFile, keyFile)
}

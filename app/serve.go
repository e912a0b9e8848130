package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Serve answers HTTP on ln until ctx is done, then shuts down gracefully:
// it stops accepting connections, lets in-flight requests finish (for at
// most grace), and closes the feedback store so everything is on disk. It
// returns nil after a clean shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       90 * time.Second,
		// net/http's own complaints (bad TLS, broken connections) go to slog too.
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	s.log.Info("listening", "addr", ln.Addr().String(), "model_version", s.version, "color", s.cfg.Color)

	var serveErr error
	select {
	case <-ctx.Done():
		s.log.Info("shutting down: finishing in-flight requests", "grace", grace.String())
	case serveErr = <-served:
		s.log.Error("server stopped", "err", serveErr)
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	shutErr := srv.Shutdown(sctx)
	if shutErr != nil {
		shutErr = fmt.Errorf("shut down within %s: %w", grace, shutErr)
	}
	storeErr := s.cfg.Store.Close()
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return errors.Join(fmt.Errorf("serve on %s: %w", ln.Addr(), serveErr), shutErr, storeErr)
	}
	if err := errors.Join(shutErr, storeErr); err != nil {
		return err
	}
	s.log.Info("stopped cleanly; feedback store closed")
	return nil
}

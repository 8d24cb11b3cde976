package integrated

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server runs a Connector with its HTTPS listener: UEM notifications and
// the ctl endpoints (Handler).
type Server struct {
	conn   *Connector
	ln     net.Listener
	http   *http.Server
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Listen binds addr (TLS with cert) for c. Nothing runs until Run.
func Listen(c *Connector, addr string, cert tls.Certificate) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("integrated: listen %s: %w", addr, err)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	return &Server{conn: c, ln: tls.NewListener(ln, tc),
		http: &http.Server{Handler: c.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second}}, nil
}

// URL is the listener's base URL (https://host:port).
func (s *Server) URL() string { return "https://" + s.ln.Addr().String() }

// NotifyURL is where the UEM posts notifications.
func (s *Server) NotifyURL() string { return s.URL() + NotificationPath }

// Run serves and runs the connector's syncs until Shutdown.
func (s *Server) Run(ctx context.Context) {
	ctx, s.cancel = context.WithCancel(ctx)
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		if err := s.http.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.conn.cfg.Log.Error("integrated: serving", "error", err)
		}
	}()
	go func() {
		defer s.wg.Done()
		_ = s.conn.Run(ctx)
	}()
}

// Shutdown stops the syncs and the listener.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.cancel != nil {
		s.cancel()
	}
	err := s.http.Shutdown(ctx)
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.conn.cfg.UEM.CloseIdleConnections()
	s.conn.cfg.ExchangeHTTP.CloseIdleConnections()
	return err
}

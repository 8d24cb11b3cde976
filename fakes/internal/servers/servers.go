// Package servers runs a fake's HTTP servers: the same TLS configuration
// and timeouts for each, serve errors logged, one Shutdown for all.
package servers

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Group is the HTTP servers of one fake.
type Group struct {
	TLS         *tls.Config // nil: plain HTTP
	Log         *slog.Logger
	Name        string        // of the fake, in log messages ("uem")
	IdleTimeout time.Duration // of keep-alive connections

	mu   sync.Mutex
	srvs []*http.Server
	wg   sync.WaitGroup
}

// Serve serves h on ln, under TLS when the Group has it, until Shutdown.
func (g *Group) Serve(ln net.Listener, h http.Handler) { g.serve(ln, h, g.TLS) }

// ServePlain serves h on ln in plain HTTP (a CRL distribution point).
func (g *Group) ServePlain(ln net.Listener, h http.Handler) { g.serve(ln, h, nil) }

func (g *Group) serve(ln net.Listener, h http.Handler, tc *tls.Config) {
	srv := &http.Server{
		Handler:           h,
		TLSConfig:         tc,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       g.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(g.Log.Handler(), slog.LevelDebug),
	}
	if tc != nil {
		ln = tls.NewListener(ln, tc)
	}
	g.mu.Lock()
	g.srvs = append(g.srvs, srv)
	g.mu.Unlock()
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			g.Log.Error(g.Name+": serve", "addr", ln.Addr().String(), "error", err)
		}
	}()
}

// Shutdown stops every server gracefully, waiting for in-flight requests
// until ctx is done, and returns when they have all stopped serving.
func (g *Group) Shutdown(ctx context.Context) error {
	g.mu.Lock()
	srvs := g.srvs
	g.srvs = nil
	g.mu.Unlock()
	errs := make([]error, 0, len(srvs))
	for _, srv := range srvs {
		errs = append(errs, srv.Shutdown(ctx))
	}
	g.wg.Wait()
	return errors.Join(errs...)
}

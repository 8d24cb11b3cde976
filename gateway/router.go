package gateway

import (
	"context"

	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/gateway/upstream"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// currentRouter is the router of the moment, nil until the UEM names
// ActiveSync servers.
func (s *Server) currentRouter() *upstream.Router {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.router
}

// rememberRedirect keeps the 451 location the router followed for a
// device in its cache entry (RDR-04), or forgets a failed one.
func (s *Server) rememberRedirect(_ context.Context, d upstream.Device, url string) {
	s.cache.Update(devicecache.Key{DeviceID: d.ID, User: d.User}, func(e *devicecache.Entry, exists bool) bool {
		if !exists || e.RedirectURL == url {
			return false
		}
		e.RedirectURL = url
		return true
	})
}

// applyServers routes to the ActiveSync servers the UEM configured:
// the router of the moment is updated, or replaced (with a new server
// pool) when the outgoing TLS settings changed (TLS-08).
func (s *Server) applyServers(c uemapi.GatewayConfig) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sameTLS := sameOutgoing(c.TLS, s.outTLS)
	if s.router != nil && sameTLS {
		return s.router.Update(c.ActiveSync, c.Servers, c.Timeouts)
	}
	if s.runCtx.Err() != nil {
		return ErrStopped // Shutdown is waiting for the background work: start none
	}
	out, err := s.outgoingTLS(c.TLS)
	if err != nil {
		return err
	}
	r, err := upstream.New(c.ActiveSync, c.Servers, c.Timeouts, upstream.Options{TLSConfig: out, SNI: c.TLS.OutgoingSNI, HTTP2: s.cfg.UpstreamHTTP2, NoH1Pool: !s.cfg.UpstreamH1Pool, OnRedirect: s.rememberRedirect, Log: s.log, PingMargin: s.cfg.PingMargin})
	if err != nil {
		return err
	}
	if s.routerStop != nil {
		s.routerStop() // the outgoing TLS settings changed: a new pool replaces the old
	}
	s.router, s.outTLS = r, c.TLS
	s.as.SetRouter(r)
	runCtx, stop := context.WithCancel(s.runCtx)
	s.routerStop = stop
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = r.Run(runCtx)
		// Replaced or shut down: close its idle server connections (one
		// dialled for a cancelled request never carries one, and a server's
		// graceful stop waits 5 s for it).
		r.CloseIdleConnections()
	}()
	s.log.Info("ActiveSync services from the UEM configuration", "services", len(c.ActiveSync.Services))
	return nil
}

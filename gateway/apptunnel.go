package gateway

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/apptunnel"
	"github.com/gatehouse-lab/gatehouse/gateway/deviceauth"
	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// appTunnel is the AppTunnel listener beside the device listener
// (docs/apptunnel.md); nil when apptunnel_listen is empty.
type appTunnel struct {
	srv     *apptunnel.Server
	tunnels *apptunnel.Tunnels
	ln      net.Listener
	done    chan struct{}
}

// newAppTunnel builds the tunnel listener when the bootstrap asks for one.
func (s *Server) newAppTunnel() error {
	if s.cfg.AppTunnelListen == "" {
		return nil
	}
	t := &apptunnel.Tunnels{UEM: s.uem, Cache: s.cache, Log: s.log, Journal: func(e devicecache.Entry) {
		if err := s.store.Journal(e); err != nil {
			s.log.Warn("journalling an app tunnel decision", "error", err)
		}
	}}
	srv, err := apptunnel.New(apptunnel.Config{Tunnels: t, UpstreamTLS: s.upTLS, Audit: s.audit, Log: s.log,
		IdleTimeout: s.cfg.AppTunnelIdleTimeout, Stats: s.stats,
		Kerberos: func() apptunnel.Negotiator {
			if k := s.krb.Load(); k != nil {
				return k
			}
			return nil // not a typed nil: no Kerberos configured
		},
		Acceptor: func() apptunnel.Acceptor {
			if k := s.krb.Load(); k != nil {
				return k // the gateway's own keys check apps' tickets (ATS-17)
			}
			return nil
		},
		ServerTLS: &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{s.cert}}})
	if err != nil {
		return fmt.Errorf("gateway: apptunnel: %w", err)
	}
	s.at = &appTunnel{srv: srv, tunnels: t, done: make(chan struct{})}
	return nil
}

// listenAppTunnel binds the tunnel listener (from Listen); with reuse_port
// it shares the port with other gateway processes as the device listener
// does (each tunnel holds two of a process's files: scale-out past one
// process's file limit).
func (s *Server) listenAppTunnel() error {
	if s.at == nil {
		return nil
	}
	ln, err := listenTCP(s.cfg.AppTunnelListen, s.cfg.ReusePort)
	if err != nil {
		return fmt.Errorf("gateway: apptunnel listener: %w", err)
	}
	s.at.ln = ln
	s.addrs["apptunnel"] = ln.Addr().String()
	return nil
}

// startAppTunnel serves the tunnel listener and runs the tunnel resync
// at start and every resync interval (FLOW-12); s.mu is held.
func (s *Server) startAppTunnel(ctx context.Context) {
	if s.at == nil || s.at.ln == nil {
		return
	}
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		defer close(s.at.done)
		if err := s.at.srv.Serve(s.at.ln); err != nil {
			s.log.Error("listener stopped", "listener", "apptunnel", "error", err)
		}
	}()
	go func() {
		defer s.wg.Done()
		every := s.cfg.ResyncInterval
		if every <= 0 {
			every = 12 * time.Hour
		}
		for {
			if res, err := s.at.tunnels.Resync(ctx); err != nil {
				s.log.Warn("app tunnel resync", "error", err)
			} else {
				s.log.Info("app tunnel resync", "listed", res.Listed, "removed", res.Removed, "resolved", res.Resolved)
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(every):
			}
		}
	}()
}

// applyAppTunnel hands the UEM's AppTunnel and traffic-control sections
// and the device authentication to the tunnel listener.
func (s *Server) applyAppTunnel(c uemapi.GatewayConfig, auth *deviceauth.Authenticator) {
	if s.at != nil {
		s.at.srv.SetSettings(apptunnel.Settings{AppTunnel: c.AppTunnel, Traffic: c.TrafficControl, Auth: auth})
	}
}

// stopAppTunnel stops the tunnel listener and its open tunnels.
func (s *Server) stopAppTunnel(ctx context.Context) error {
	if s.at == nil {
		return nil
	}
	if s.at.ln != nil {
		defer s.at.ln.Close()
	}
	return s.at.srv.Shutdown(ctx)
}

// AppTunnelURL is the tunnel listener's proxy URL ("" without one).
func (s *Server) AppTunnelURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.addrs["apptunnel"]; a != "" {
		return "https://" + a
	}
	return ""
}

// AppTunnelMetrics exposes the tunnel listener's counters (nil without one).
func (s *Server) AppTunnelMetrics() *apptunnel.Metrics {
	if s.at == nil {
		return nil
	}
	return s.at.srv.Metrics()
}

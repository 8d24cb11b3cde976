package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/stats"
)

// Listen binds the three listeners without serving yet, so that their
// addresses (ports chosen by the system for ":0") are known before Start,
// e.g. to register the notification URL with the UEM. Start calls it if
// it was not called; a second call does nothing.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.state {
	case stateCreated:
	case stateListening:
		return nil
	default:
		return errState("Listen", s.state)
	}
	lns := map[string]net.Listener{}
	for _, l := range []struct{ name, addr string }{{"device", s.cfg.Listen}, {"notify", s.cfg.NotifyListen}, {"admin", s.cfg.AdminListen}} {
		ln, err := listenTCP(l.addr, l.name == "device" && s.cfg.ReusePort)
		if err != nil {
			for _, o := range lns {
				o.Close()
			}
			return fmt.Errorf("gateway: %s listener: %w", l.name, err)
		}
		if l.name == "device" {
			ln = s.limits.Listener(ln) // connections per minute per source
		}
		lns[l.name] = ln
		s.addrs[l.name] = ln.Addr().String()
	}
	s.lns = lns
	if err := s.listenAppTunnel(); err != nil {
		for _, o := range lns {
			o.Close()
		}
		return err
	}
	s.state = stateListening
	return nil
}

// controlIdleTimeout is how long the notification and admin listeners
// keep an idle keep-alive connection.
const controlIdleTimeout = 2 * time.Minute

func (s *Server) closeListeners() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ln := range s.lns {
		ln.Close()
	}
}

// serve starts an http.Server on each bound listener; s.mu is held.
func (s *Server) serve(handlers map[string]http.Handler, control, device *tls.Config) {
	for name, ln := range s.lns {
		srv := &http.Server{Handler: handlers[name], TLSConfig: control.Clone(), ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
			ConnState: s.fresh.track,
			// The control plane: a whole request (headers 10 s) within
			// ControlReadTimeout; net/http lifts the deadline once the
			// body is in, so a long admin operation is not cut.
			ReadHeaderTimeout: 10 * time.Second, ReadTimeout: s.cfg.ControlReadTimeout, IdleTimeout: controlIdleTimeout}
		if name == "device" {
			ln = s.deviceServer(srv, ln, device)
		}
		s.servers = append(s.servers, srv)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("listener stopped", "listener", name, "error", err)
			}
		}()
	}
}

// deviceServer sets the device listener's TLS and timeouts on srv and
// returns the listener to serve; s.mu is held.
func (s *Server) deviceServer(srv *http.Server, ln net.Listener, device *tls.Config) net.Listener {
	srv.ReadTimeout = 0 // bodies: deviceBodyDeadlines
	srv.TLSConfig = device
	// The Device request timeout bounds the handshake, waiting for a
	// request and an idle keep-alive connection (ASC-23). net/http reads
	// these fields once for the server's life, so they hold a marker the
	// connections replace by the timeout of the moment: a change from the
	// UEM applies to the next wait, without a restart.
	srv.ReadHeaderTimeout, srv.IdleTimeout = requestTimeoutMarker, requestTimeoutMarker
	ln = &requestTimeoutListener{Listener: ln, timeout: func() time.Duration { return time.Duration(s.deviceRequest.Load()) }}
	if s.router != nil {
		// The device side of the advanced timeouts (ASC-20): writes to
		// the device are bounded and counted.
		ln = s.router.DeviceListener(ln)
	}
	// Outermost under TLS: the device's bytes, connections and closes,
	// attributed to its device by the handler through the context.
	ln = s.stats.MeterListener(ln)
	srv.ConnContext = meterContext
	return ln
}

// meterContext puts the connection's stats.ConnMeter in its requests' context.
func meterContext(ctx context.Context, c net.Conn) context.Context {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if m, ok := c.(*stats.ConnMeter); ok {
		return stats.WithConn(ctx, m)
	}
	return ctx
}

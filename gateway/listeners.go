package gateway

import (
	"fmt"
	"net"
	"time"
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
		ln, err := net.Listen("tcp", l.addr)
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

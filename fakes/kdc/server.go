// Package kdc is an in-process fake Kerberos KDC for one realm: AS with
// PA-ENC-TIMESTAMP, TGS, S4U2Self, S4U2Proxy, cross-realm referrals, account
// states, keytab export and fault injection, over UDP and TCP on one port.
package kdc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gatehouse-lab/gatehouse/fakes/faults"
	"github.com/gatehouse-lab/gatehouse/protocol/kerberos"
)

// Server is a running (or startable) fake KDC.
type Server struct {
	cfg Config
	log *slog.Logger
	tgt *entry // krbtgt/REALM

	mu       sync.Mutex
	db       map[string]*entry
	trustOut map[string]*entry // krbtgt/OTHER@REALM, keyed by OTHER
	trustIn  map[string]*entry // krbtgt/REALM@OTHER, keyed by OTHER
	faults   Faults
	stats    Stats
	inj      *faults.Injector // the shared fault layer (fakes/faults), applied per message

	tcp    net.Listener
	udp    net.PacketConn
	cancel context.CancelFunc
	wg     sync.WaitGroup
	conns  map[net.Conn]struct{}
}

// Stats counts requests by kind since Start.
type Stats struct {
	AS, TGS, S4U2Self, S4U2Proxy, Referrals, Errors, UDP, TCP int
}

// New validates cfg and creates the realm's krbtgt with random keys.
func New(cfg Config) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	tgt, err := randomEntry("krbtgt/" + cfg.Realm)
	if err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, log: cfg.Logger.With("component", "fake-kdc", "realm", cfg.Realm), tgt: tgt,
		db: map[string]*entry{}, trustOut: map[string]*entry{}, trustIn: map[string]*entry{}, conns: map[net.Conn]struct{}{},
		inj: faults.New(1)}, nil
}

// FaultInjector is the KDC's injector of the shared fault layer: down and
// reset drop a request (TCP: the connection closes), latency and hang
// hold it, error answers KDC_ERR_SVC_UNAVAILABLE (faults.Injector.Message;
// AdminHandler serves it as JSON). Faults (SetFaults) apply after it.
func (s *Server) FaultInjector() *faults.Injector { return s.inj }

// Realm is the realm this KDC serves.
func (s *Server) Realm() string { return s.cfg.Realm }

// Addr is the bound "host:port" (UDP and TCP share it) once started.
func (s *Server) Addr() string {
	if s.tcp == nil {
		return ""
	}
	return s.tcp.Addr().String()
}

// Port is the bound port number.
func (s *Server) Port() int {
	if s.tcp == nil {
		return 0
	}
	return s.tcp.Addr().(*net.TCPAddr).Port
}

// Stats returns the request counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

func (s *Server) count(f func(*Stats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

// Start binds TCP and UDP on the same port and serves until Shutdown.
func (s *Server) Start(ctx context.Context) error {
	if s.tcp != nil {
		return errors.New("kdc: already started")
	}
	host, port, _ := net.SplitHostPort(s.cfg.Addr)
	var lc net.ListenConfig
	var err error
	for attempt := 0; attempt < 20; attempt++ {
		var tl net.Listener
		tl, err = lc.Listen(ctx, "tcp", s.cfg.Addr)
		if err != nil {
			return fmt.Errorf("kdc: listen tcp %s: %w", s.cfg.Addr, err)
		}
		p := strconv.Itoa(tl.Addr().(*net.TCPAddr).Port)
		var ul net.PacketConn
		ul, err = lc.ListenPacket(ctx, "udp", net.JoinHostPort(host, p))
		if err == nil {
			s.tcp, s.udp = tl, ul
			break
		}
		tl.Close()
		if port != "0" {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("kdc: listen udp on the tcp port: %w", err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.wg.Add(2)
	go s.serveTCP(sctx)
	go s.serveUDP(sctx)
	s.log.Info("fake KDC listening", "addr", s.Addr())
	return nil
}

// Shutdown stops listening, closes open connections and waits for handlers.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.tcp == nil {
		return nil
	}
	s.cancel()
	s.inj.Stop() // held requests end
	s.tcp.Close()
	s.udp.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("kdc: shutdown: %w", ctx.Err())
	}
}

func (s *Server) serveTCP(ctx context.Context) {
	defer s.wg.Done()
	for {
		c, err := s.tcp.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() { s.mu.Lock(); delete(s.conns, c); s.mu.Unlock(); c.Close() }()
			for {
				msg, err := kerberos.ReadFrame(c, kerberos.MaxMessageSize)
				if err != nil {
					return
				}
				s.count(func(st *Stats) { st.TCP++ })
				rep, ok := s.serve(ctx, msg, false)
				if !ok {
					return // fault "down": drop the connection
				}
				if _, err := c.Write(kerberos.FrameTCP(rep)); err != nil {
					return
				}
			}
		}()
	}
}

func (s *Server) serveUDP(ctx context.Context) {
	defer s.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, from, err := s.udp.ReadFrom(buf)
		if err != nil {
			return
		}
		msg := append([]byte(nil), buf[:n]...)
		s.count(func(st *Stats) { st.UDP++ })
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if rep, ok := s.serve(ctx, msg, true); ok {
				s.udp.WriteTo(rep, from)
			}
		}()
	}
}

// serve applies faults, then handles msg. ok=false means send nothing.
func (s *Server) serve(ctx context.Context, msg []byte, udp bool) ([]byte, bool) {
	switch v := s.inj.Message(ctx); {
	case v.Drop:
		return nil, false
	case v.Status != 0:
		return s.errorReply(newErr(errorcode.KDC_ERR_SVC_UNAVAILABLE, "injected fault (status %d)", v.Status), types.PrincipalName{}, ""), true
	}
	f := s.Faults()
	if f.Down {
		return nil, false
	}
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, false
		}
	}
	var rep []byte
	if f.ErrorCode != 0 {
		rep = s.errorReply(newErr(f.ErrorCode, "injected fault"), types.PrincipalName{}, "")
	} else {
		rep = s.Handle(msg)
	}
	if udp && (f.UDPTooBig || len(rep) > s.cfg.MaxUDPReply) {
		rep = s.errorReply(newErr(52, "response too big for UDP, retry with TCP"), types.PrincipalName{}, "")
	}
	return rep, true
}

// Faults are injected misbehaviours, applied to every request.
type Faults struct {
	Down      bool          // no answer: UDP requests are dropped, TCP connections closed
	Delay     time.Duration // every answer is delayed this long
	ErrorCode int32         // every request is answered with this KRB-ERROR code
	UDPTooBig bool          // every UDP request gets KRB_ERR_RESPONSE_TOO_BIG (forcing TCP)
}

// SetFaults replaces the injected faults (the zero value clears them).
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	s.faults = f
	s.mu.Unlock()
}

// Faults returns the injected faults.
func (s *Server) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

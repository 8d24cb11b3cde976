package dns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/gatehouse-lab/gatehouse/fakes/faults"
)

// Server is an authoritative DNS server for the lab's zones.
type Server struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	zones  map[string]bool
	hosts  map[string][]netip.Addr
	srv    map[string][]KDC
	txt    map[string]string
	faults Faults
	stats  Stats
	inj    *faults.Injector // the shared fault layer (fakes/faults), applied per query

	ctx     context.Context
	cancel  context.CancelFunc
	udp     *mdns.Server
	tcp     *mdns.Server
	addr    string
	serving sync.WaitGroup
}

// Faults are injected misbehaviours (KDC-03, KDC-04).
type Faults struct {
	ExtraSRV int           // add this many unreachable KDCs to every SRV answer: huge answers, TC over UDP
	Delay    time.Duration // answer this late
	ServFail bool          // answer SERVFAIL
	Drop     bool          // never answer
}

// Stats counts queries since Start.
type Stats struct {
	Queries, TCP, Truncated int
}

// New validates cfg.
func New(cfg Config) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger.With("component", "fake-dns"), zones: map[string]bool{},
		hosts: map[string][]netip.Addr{}, srv: map[string][]KDC{}, txt: map[string]string{}, inj: faults.New(1)}
	for _, z := range cfg.Zones {
		s.zones[canon(z)] = true
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// Addr is the bound "host:port" (UDP and TCP share it) once started.
func (s *Server) Addr() string { return s.addr }

// FaultInjector is the server's injector of the shared fault layer:
// down and reset drop a query (no answer), latency and hang hold it,
// error answers SERVFAIL (5xx) or REFUSED (4xx) (faults.Injector.Message;
// AdminHandler serves it as JSON). Faults (SetFaults) apply after it.
func (s *Server) FaultInjector() *faults.Injector { return s.inj }

// SetFaults replaces the injected faults (the zero value clears them).
func (s *Server) SetFaults(f Faults) { s.mu.Lock(); s.faults = f; s.mu.Unlock() }

// Faults returns the injected faults.
func (s *Server) Faults() Faults { s.mu.Lock(); defer s.mu.Unlock(); return s.faults }

// Stats returns the query counters.
func (s *Server) Stats() Stats { s.mu.Lock(); defer s.mu.Unlock(); return s.stats }

func (s *Server) count(f func(*Stats)) { s.mu.Lock(); f(&s.stats); s.mu.Unlock() }

// Start binds UDP and TCP on the same port and serves until Shutdown.
func (s *Server) Start(ctx context.Context) error {
	if s.addr != "" {
		return errors.New("dns: already started")
	}
	host, port, _ := net.SplitHostPort(s.cfg.Addr)
	var lc net.ListenConfig
	var tl net.Listener
	var pc net.PacketConn
	var err error
	for attempt := 0; attempt < 20; attempt++ {
		tl, err = lc.Listen(ctx, "tcp", s.cfg.Addr)
		if err != nil {
			return fmt.Errorf("dns: listen tcp %s: %w", s.cfg.Addr, err)
		}
		pc, err = lc.ListenPacket(ctx, "udp", net.JoinHostPort(host, strconv.Itoa(tl.Addr().(*net.TCPAddr).Port)))
		if err == nil {
			break
		}
		tl.Close()
		if port != "0" {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("dns: listen udp on the tcp port: %w", err)
	}
	s.addr = tl.Addr().String()
	s.udp = &mdns.Server{PacketConn: pc, Handler: s}
	s.tcp = &mdns.Server{Listener: tl, Handler: s}
	started := make(chan struct{}, 2)
	for _, srv := range []*mdns.Server{s.udp, s.tcp} {
		srv.NotifyStartedFunc = func() { started <- struct{}{} }
		s.serving.Add(1)
		go func() {
			defer s.serving.Done()
			if err := srv.ActivateAndServe(); err != nil {
				s.log.Debug("dns server stopped", "error", err)
			}
		}()
	}
	for range 2 {
		select {
		case <-started:
		case <-ctx.Done():
			return fmt.Errorf("dns: start: %w", ctx.Err())
		}
	}
	s.log.Info("fake DNS listening", "addr", s.addr)
	return nil
}

// Shutdown stops both listeners and waits for them.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.addr == "" {
		return nil
	}
	s.cancel()
	s.inj.Stop() // held queries end
	var errs []error
	for _, srv := range []*mdns.Server{s.udp, s.tcp} {
		if err := srv.ShutdownContext(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	done := make(chan struct{})
	go func() { s.serving.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, ctx.Err())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("dns: shutdown: %w", err)
	}
	return nil
}

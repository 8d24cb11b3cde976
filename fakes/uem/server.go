// Package uem is the fake UEM: the source of truth for users, devices,
// ActiveSync associations, decisions, policies, preferences and gateway
// configuration. It serves the gateway-facing contract of protocol/uemapi
// (/api/v1), pushes signed notifications to gateway entries, and offers a
// token-authenticated admin API (/admin/v1) with fault injection for
// scenarios. Start it in-process on 127.0.0.1:0 and read back the URLs.
package uem

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-lab/gatehouse/fakes/faults"
	"github.com/gatehouse-lab/gatehouse/fakes/internal/servers"
	"github.com/gatehouse-lab/gatehouse/internal/selfsigned"
)

// Server is a fake UEM.
type Server struct {
	cfg        Config
	log        *slog.Logger
	now        func() time.Time
	st         *store
	notifier   *notifier
	faults     *faultState
	tlsConf    *tls.Config
	certPool   *x509.CertPool
	adminToken string
	pageBufs   sync.Pool // *[]byte buffers of device list pages
	ca         *deviceCA // issues device identity certificates, publishes the CRL
	// reports counts device reports answered (first accesses and
	// re-reports), for load tests that must see none.
	reports atomic.Int64

	mu        sync.Mutex
	started   bool
	gwAddr    string // bound address of the gateway-facing listener
	adminAddr string
	servers   servers.Group // gateway API, admin API, CRL
	cancel    context.CancelFunc
}

// New validates cfg, loads the seed and prepares TLS material. Nothing
// listens until Start.
func New(cfg Config) (*Server, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger, now: cfg.Now, faults: newFaultState(cfg.FaultSeed), adminToken: cfg.AdminToken}
	s.pageBufs.New = func() any { b := make([]byte, 0, 1<<20); return &b }
	var err error
	if s.ca, err = newDeviceCA(cfg.Now, cfg.CRLValidity); err != nil {
		return nil, err
	}
	if s.adminToken == "" {
		s.adminToken = randomHex(24)
	}
	if !cfg.PlainHTTP {
		cert, err := selfsigned.ServerCert(cfg.Certificate, cfg.TLSCertFile, cfg.TLSKeyFile, "gatehouse fake UEM", cfg.Now())
		if err != nil {
			return nil, fmt.Errorf("uem: TLS certificate: %w", err)
		}
		s.tlsConf = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
		s.certPool = selfsigned.Pool(cert)
	}
	s.servers.TLS, s.servers.Log, s.servers.Name, s.servers.IdleTimeout = s.tlsConf, s.log, "uem", 2*time.Minute
	hc := cfg.Notify.HTTPClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: cfg.Notify.RootCAs, InsecureSkipVerify: cfg.Notify.InsecureSkipVerify} //nolint:gosec // opt-in for labs with self-signed gateways
		// HTTP/1.1: a gateway stopping gracefully closes an idle HTTP/1.1
		// connection at once, where it gives an HTTP/2 one a GOAWAY and
		// up to a second to hang up (every lab teardown waited for it).
		tr.ForceAttemptHTTP2 = false
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		hc = &http.Client{Transport: tr}
	}
	s.notifier = newNotifier(cfg.Notify, hc, s.log, s.faults, cfg.Now)
	s.st = newStore(cfg.Now, s.notifier)
	s.notifier.st = s.st
	if cfg.Seed != nil {
		// The seed is the initial state, not a change: nothing to notify.
		s.st.out = nopSink{}
		err := s.st.loadSeed(cfg.Seed)
		s.st.out = s.notifier
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Start listens on the configured addresses and serves until Shutdown or
// until ctx is done (which also stops notification pushes).
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("uem: already started")
	}
	adminLn, err := net.Listen("tcp", s.cfg.AdminAddr)
	if err != nil {
		return fmt.Errorf("uem: admin listener: %w", err)
	}
	// Down (set before Start too) closes this listener and listens again
	// on the same address when cleared.
	gwLn, err := s.faults.Injector().Listen(ctx, "tcp", s.cfg.GatewayAddr)
	if err != nil {
		_ = adminLn.Close()
		return fmt.Errorf("uem: gateway listener: %w", err)
	}
	crlLn, err := net.Listen("tcp", s.cfg.CRLAddr)
	if err != nil {
		_ = adminLn.Close()
		_ = gwLn.Close()
		return fmt.Errorf("uem: CRL listener: %w", err)
	}
	s.ca.mu.Lock()
	s.ca.crlURL = "http://" + crlLn.Addr().String() + CRLPath
	s.ca.mu.Unlock()
	s.servers.ServePlain(crlLn, http.HandlerFunc(s.ca.serveCRL))
	ctx, s.cancel = context.WithCancel(ctx)
	s.started = true
	s.adminAddr = adminLn.Addr().String()
	s.gwAddr = gwLn.Addr().String()
	s.servers.Serve(adminLn, s.adminHandler())
	s.servers.Serve(gwLn, s.gatewayHandler())
	s.notifier.start(ctx)
	s.log.Info("fake UEM started", "gateway_api", s.GatewayURL(), "admin_api", s.AdminURL())
	return nil
}

// Shutdown stops both listeners gracefully (waiting for in-flight requests
// until ctx is done), releases hung requests and stops notification
// workers.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.started {
		s.mu.Unlock()
		return nil
	}
	s.started = false
	s.mu.Unlock()
	s.faults.Injector().Stop() // hung requests go on, delays end
	err := s.servers.Shutdown(ctx)
	s.cancel()
	s.notifier.wait()
	return err
}

func (s *Server) scheme() string {
	if s.tlsConf == nil {
		return "http"
	}
	return "https"
}

// GatewayURL is the base URL of the gateway-facing API (without /api/v1).
func (s *Server) GatewayURL() string { return s.scheme() + "://" + s.gwAddr }

// AdminURL is the base URL of the admin API (without /admin/v1).
func (s *Server) AdminURL() string { return s.scheme() + "://" + s.adminAddr }

// AdminToken is the admin API bearer token (generated when not configured).
func (s *Server) AdminToken() string { return s.adminToken }

// CertPool trusts the server's certificate; nil with PlainHTTP.
func (s *Server) CertPool() *x509.CertPool { return s.certPool }

// Faults returns the current fault injection state.
func (s *Server) Faults() Faults { return s.faults.Get() }

// SetFaults replaces the fault injection state. Down closes the
// gateway-facing listener (connections refused); clearing it listens again
// on the same address.
func (s *Server) SetFaults(f Faults) error {
	if err := f.validate(); err != nil {
		return err
	}
	if err := s.faults.Set(f); err != nil {
		return fmt.Errorf("uem: %w", err)
	}
	return nil
}

// FaultInjector is the shared fault layer of the gateway-facing side,
// for a chaos driver's faults.Specs; SetFaults replaces what it holds.
func (s *Server) FaultInjector() *faults.Injector { return s.faults.Injector() }

// checkAdmin authenticates an admin request in constant time.
func (s *Server) checkAdmin(r *http.Request) bool {
	tok := bearer(r)
	return tok != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(s.adminToken)) == 1
}

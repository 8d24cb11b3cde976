package apptunnel

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/audit"
	"github.com/gatehouse-lab/gatehouse/gateway/deviceauth"
	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// Defaults (docs/apptunnel.md §6).
const (
	DefaultIdleTimeout = 30 * time.Minute
	DefaultDialTimeout = 10 * time.Second
	DefaultPeekTimeout = 5 * time.Second
	// MaxHeaderBytes bounds a request head: 431, reason oversized.
	MaxHeaderBytes = 16 << 10
	// httpHeaderCap is net/http's own cap, far above MaxHeaderBytes so
	// that the handler answers (and counts) oversized heads itself.
	httpHeaderCap = 1 << 20
)

// Config is what the gateway gives the tunnel listener at start.
type Config struct {
	Tunnels *Tunnels
	// ServerTLS is the listener's TLS: the gateway's certificate; client
	// certificates are requested and checked by the authenticator.
	ServerTLS *tls.Config
	// UpstreamTLS is the trust towards servers with TLS Enabled (ATS-10).
	UpstreamTLS *tls.Config
	Audit       *audit.Logger // nil: no audit log
	// Kerberos returns the delegation in use for Kerberos server
	// authentication (ATS-11), nil when the UEM configured none.
	Kerberos func() Negotiator
	// Acceptor returns the gateway's own Kerberos keys for apps that
	// authenticate with a ticket (ATS-17), nil when none is configured.
	Acceptor func() Acceptor
	// Stats gets the tunnel counters of the statistics CSV (tunnels-*,
	// tunnel-bytes-*) per (device UUID, user); nil: none.
	Stats       *stats.Registry
	IdleTimeout time.Duration // CONNECT tunnels and idle HTTP connections
	DialTimeout time.Duration
	PeekTimeout time.Duration // how long a CONNECT waits for the app's first bytes (ATC-12)
	Log         *slog.Logger
}

// Negotiator gives a "Negotiate …" Authorization value for upn towards
// spn (Kerberos constrained delegation, gateway/kerberos/delegation).
type Negotiator interface {
	NegotiateHeader(ctx context.Context, upn, spn string) (string, error)
}

// Acceptor verifies a "Negotiate …" Proxy-Authorization value made for
// the gateway's own principal and returns the ticket's client,
// "name@REALM" (gateway/kerberos/delegation).
type Acceptor interface {
	AcceptNegotiate(value string) (string, error)
}

// Settings is what the UEM's configuration decides; SetSettings swaps it
// whole, so a request sees one consistent version.
type Settings struct {
	AppTunnel uemapi.AppTunnelConfig
	Traffic   uemapi.TrafficControl
	Auth      *deviceauth.Authenticator
}

type settings struct {
	enabled  bool
	ctxHdrs  bool
	services *services
	traffic  *Traffic
	auth     *deviceauth.Authenticator
	kerberos bool // apps authenticate with a Kerberos ticket (ATS-17)
}

// Server is the AppTunnel listener.
type Server struct {
	cfg     Config
	cur     atomic.Pointer[settings]
	metrics *Metrics
	http    *http.Server
	tr      *http.Transport

	mu    sync.Mutex
	conns map[net.Conn]struct{} // hijacked CONNECT tunnels, closed at Shutdown
	wg    sync.WaitGroup
}

// New returns a listener that refuses everything until SetSettings.
func New(cfg Config) (*Server, error) {
	if cfg.Tunnels == nil || cfg.ServerTLS == nil {
		return nil, errors.New("apptunnel: Tunnels and ServerTLS are required")
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	if cfg.PeekTimeout <= 0 {
		cfg.PeekTimeout = DefaultPeekTimeout
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	s := &Server{cfg: cfg, metrics: NewMetrics(), conns: map[net.Conn]struct{}{}}
	s.metrics.stats = cfg.Stats
	s.cur.Store(&settings{services: newServices(uemapi.AppTunnelConfig{}), traffic: NewTraffic(uemapi.TrafficControl{})})
	s.tr = s.transport()
	tlsCfg := cfg.ServerTLS.Clone()
	if tlsCfg.ClientAuth == tls.NoClientCert {
		tlsCfg.ClientAuth = tls.RequestClientCert
	}
	tlsCfg.NextProtos = []string{"http/1.1"} // CONNECT and absolute-form are HTTP/1.1 here
	s.http = &http.Server{Handler: s, TLSConfig: tlsCfg, MaxHeaderBytes: httpHeaderCap,
		ReadHeaderTimeout: 30 * time.Second, IdleTimeout: cfg.IdleTimeout,
		ErrorLog:    slog.NewLogLogger(cfg.Log.Handler(), slog.LevelDebug),
		ConnContext: s.metrics.connContext, ConnState: s.metrics.connState}
	return s, nil
}

// SetSettings applies the UEM's AppTunnel and traffic-control sections
// (validated by uemapi) and the device authentication in use.
func (s *Server) SetSettings(st Settings) {
	s.cur.Store(&settings{enabled: st.AppTunnel.Enabled, ctxHdrs: st.AppTunnel.ContextHeaders,
		services: newServices(st.AppTunnel), traffic: NewTraffic(st.Traffic), auth: st.Auth,
		kerberos: st.AppTunnel.DeviceAuth == uemapi.AppAuthKerberos})
}

// Metrics returns the listener's counters, for Prometheus and tests.
func (s *Server) Metrics() *Metrics { return s.metrics }

// Serve serves TLS on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	err := s.http.ServeTLS(ln, "", "")
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("apptunnel: serve: %w", err)
}

// Shutdown stops accepting, closes open CONNECT tunnels and waits for
// them and for HTTP requests in flight until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		err = errors.Join(err, ctx.Err())
	}
	s.tr.CloseIdleConnections()
	return err
}

func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

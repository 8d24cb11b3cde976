package idp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-lab/gatehouse/fakes/faults"
	"github.com/gatehouse-lab/gatehouse/fakes/internal/servers"
	"github.com/gatehouse-lab/gatehouse/internal/selfsigned"
)

// Endpoint paths, as Azure AD v1 serves them under a tenant ("common").
const (
	AuthorizePath = "/common/oauth2/authorize"
	TokenPath     = "/common/oauth2/token"
	KeysPath      = "/common/discovery/keys"
)

// Server is the fake identity provider.
type Server struct {
	cfg      Config
	log      *slog.Logger
	keys     *keyRing
	faults   *faults.State[Faults]
	tlsConf  *tls.Config
	certPool *x509.CertPool
	cert     *x509.Certificate
	users    map[string]User // by lower-case name
	grants   *grants
	counts   counters

	mu      sync.Mutex
	started bool
	addr    string
	servers servers.Group
}

// New validates cfg and makes the signing key. Nothing listens until Start.
func New(cfg Config) (*Server, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	keys, err := newKeyRing()
	if err != nil {
		return nil, err
	}
	cert, err := selfsigned.ServerCert(nil, "", "", "gatehouse fake IdP", cfg.Now())
	if err != nil {
		return nil, fmt.Errorf("idp: TLS certificate: %w", err)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, keys: keys, faults: faults.NewState[Faults](cfg.Seed),
		tlsConf:  &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}},
		certPool: selfsigned.Pool(cert), cert: leaf(cert), users: map[string]User{}, grants: newGrants()}
	for _, u := range cfg.Users {
		s.users[strings.ToLower(u.Name)] = u
	}
	s.servers.TLS, s.servers.Log, s.servers.Name, s.servers.IdleTimeout = s.tlsConf, s.log, "idp", time.Minute
	return s, nil
}

// Start listens on Config.Addr and serves until Shutdown.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("idp: already started")
	}
	ln, err := s.faults.Injector().Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("idp: listener: %w", err)
	}
	s.started, s.addr = true, ln.Addr().String()
	s.servers.Serve(ln, s.faults.Injector().Middleware(s.handler()))
	s.log.Info("fake IdP started", "url", s.URL(), "users", len(s.users))
	return nil
}

// Shutdown stops the listener, waiting for requests in flight until ctx
// is done.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.started {
		s.mu.Unlock()
		return nil
	}
	s.started = false
	s.mu.Unlock()
	s.faults.Injector().Stop()
	return s.servers.Shutdown(ctx)
}

func (s *Server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+AuthorizePath, s.serveAuthorize)
	mux.HandleFunc("POST "+AuthorizePath, s.serveAuthorize)
	mux.HandleFunc("POST "+TokenPath, s.serveToken)
	mux.HandleFunc("GET "+KeysPath, s.serveKeys)
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "OK\n") })
	return mux
}

func (s *Server) serveKeys(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "max-age=60")
	_ = json.NewEncoder(w).Encode(s.keys.set())
}

// URL is the base URL (https://host:port).
func (s *Server) URL() string { return "https://" + s.addr }

// AuthorizeURL, TokenURL and KeysURL are the endpoints' full URLs.
func (s *Server) AuthorizeURL() string { return s.URL() + AuthorizePath }

// TokenURL is the token endpoint's URL.
func (s *Server) TokenURL() string { return s.URL() + TokenPath }

// KeysURL is the JWKS's URL.
func (s *Server) KeysURL() string { return s.URL() + KeysPath }

// Issuer is the iss of the tokens, Azure AD's form.
func (s *Server) Issuer() string { return s.URL() + "/common/" }

// Certificate is the server's self-signed certificate.
func (s *Server) Certificate() *x509.Certificate { return s.cert }

func leaf(c tls.Certificate) *x509.Certificate {
	if c.Leaf != nil {
		return c.Leaf
	}
	l, _ := x509.ParseCertificate(c.Certificate[0])
	return l
}

// CertPool trusts the server's certificate.
func (s *Server) CertPool() *x509.CertPool { return s.certPool }

// Faults returns the fault state.
func (s *Server) Faults() Faults { return s.faults.Get() }

// SetFaults replaces the fault state; Down closes the listener at once.
func (s *Server) SetFaults(f Faults) error {
	if err := f.validate(); err != nil {
		return err
	}
	return s.faults.Set(f)
}

// RotateKey makes a new signing key and returns its kid. keepOld keeps the
// previous key in the JWKS, so tokens it signed stay valid; without it
// they fail with an unknown kid at once.
func (s *Server) RotateKey(keepOld bool) (string, error) { return s.keys.rotate(keepOld) }

// SetAllowedSources replaces the conditional-access rule (OAU-07); none
// lets every address sign in.
func (s *Server) SetAllowedSources(addrs ...netip.Addr) {
	s.mu.Lock()
	s.cfg.AllowedSources = append([]netip.Addr(nil), addrs...)
	s.mu.Unlock()
}

// allowedSource applies the conditional-access rule to a request's peer.
func (s *Server) allowedSource(r *http.Request) bool {
	s.mu.Lock()
	allowed := s.cfg.AllowedSources
	s.mu.Unlock()
	if len(allowed) == 0 {
		return true
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	for _, a := range allowed {
		if a == ap.Addr().Unmap() {
			return true
		}
	}
	return false
}

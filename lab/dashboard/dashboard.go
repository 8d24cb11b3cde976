// Package dashboard is the lab's live web dashboard: the devices as the
// UEM and the gateway's cache see them, each device's exchanges, charts,
// the state of the fakes, buttons for the UEM's admin actions, faults and
// the narrated demo. It is served on loopback by `gatehouse lab`, embedded
// in the binary (no network), behind the lab's admin token, and pushes
// its state with server-sent events (docs/lab.md).
package dashboard

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/admin"
	"github.com/gatehouse-lab/gatehouse/lab"
)

//go:embed assets
var assets embed.FS

// Config configures the dashboard.
type Config struct {
	// Addr is the loopback listen address; default 127.0.0.1:0.
	Addr string
	// Token opens the dashboard: the lab's gateway admin token.
	Token string
	// Interval is how often the state is sampled and pushed when it
	// changed; default 500ms.
	Interval time.Duration
	// SyncEvery is how often the devices the dashboard added sync;
	// default 3s.
	SyncEvery time.Duration
	Logger    *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:0"
	}
	if c.Interval == 0 {
		c.Interval = 500 * time.Millisecond
	}
	if c.SyncEvery == 0 {
		c.SyncEvery = 3 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

func (c *Config) validate() error {
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return fmt.Errorf("dashboard: address %q: %w", c.Addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("dashboard: address %q is not a loopback IP", c.Addr)
	}
	if len(c.Token) < 16 {
		return errors.New("dashboard: the token must have at least 16 characters")
	}
	return nil
}

// Server is a running dashboard.
type Server struct {
	cfg   Config
	l     *lab.Lab
	adm   *admin.Client
	ln    net.Listener
	srv   *http.Server
	ctx   context.Context // ends at Shutdown: the devices' loops, the demo
	stop  context.CancelFunc
	wg    sync.WaitGroup
	auth  *sessions
	rec   *recorder
	fleet *fleet
	demo  *demoRun
	state *publisher
	// tickMu serialises tick: the sampler and an action (which shows its
	// effect at once) both sample.
	tickMu sync.Mutex

	mu    sync.Mutex
	notes []string // the last actions and their outcome, newest last
}

// New makes a dashboard of l; Start serves it. It records the exchanges
// of every device l makes from now on.
func New(l *lab.Lab, cfg Config) (*Server, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	ctx, stop := context.WithCancel(context.Background())
	s := &Server{cfg: cfg, l: l, adm: l.GatewayAdmin(), ctx: ctx, stop: stop, auth: newSessions(cfg.Token), rec: newRecorder(2000)}
	l.ObserveDevices(s.rec.wrap)
	s.fleet = newFleet(s)
	s.demo = &demoRun{}
	s.state = newPublisher()
	return s, nil
}

// Start listens and serves until Shutdown.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("dashboard: %w", err)
	}
	s.ln = ln
	s.srv = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	s.wg.Add(2)
	go func() { defer s.wg.Done(); _ = s.srv.Serve(ln) }()
	go func() { defer s.wg.Done(); s.sample() }()
	return nil
}

// URL is the dashboard's base URL.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() + "/" }

// LoginURL opens the dashboard already signed in: the token travels in
// the URL fragment, which browsers never send (so it is in no log).
func (s *Server) LoginURL() string { return s.URL() + "#token=" + s.cfg.Token }

// Shutdown stops serving and the dashboard's devices.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stop()
	var err error
	if s.srv != nil {
		err = s.srv.Shutdown(ctx)
	}
	s.wg.Wait()
	return err
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(assets, "assets")
	mux.Handle("GET /", noStore(http.FileServerFS(static)))
	mux.HandleFunc("GET /api/session", s.auth.handleSession)
	mux.HandleFunc("POST /api/login", s.auth.handleLogin)
	mux.Handle("GET /api/events", s.auth.require(http.HandlerFunc(s.handleEvents)))
	mux.Handle("GET /api/exchange/{seq}", s.auth.require(http.HandlerFunc(s.handleExchange)))
	mux.Handle("POST /api/action", s.auth.require(http.HandlerFunc(s.handleAction)))
	return securityHeaders(mux)
}

// securityHeaders: nothing but our own embedded assets may load.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

func noStore(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

// note records an action's outcome for the page's activity log.
func (s *Server) note(format string, a ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notes = append(s.notes, time.Now().Format("15:04:05")+" "+fmt.Sprintf(format, a...))
	if len(s.notes) > 12 {
		s.notes = s.notes[len(s.notes)-12:]
	}
}

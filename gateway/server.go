package gateway

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gatehouse-lab/gatehouse/gateway/activesync"
	"github.com/gatehouse-lab/gatehouse/gateway/admin"
	"github.com/gatehouse-lab/gatehouse/gateway/attachments"
	"github.com/gatehouse-lab/gatehouse/gateway/audit"
	"github.com/gatehouse-lab/gatehouse/gateway/deviceauth"
	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/gateway/kcd"
	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/gateway/uemsync"
	"github.com/gatehouse-lab/gatehouse/gateway/upstream"
	"github.com/gatehouse-lab/gatehouse/internal/httplimit"
	"github.com/gatehouse-lab/gatehouse/internal/selfsigned"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// NotificationPath is where the gateway receives the UEM's notifications.
const NotificationPath = "/uem/v1/notifications"

// Server is a gateway: New builds it, Listen and Start run it, Shutdown
// stops it (see state for the order).
type Server struct {
	cfg  Config
	log  *slog.Logger
	cert tls.Certificate

	cache  *devicecache.Cache
	store  *devicecache.Store
	stats  *stats.Registry
	peaks  *stats.Peaks
	uem    *uemapi.Client
	link   *uemsync.Link
	as     *activesync.Handler
	fresh  *freshConns // connections without a request yet, closed at shutdown
	audit  *audit.Logger
	auditF *os.File
	crls   *deviceauth.CRLCache
	keys   *attachments.Keyring // the attachment keys, current and older (ATT-11)
	// wantCert says whether the device listener asks for client
	// certificates (Group and Identity Certificate modes).
	wantCert atomic.Bool
	// limits are the per-source limits on the device listener (issue 18).
	limits *activesync.SourceLimiter

	upTLS  *tls.Config
	router *upstream.Router // nil until the UEM's configuration names servers
	// routerStop ends the current router's health checks when a change of
	// outgoing TLS settings replaces it (TLS-08: the product restarts).
	routerStop context.CancelFunc
	outTLS     uemapi.TLSSettings
	incoming   atomic.Pointer[incomingTLS] // device-facing TLS of the moment
	hsts       atomic.Pointer[string]      // Strict-Transport-Security value, "" for off
	// kcd is the Kerberos configuration in use (nil: none); kcdStop ends
	// its initialisation loop when the configuration changes.
	kcd     atomic.Pointer[kcd.KCD]
	kcdStop context.CancelFunc
	kcdCfg  []byte      // the JSON of the Kerberos configuration in use
	kkdcp   atomic.Bool // Enable Kerberos Proxy (KKD-01)
	// socketRW is the socket read/write timeout of the moment (ASC-20),
	// which also bounds each read of a device's request body.
	socketRW atomic.Int64
	runCtx   context.Context // lives from New to Shutdown: background work
	cancel   context.CancelFunc

	mu    sync.Mutex
	state state
	// cacheLoaded: Start's Init filled the cache from the UEM or the
	// persistent list; only then may the cache be written to disk.
	// runStarted: the link's Run owns the final write.
	cacheLoaded bool
	runStarted  bool
	stopDone    chan struct{} // closed when Shutdown has finished
	configETag  string
	servers     []*http.Server
	lns         map[string]net.Listener
	addrs       map[string]string
	wg          sync.WaitGroup
	runErr      error
}

// New builds a gateway from its bootstrap configuration; Start runs it.
func New(cfg Config, log *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("gateway: data dir: %w", err)
	}
	s := &Server{cfg: cfg, log: log, fresh: newFreshConns(), stats: stats.NewRegistry(), peaks: &stats.Peaks{}, addrs: map[string]string{},
		crls: deviceauth.NewCRLCache(nil, nil), keys: &attachments.Keyring{}, stopDone: make(chan struct{})}
	s.runCtx, s.cancel = context.WithCancel(context.Background())
	var err error
	if cfg.TLSCertFile != "" {
		s.cert, err = tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
	} else {
		s.cert, err = selfsigned.LoadOrCreate(filepath.Join(cfg.DataDir, "tls"), "gatehouse gateway", time.Now())
	}
	if err != nil {
		return nil, fmt.Errorf("gateway: certificate: %w", err)
	}
	if s.cfg.AdminToken == "" {
		s.cfg.AdminToken = randomToken()
	}
	if s.cfg.ControlReadTimeout == 0 {
		s.cfg.ControlReadTimeout = DefaultControlReadTimeout
	}
	s.socketRW.Store(int64(msDuration(uemapi.DefaultGatewayConfig().Timeouts.SocketReadWriteMs)))
	s.limits = deviceLimiter(cfg, s.stats)
	s.cache = devicecache.New(nil)
	if s.store, err = devicecache.OpenStore(filepath.Join(cfg.DataDir, "devices.db")); err != nil {
		return nil, err
	}
	uemTLS, err := clientTLS(cfg.UEM.CAFile, cfg.UEM.Insecure)
	if err != nil {
		return nil, fmt.Errorf("gateway: uem trust: %w", err)
	}
	s.uem, err = uemapi.NewClient(cfg.UEM.URL, cfg.UEM.Token, uemapi.WithHTTPClient(&http.Client{
		Transport: &http.Transport{TLSClientConfig: uemTLS, MaxIdleConnsPerHost: 16}, Timeout: 2 * time.Minute,
	}))
	if err != nil {
		return nil, fmt.Errorf("gateway: uem client: %w", err)
	}
	s.link, err = uemsync.New(uemsync.Config{
		UEM: s.uem, Cache: s.cache, Store: s.store, FailOpen: cfg.FailOpen,
		CheckInterval: cfg.CheckInterval, ResyncInterval: cfg.ResyncInterval,
		PersistInterval: cfg.PersistInterval, LastSeenInterval: cfg.LastSeenInterval,
		OnConfigChange: func(int64) error { return s.refreshConfig(s.runCtx) },
		OnKeyChange:    func(uemapi.KeyChange) error { return s.loadKey(s.runCtx) },
		OnReconnect: func(ctx context.Context) {
			if err := s.refreshConfig(ctx); err != nil {
				s.log.Warn("configuration not fetched after reconnect", "error", err)
			}
		},
		Log: log,
	})
	if err != nil {
		return nil, err
	}
	if cfg.Audit {
		if s.auditF, err = os.OpenFile(filepath.Join(cfg.DataDir, "audit.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err != nil {
			return nil, fmt.Errorf("gateway: audit log: %w", err)
		}
		host, _ := os.Hostname()
		s.audit = audit.New(s.auditF, host, nil)
	}
	upTLS, err := clientTLS(cfg.UpstreamCAFile, cfg.UpstreamInsecure)
	if err != nil {
		return nil, fmt.Errorf("gateway: upstream trust: %w", err)
	}
	s.upTLS = upTLS
	up, _ := url.Parse(cfg.Upstream)
	if cfg.Upstream == "" {
		up = &url.URL{Scheme: "https", Host: "unconfigured.invalid"}
	}
	s.as, err = activesync.New(activesync.Config{
		Upstream: up, Transport: activesync.DefaultTransport(upTLS), Link: s.link, Cache: s.cache,
		Stats: s.stats, Audit: s.audit, Log: log,
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func clientTLS(caFile string, insecure bool) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecure} //nolint:gosec // opt-in for labs
	if caFile == "" {
		return c, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", caFile)
	}
	c.RootCAs = pool
	return c, nil
}

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

// Start initialises the device cache (from the UEM, else from disk),
// fetches the configuration, and serves the listeners and background work.
// A Start that fails leaves the Server failed: call Shutdown, which then
// leaves the persistent device list as it was.
func (s *Server) Start(ctx context.Context) error {
	if err := s.beginStart(); err != nil {
		return err
	}
	defer s.wg.Done()
	// Shutdown during Start ends what Start waits for.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.runCtx, cancel)()

	res, err := s.link.Init(ctx)
	if err != nil {
		return s.startFailed(err)
	}
	s.mu.Lock()
	s.cacheLoaded = true
	s.mu.Unlock()
	s.log.Info("device cache initialised", "from_uem", res.FromUEM, "devices", res.Loaded)
	if err := s.refreshConfig(ctx); err != nil {
		s.log.Warn("configuration not fetched from the UEM; using bootstrap settings", "error", err)
	}
	if u := s.as.Upstream(); u.Host == "unconfigured.invalid" {
		s.log.Warn("no ActiveSync server configured yet; requests fail until the UEM sends one")
	}
	if _, err := (stats.Files{Dir: s.cfg.DataDir}).Archive(time.Now()); err != nil {
		s.log.Warn("archiving statistics", "error", err)
	}

	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{s.cert}}
	if s.incoming.Load() == nil {
		s.incoming.Store(s.buildIncoming(uemapi.TLSSettings{}))
	}
	// The device listener's TLS follows the UEM's settings of the moment
	// (versions, cipher suites), and asks for a client certificate only
	// while device authentication needs one; the handler verifies it
	// against the roots of the moment, so a new trust file needs no restart.
	deviceTLS := tlsCfg.Clone()
	deviceTLS.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		in := s.incoming.Load()
		if s.wantCert.Load() {
			return in.cert, nil
		}
		return in.plain, nil
	}
	paths := http.NewServeMux()
	for _, p := range activesync.Paths {
		paths.Handle(p, s.as)
	}
	paths.HandleFunc(kcd.ProxyPath, s.serveKKDCP)
	device := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := s.hsts.Load(); v != nil && *v != "" {
			w.Header().Set("Strict-Transport-Security", *v) // TLS-13
		}
		paths.ServeHTTP(w, r)
	})
	notify := http.NewServeMux()
	notify.Handle("POST "+NotificationPath, httplimit.Body(uemapi.MaxNotificationBody, s.link.NotificationHandler([]byte(s.cfg.UEM.NotifySecret))))

	reg := prometheus.NewRegistry()
	reg.MustRegister(stats.NewCollector(s.stats, s.peaks), collectors.NewGoCollector(
		// The live heap after the last collection (go_gc_heap_live_bytes):
		// what devices really cost, where the heap in use also counts the
		// garbage the collector's heap floor lets pile up.
		collectors.WithGoCollectorRuntimeMetrics(collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/gc/(heap/live:bytes|cycles/total:gc-cycles)$`)})),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	adm := admin.Handler(admin.Deps{Cache: s.cache, Store: s.store, Link: s.link, Stats: s.stats, Peaks: s.peaks, CRLs: s.crls,
		Servers: func() []upstream.ServiceStatus {
			if r := s.currentRouter(); r != nil {
				return r.Status()
			}
			return nil
		},
		Diagnose: func(ctx context.Context) upstream.Diagnosis {
			if r := s.currentRouter(); r != nil {
				return r.VerifyEAS(ctx)
			}
			return upstream.Diagnosis{Service: "EAS", Date: time.Now(), Status: "Not Performed", Message: "Sentry not configured."}
		},
		Kerberos: s.Kerberos,
		Token:    s.cfg.AdminToken, Metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{})})

	handlers := map[string]http.Handler{
		"device": s.limits.Handler(deviceBodyDeadlines(func() time.Duration { return time.Duration(s.socketRW.Load()) }, device)),
		"notify": notify,
		"admin":  adm,
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateStarting { // Shutdown began while the cache loaded
		return fmt.Errorf("gateway: start: %w", ErrStopped)
	}
	for name, ln := range s.lns {
		srvTLS := tlsCfg.Clone()
		srv := &http.Server{Handler: handlers[name], TLSConfig: srvTLS, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
			ConnState: s.fresh.track,
			// The control plane: a whole request (headers 10 s) within
			// ControlReadTimeout; net/http lifts the deadline once the
			// body is in, so a long admin operation is not cut.
			ReadHeaderTimeout: 10 * time.Second, ReadTimeout: s.cfg.ControlReadTimeout, IdleTimeout: controlIdleTimeout}
		if name == "device" {
			srv.ReadTimeout = 0 // bodies: deviceBodyDeadlines
			srv.TLSConfig = deviceTLS
			// Until the UEM names servers, the seeds' Device request
			// timeout; an idle connection is never kept forever.
			deviceRequest := msDuration(uemapi.DefaultGatewayConfig().Timeouts.DeviceRequestMs)
			srv.ReadHeaderTimeout, srv.IdleTimeout = deviceRequest, deviceRequest
			if s.router != nil {
				// The device side of the advanced timeouts (ASC-20, ASC-23):
				// the Device request timeout bounds waiting for a request,
				// and writes to the device are bounded and counted.
				srv.ReadHeaderTimeout, srv.IdleTimeout = s.router.DeviceRequestTimeout(), s.router.DeviceRequestTimeout()
				ln = s.router.DeviceListener(ln)
			}
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

	runCtx := s.runCtx
	s.state, s.runStarted = stateRunning, true
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		if err := s.link.Run(runCtx); err != nil {
			s.mu.Lock()
			s.runErr = err
			s.mu.Unlock()
		}
	}()
	go func() {
		defer s.wg.Done()
		s.statsLoop(runCtx)
	}()
	s.log.Info("gateway started", "device", "https://"+s.addrs["device"], "admin", "https://"+s.addrs["admin"], "notify", "https://"+s.addrs["notify"]+NotificationPath)
	return nil
}

// beginStart moves the Server from listening (binding the listeners
// first if it was just created) to starting, and counts the Start in wg
// so that a Shutdown under way waits for it.
func (s *Server) beginStart() error {
	s.mu.Lock()
	created := s.state == stateCreated
	s.mu.Unlock()
	if created {
		if err := s.Listen(); err != nil {
			s.mu.Lock()
			if s.state == stateCreated {
				s.state = stateFailed
			}
			s.mu.Unlock()
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateListening {
		return errState("Start", s.state)
	}
	s.state = stateStarting
	s.wg.Add(1)
	return nil
}

// startFailed marks a Start that could not finish and closes the
// listeners it will never serve.
func (s *Server) startFailed(err error) error {
	s.mu.Lock()
	if s.state == stateStarting {
		s.state = stateFailed
	}
	s.mu.Unlock()
	s.closeListeners()
	return err
}

// refreshConfig fetches the UEM's configuration for this gateway and
// applies what the gateway uses from it, without touching the cache.
func (s *Server) refreshConfig(ctx context.Context) error {
	s.mu.Lock()
	etag := s.configETag
	s.mu.Unlock()
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	doc, newTag, err := s.uem.Config(cctx, etag)
	if errors.Is(err, uemapi.ErrNotModified) {
		return nil
	}
	if err != nil {
		// Run on the configuration last received, as the product does
		// after a restart with the UEM unreachable.
		if etag == "" {
			s.useCachedConfig()
		}
		return fmt.Errorf("gateway: fetch configuration: %w", err)
	}
	if err := doc.Config.Validate(); err != nil {
		return fmt.Errorf("gateway: configuration %d refused: %w", doc.Version, err)
	}
	if err := s.applyConfig(doc); err != nil {
		return fmt.Errorf("gateway: configuration %d refused: %w", doc.Version, err)
	}
	if err := s.saveCachedConfig(doc); err != nil {
		s.log.Warn("keeping a copy of the configuration", "error", err)
	}
	s.mu.Lock()
	s.configETag = newTag
	s.mu.Unlock()
	return nil
}

func (s *Server) applyConfig(doc *uemapi.ConfigDocument) error {
	var fronts []netip.Prefix
	for _, fe := range s.cfg.FrontEnds {
		fronts = append(fronts, netip.MustParsePrefix(fe)) // validated in Config.Validate
	}
	auth, err := deviceauth.New(doc.Config.DeviceAuth, deviceauth.Options{FrontEnds: fronts, CRLs: s.crls})
	if err != nil {
		return err
	}
	if err := s.applyAttachmentControl(doc.Config.AttachmentControl); err != nil {
		return err
	}
	if err := s.applyKerberos(doc.Config.Kerberos); err != nil {
		return err
	}
	s.as.SetDeviceAuth(auth)
	s.wantCert.Store(auth.WantsClientCert())
	s.incoming.Store(s.buildIncoming(doc.Config.TLS))
	hsts := ""
	if doc.Config.TLS.HSTS {
		hsts = "max-age=31536000; includeSubDomains"
		if doc.Config.TLS.HSTSPreload {
			hsts += "; preload"
		}
	}
	s.hsts.Store(&hsts)
	s.socketRW.Store(int64(msDuration(doc.Config.Timeouts.SocketReadWriteMs)))
	s.link.SetDefaultBehavior(doc.PolicyBehavior)
	if s.cfg.Upstream != "" || len(doc.Config.ActiveSync.Services) == 0 {
		return nil // a bootstrap --upstream wins over the UEM's services
	}
	c := doc.Config
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
	r, err := upstream.New(c.ActiveSync, c.Servers, c.Timeouts, upstream.Options{TLSConfig: out, SNI: c.TLS.OutgoingSNI, HTTP2: s.cfg.UpstreamHTTP2, OnRedirect: s.rememberRedirect, Log: s.log})
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
	}()
	s.log.Info("ActiveSync services from the UEM configuration", "services", len(c.ActiveSync.Services))
	return nil
}

// controlIdleTimeout is how long the notification and admin listeners
// keep an idle keep-alive connection.
const controlIdleTimeout = 2 * time.Minute

func msDuration(ms int) time.Duration { return time.Duration(ms) * time.Millisecond }

// incomingTLS is the device listener's TLS, with and without a request
// for a client certificate.
type incomingTLS struct{ plain, cert *tls.Config }

// buildIncoming makes the device-facing TLS configuration from the UEM's
// settings (TLS-01, TLS-02); they were validated with the configuration.
func (s *Server) buildIncoming(t uemapi.TLSSettings) *incomingTLS {
	minV, _ := uemapi.TLSVersion(t.IncomingMinVersion)
	suites, _ := uemapi.CipherSuiteIDs(t.IncomingCipherSuites)
	if len(suites) == 0 {
		suites = nil // Use Default Cipher Suites
	}
	plain := &tls.Config{MinVersion: minV, CipherSuites: suites, Certificates: []tls.Certificate{s.cert}, NextProtos: []string{"http/1.1"}}
	cert := plain.Clone()
	cert.ClientAuth = tls.RequestClientCert
	return &incomingTLS{plain: plain, cert: cert}
}

// sameOutgoing reports whether two settings give the same TLS towards
// ActiveSync servers (a change replaces the server pool, TLS-08).
func sameOutgoing(a, b uemapi.TLSSettings) bool {
	return a.StrictOutgoing == b.StrictOutgoing && a.CustomTrustPEM == b.CustomTrustPEM && a.OutgoingSNI == b.OutgoingSNI &&
		a.OutgoingMinVersion == b.OutgoingMinVersion && slices.Equal(a.OutgoingCipherSuites, b.OutgoingCipherSuites)
}

// outgoingTLS is the TLS towards ActiveSync servers: the Outgoing SSL
// Configuration's protocols and cipher suites; certificates verified only
// with Strict TLS (TLS-04, off by default) or a bootstrap trust file,
// against the system store plus the UEM's custom CAs. SNI is the
// router's (upstream.ServerTLS).
func (s *Server) outgoingTLS(t uemapi.TLSSettings) (*tls.Config, error) {
	c := s.upTLS.Clone()
	c.MinVersion, _ = uemapi.TLSVersion(t.OutgoingMinVersion) // validated with the configuration
	if suites, _ := uemapi.CipherSuiteIDs(t.OutgoingCipherSuites); len(suites) > 0 {
		c.CipherSuites = suites
	}
	if s.cfg.UpstreamCAFile != "" && !s.cfg.UpstreamInsecure {
		return c, nil // the bootstrap trust file decides
	}
	if !t.StrictOutgoing {
		c.InsecureSkipVerify = true //nolint:gosec // the seeds' default: Strict TLS off
		return c, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if t.CustomTrustPEM != "" && !pool.AppendCertsFromPEM([]byte(t.CustomTrustPEM)) {
		return nil, errors.New("tls.custom_trust_pem holds no certificate")
	}
	c.RootCAs, c.InsecureSkipVerify = pool, false
	return c, nil
}

// applyKerberos starts using the UEM's Kerberos configuration: a new KCD
// whose initialisation (with its retry, KRB-06) runs in the background.
// An unchanged configuration keeps the KCD, its TGT and ticket cache.
func (s *Server) applyKerberos(kc *uemapi.KerberosConfig) error {
	s.kkdcp.Store(kc != nil && kc.KDCProxy)
	var raw []byte
	if kc != nil {
		// Switching the KDC proxy on or off, or changing the realms it
		// serves, keeps the KCD and its tickets.
		c := *kc
		c.KDCProxy, c.KDCProxyRealms = false, nil
		raw, _ = json.Marshal(c)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if string(raw) == string(s.kcdCfg) && (kc == nil) == (s.kcd.Load() == nil) {
		if k := s.kcd.Load(); k != nil {
			k.SetProxyRealms(kc.KDCProxyRealms)
		}
		return nil
	}
	if s.runCtx.Err() != nil {
		return ErrStopped // Shutdown is waiting for the background work: start none
	}
	var k *kcd.KCD
	if kc != nil {
		first := s.cfg.KerberosRetry
		if first <= 0 {
			first = time.Minute
		}
		var err error
		k, err = kcd.New(*kc, kcd.Options{Resolver: s.resolver(), Retry: kcd.Backoff{Initial: first, Max: 60 * first, Jitter: 0.2},
			Peaks: s.peaks, Log: s.log.With("component", "kerberos")})
		if err != nil {
			return err
		}
	}
	if s.kcdStop != nil {
		s.kcdStop()
		s.kcdStop = nil
	}
	s.kcd.Store(k)
	s.kcdCfg = raw
	if k == nil {
		s.as.SetKerberos(nil)
		return nil
	}
	s.as.SetKerberos(k)
	ctx, cancel := context.WithCancel(s.runCtx)
	s.kcdStop = cancel
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = k.Run(ctx)
	}()
	return nil
}

// resolver is the DNS resolver of KDC discovery: the configured DNS
// server, else the system's.
func (s *Server) resolver() *net.Resolver {
	if s.cfg.DNSServer == "" {
		return net.DefaultResolver
	}
	addr := s.cfg.DNSServer
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
}

// Kerberos returns the Kerberos configuration in use, nil when the UEM
// configured none.
func (s *Server) Kerberos() *kcd.KCD { return s.kcd.Load() }

// serveKKDCP is the KDC proxy (KKD-01) on the device listener; it needs
// the Kerberos configuration to know the realms' KDCs.
func (s *Server) serveKKDCP(w http.ResponseWriter, r *http.Request) {
	if !s.kkdcp.Load() {
		http.Error(w, "the Kerberos proxy is not enabled (Enable Kerberos Proxy)", http.StatusNotFound)
		return
	}
	k := s.kcd.Load()
	if k == nil {
		http.Error(w, "Kerberos is not configured", http.StatusServiceUnavailable)
		return
	}
	k.ServeKKDCP(w, r)
}

// applyAttachmentControl turns attachment control on or off as the UEM
// says, fetching the attachment key when an option encrypts.
func (s *Server) applyAttachmentControl(ac uemapi.AttachmentControl) error {
	if !ac.Enabled {
		s.as.SetAttachmentControl(nil)
		return nil
	}
	pol, err := attachments.NewPolicy(ac, ac.WorkDomains)
	if err != nil {
		return err
	}
	encrypts := ac.IOSNative == uemapi.AttachEncrypt || ac.SecureApps == uemapi.AttachEncrypt || ac.OtherPlatforms == uemapi.AttachEncrypt
	if _, ok := s.keys.Current(); encrypts && !ok {
		if err := s.loadKey(context.Background()); err != nil {
			return err
		}
	}
	s.as.SetAttachmentControl(&activesync.AttachmentControl{Policy: pol, Rewriter: attachments.NewRewriter(pol, s.keys)})
	return nil
}

// loadKey fetches the UEM's current attachment key and makes it current,
// keeping older keys so that attachments they encrypted still open
// (key regeneration, ATT-11: the cache survives; no restart).
func (s *Server) loadKey(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	k, err := s.uem.AttachmentKey(cctx)
	if err != nil {
		return fmt.Errorf("gateway: attachment key: %w", err)
	}
	key, err := attachments.KeyFromUEM(k)
	if err != nil {
		return fmt.Errorf("gateway: attachment key: %w", err)
	}
	return s.keys.Install(key)
}

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

func (s *Server) configCachePath() string { return filepath.Join(s.cfg.DataDir, "uem-config.json") }

// saveCachedConfig keeps the last configuration document, written to a
// temporary file and renamed so a crash never leaves half a file.
func (s *Server) saveCachedConfig(doc *uemapi.ConfigDocument) error {
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	tmp := s.configCachePath() + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, s.configCachePath())
}

// useCachedConfig applies the configuration kept in the data directory,
// if there is one and it is sound. A document that does not parse or does
// not pass the UEM's own validation is refused whole, with an error
// naming the problem: the gateway keeps its bootstrap settings rather
// than run on half of a damaged file.
func (s *Server) useCachedConfig() {
	cached, err := s.loadCachedConfig()
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err == nil {
		if err = s.applyConfig(cached); err != nil {
			err = fmt.Errorf("gateway: cached configuration %d not applied: %w", cached.Version, err)
		}
	}
	if err != nil {
		s.log.Error("last configuration received from the UEM refused; using the bootstrap settings", "file", s.configCachePath(), "error", err)
		return
	}
	s.log.Warn("using the last configuration received from the UEM", "version", cached.Version)
}

// loadCachedConfig reads the kept configuration and validates it as a
// document from the UEM is validated: the file is only as trustworthy as
// the disk it sits on.
func (s *Server) loadCachedConfig() (*uemapi.ConfigDocument, error) {
	b, err := os.ReadFile(s.configCachePath())
	if err != nil {
		return nil, err
	}
	doc, err := uemapi.DecodeConfigDocument(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("gateway: cached configuration: %w", err)
	}
	if err := doc.Config.Validate(); err != nil {
		return nil, fmt.Errorf("gateway: cached configuration %d: %w", doc.Version, err)
	}
	return doc, nil
}

// statsLoop observes the peaks and writes the statistics files every
// StatsInterval (STA-07, STA-08).
func (s *Server) statsLoop(ctx context.Context) {
	interval := s.cfg.StatsInterval
	if interval <= 0 {
		interval = 5 * time.Minute
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	files := stats.Files{Dir: s.cfg.DataDir}
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.observePeaks(now)
			if err := files.Append(s.stats, s.peaks, now); err != nil {
				s.log.Warn("writing statistics", "error", err)
			}
		}
	}
}

func (s *Server) observePeaks(now time.Time) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	s.peaks.Observe(stats.PeakHeapMemUsedMB, float64(m.HeapInuse)/(1<<20), now)
	s.peaks.Observe(stats.PeakProcessVirtualMemUsedMB, float64(m.Sys)/(1<<20), now)
	s.peaks.Observe(stats.PeakRunningThreads, float64(runtime.NumGoroutine()), now)
	peak, at := s.cache.Peak()
	if !at.IsZero() {
		s.peaks.Observe(stats.PeakDeviceCacheSize, float64(peak), at)
	}
}

// DeviceURL is the device-facing base URL.
func (s *Server) DeviceURL() string { return s.url("device") }

// AdminURL is the admin API base URL.
func (s *Server) AdminURL() string { return s.url("admin") }

// NotifyURL is the full URL the UEM posts notifications to.
func (s *Server) NotifyURL() string { return s.url("notify") + NotificationPath }

func (s *Server) url(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return "https://" + s.addrs[name]
}

// AdminToken returns the admin API token.
func (s *Server) AdminToken() string { return s.cfg.AdminToken }

// Certificate returns the certificate all listeners present.
func (s *Server) Certificate() tls.Certificate { return s.cert }

// Cache exposes the device cache to in-process tests and the lab.
func (s *Server) Cache() *devicecache.Cache { return s.cache }

func (s *Server) closeListeners() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ln := range s.lns {
		ln.Close()
	}
}

// Shutdown stops the listeners gracefully, ends the background work
// (the UEM link's included: nothing calls the UEM or writes the cache
// or the list once it returns), writes the persistent device list
// (DC-02) if the cache was ever loaded, and closes the files. It may be
// called in any state, and more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.state >= stateStopping {
		s.mu.Unlock()
		select {
		case <-s.stopDone:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.state = stateStopping
	servers := s.servers
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.state = stateStopped
		s.mu.Unlock()
		close(s.stopDone)
	}()

	s.as.Drain() // hanging Pings are answered now, not at the deadline
	var errs []error
	for _, srv := range servers {
		if err := s.fresh.shutdown(ctx, srv); err != nil {
			errs = append(errs, err)
			srv.Close()
		}
	}
	// The reconnect work first, so that Run's final write holds its result.
	s.link.Stop()
	s.mu.Lock()
	s.cancel() // under mu: no goroutine is added to wg after this (runCtx is checked under mu)
	s.mu.Unlock()
	s.wg.Wait() // Run (its final write of the list), statistics, routers, KCD, a Start under way
	s.closeListeners()
	s.mu.Lock()
	errs = append(errs, s.runErr)
	// A cache loaded by a Start that did not reach running is written
	// here; one never loaded (a failed start) never is: writing the empty
	// cache would erase the list, and with it every blocked device.
	persist := s.cacheLoaded && !s.runStarted
	s.mu.Unlock()
	if persist {
		if _, err := s.link.Persist(); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, s.store.Close())
	if s.auditF != nil {
		errs = append(errs, s.auditF.Close())
	}
	return errors.Join(errs...)
}

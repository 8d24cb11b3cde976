package gateway

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/activesync"
	"github.com/gatehouse-lab/gatehouse/gateway/admin"
	"github.com/gatehouse-lab/gatehouse/gateway/alerts"
	"github.com/gatehouse-lab/gatehouse/gateway/attachments"
	"github.com/gatehouse-lab/gatehouse/gateway/audit"
	"github.com/gatehouse-lab/gatehouse/gateway/deviceauth"
	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/gateway/kerberos/delegation"
	"github.com/gatehouse-lab/gatehouse/gateway/logctl"
	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/gateway/uemsync"
	"github.com/gatehouse-lab/gatehouse/gateway/upstream"
	"github.com/gatehouse-lab/gatehouse/internal/clock"
	"github.com/gatehouse-lab/gatehouse/internal/selfsigned"
	"github.com/gatehouse-lab/gatehouse/internal/trust"
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
	coll   *stats.Collection // STA-08: started/stopped, interval
	uem    *uemapi.Client
	link   *uemsync.Link
	as     *activesync.Handler
	fresh  *freshConns // connections without a request yet, closed at shutdown
	audit  *audit.Logger
	auditF *os.File
	alerts *alerts.Service  // ALR-01..10: data_dir/alerts.log and notifications
	logs   *logctl.Controls // the Sentry log's run-time controls (LOG-01..08)
	logsF  *os.File
	mics   *logctl.MICS // the MICS log switch (LOG-01): UEM link traffic, mics.go
	micsF  *os.File
	crls   *deviceauth.CRLCache
	keys   *attachments.Keyring // the attachment keys, current and older (ATT-11)
	// wantCert says whether the device listener asks for client
	// certificates (Group and Identity Certificate modes).
	wantCert atomic.Bool
	// configVersion is the UEM configuration version applied last.
	configVersion atomic.Int64
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
	// krb is the Kerberos configuration in use (nil: none); krbStop ends
	// its initialisation loop when the configuration changes.
	krb     atomic.Pointer[delegation.Delegator]
	krbStop context.CancelFunc
	krbCfg  []byte      // the JSON of the Kerberos configuration in use
	kkdcp   atomic.Bool // Enable Kerberos Proxy (KKD-01)
	// socketRW is the socket read/write timeout of the moment (ASC-20),
	// which also bounds each read of a device's request body.
	socketRW atomic.Int64
	// deviceRequest is the Device request timeout of the moment (ASC-23),
	// which the device listener's connections apply (requesttimeout.go).
	deviceRequest atomic.Int64
	at            *appTunnel      // the AppTunnel listener; nil without apptunnel_listen
	initLog       *logctl.InitLog // init.log until Start ends (LOG-09, startlogs.go)
	gcLog         *logctl.GCLog   // gc.log, nil when off (LOG-10)
	runCtx        context.Context // lives from New to Shutdown: background work
	cancel        context.CancelFunc

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

	// restart is closed by Clear Configuration (CFG-03, restart.go);
	// restartable: the runner restarts the Server then. Both under mu.
	restart     chan struct{}
	restartOnce sync.Once
	restartable bool
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
	il, err := startInitLog(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	gl, err := startGCLog(cfg.DataDir)
	if err != nil {
		il.Finish(err)
		return nil, err
	}
	s, err := build(cfg, slog.New(il.Handler(log.Handler())))
	if err != nil {
		gl.Stop()
		il.Finish(err)
		return nil, err
	}
	s.initLog, s.gcLog = il, gl
	return s, nil
}

// build makes the Server's parts; log tees into the init log (LOG-09).
func build(cfg Config, log *slog.Logger) (_ *Server, err error) {
	s := &Server{cfg: cfg, log: log, fresh: newFreshConns(), stats: stats.NewRegistry(), peaks: &stats.Peaks{}, coll: stats.NewCollection(cfg.StatsInterval), addrs: map[string]string{},
		crls: deviceauth.NewCRLCache(nil, nil), keys: &attachments.Keyring{}, stopDone: make(chan struct{})}
	s.runCtx, s.cancel = context.WithCancel(context.Background())
	defer s.closeIfFailed(&err, log) // a retry on the same data dir must not wait on its locks
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
	s.deviceRequest.Store(int64(msDuration(uemapi.DefaultGatewayConfig().Timeouts.DeviceRequestMs)))
	s.limits = deviceLimiter(cfg, s.stats)
	s.cache = devicecache.New(clock.Or(cfg.Clock).Now)
	if s.store, err = devicecache.OpenStore(filepath.Join(cfg.DataDir, "devices.db")); err != nil {
		return nil, err
	}
	uemTLS, err := trust.Client(cfg.UEM.CAFile, cfg.UEM.Insecure)
	if err != nil {
		return nil, fmt.Errorf("gateway: uem trust: %w", err)
	}
	s.mics = logctl.NewMICS()
	s.uem, err = uemapi.NewClient(cfg.UEM.URL, cfg.UEM.Token, uemapi.WithHTTPClient(&http.Client{
		Transport: s.mics.Transport(&http.Transport{TLSClientConfig: uemTLS, MaxIdleConnsPerHost: 16}), Timeout: 2 * time.Minute,
	}), uemapi.WithGatewayVersion(softwareVersion(cfg.Version)))
	if err != nil {
		return nil, fmt.Errorf("gateway: uem client: %w", err)
	}
	s.link, err = uemsync.New(uemsync.Config{
		UEM: s.uem, Cache: s.cache, Store: s.store, FailOpen: cfg.FailOpen,
		CheckInterval: cfg.CheckInterval, ResyncInterval: cfg.ResyncInterval,
		PersistInterval: cfg.PersistInterval, LastSeenInterval: cfg.LastSeenInterval,
		CallTimeout:    cfg.UEM.CallTimeout,
		OnConnectivity: s.micsConnectivity, // mics.go
		OnConfigChange: func(int64) error { return s.refreshConfig(s.runCtx) },
		OnKeyChange:    func(uemapi.KeyChange) error { return s.loadKey(s.runCtx) },
		OnReconnect: func(ctx context.Context) {
			if err := s.refreshConfig(ctx); err != nil {
				s.log.Warn("configuration not fetched after reconnect", "error", err)
			}
		},
		Now: clock.Or(cfg.Clock).Now,
		Log: log,
	})
	if err != nil {
		return nil, err
	}
	if err := s.openRecords(cfg, log); err != nil {
		return nil, err
	}
	upTLS, err := trust.Client(cfg.UpstreamCAFile, cfg.UpstreamInsecure)
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
		Stats: s.stats, Audit: s.audit, Log: log, MaxCredentialChecks: cfg.MaxCredentialChecks,
		Alerts: s.alerts, WrapTransport: s.logs.Transport,
	})
	if err != nil {
		return nil, err
	}
	if err := s.newAppTunnel(); err != nil {
		return nil, err
	}
	// Only the parts the saved settings switch: the admin API's full Deps
	// would build a second metrics registry for nothing.
	saved := admin.Deps{Audit: s.audit, Link: s.link, Collection: s.coll, Alerts: s.alerts, LocalConfigFile: s.localConfigPath()}
	if err := admin.RestoreLocalConfig(saved); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	return s, nil
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
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

package upstream

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// Errors RoundTrip returns; the handler answers them with 502 or 503.
var (
	// ErrNotConfigured: ActiveSync is disabled or has no service.
	ErrNotConfigured = errors.New("upstream: ActiveSync is not configured")
	// ErrNoServer: every server of the service is dead or failed this
	// request. It wraps the last attempt's error, if any.
	ErrNoServer = errors.New("upstream: no ActiveSync server available")
)

// Router holds the ActiveSync services of one configuration and the
// health of their servers. It is safe for concurrent use; Update swaps
// the configuration atomically.
type Router struct {
	opts      Options
	transport *http.Transport // device traffic (HTTP/2, and what h1 does not take)
	h1        *h1pool         // device traffic over HTTP/1.1 (h1pool.go); nil: off
	hcClient  *http.Client    // health checks: one connection per check

	mu    sync.Mutex // serialises Update
	table atomic.Pointer[table]
	wake  chan struct{} // Update wakes Run

	counters serverCounters
	hc       healthCounters
	pings    heartbeats
	flights  dialFlights // HTTP/2: one dial to a server at a time (dialflight.go)
}

// table is one configuration: its settings and services.
type table struct {
	set      *settings
	services []*Service          // "default" first
	byName   map[string]*Service // lower-cased service name
}

// Service is one ActiveSync service: a name the Host header selects and
// the pool of servers it schedules requests on.
type Service struct {
	router  *Router
	set     *settings
	cfg     uemapi.ActiveSyncService
	servers []*Server
	sel     selector
	policy  healthPolicy
	limit   int // Limit Protocol Version as 141, 0: none
}

// Name returns the service name ("default" for the first).
func (s *Service) Name() string { return s.cfg.Name }

// ClientTLS reports Enable Client TLS (ASC-07): the device-facing handler
// refuses devices of this service that did not connect with TLS.
func (s *Service) ClientTLS() bool { return s.cfg.ClientTLS }

// Config returns the service's configuration as the UEM gave it (server
// authentication and SPNs among it).
func (s *Service) Config() uemapi.ActiveSyncService { return s.cfg }

// Servers returns the service's servers in list order.
func (s *Service) Servers() []*Server { return append([]*Server(nil), s.servers...) }

// FirstServer returns the first server in list order, nil if none.
func (s *Service) FirstServer() *Server {
	if s == nil || len(s.servers) == 0 {
		return nil
	}
	return s.servers[0]
}

// New validates the configuration (errors are *uemapi.Error naming the
// field) and returns a Router. It does no I/O; call Run for the
// background health check.
func New(cfg uemapi.ActiveSyncConfig, mgmt uemapi.ServerManagement, timeouts uemapi.Timeouts, opts Options) (*Router, error) {
	set, err := validate(cfg, mgmt, timeouts)
	if err != nil {
		return nil, err
	}
	r := &Router{opts: opts.withDefaults(), wake: make(chan struct{}, 1)}
	r.transport = &http.Transport{
		DialContext:         r.dialPlain,
		DialTLSContext:      r.dialTLS,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     90 * time.Second,
		// Pass bodies through as the server encoded them.
		DisableCompression: true,
		// With our own DialTLSContext the transport speaks HTTP/2 only
		// when told to, on a *tls.Conn that negotiated h2.
		ForceAttemptHTTP2: opts.HTTP2,
	}
	if !opts.HTTP2 && !opts.NoH1Pool {
		r.h1 = newH1Pool(r.dialServer)
	}
	r.hcClient = &http.Client{
		Transport: &http.Transport{
			DialContext:        r.dialHealth,
			DialTLSContext:     r.dialHealthTLS,
			DisableKeepAlives:  true,
			DisableCompression: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	r.table.Store(r.build(set, nil))
	return r, nil
}

// build turns settings into services, reusing the Server (and so the
// health) of every server whose service name, address and TLS did not
// change.
func (r *Router) build(set *settings, old *table) *table {
	t := &table{set: set, byName: map[string]*Service{}}
	reuse := map[string]*Server{}
	if old != nil {
		for _, svc := range old.services {
			for _, srv := range svc.servers {
				reuse[serverKey(svc.cfg.Name, srv.addr)] = srv
			}
		}
	}
	for i, cfg := range set.services {
		svc := &Service{
			router: r,
			set:    set,
			cfg:    cfg,
			sel:    newSelector(set.scheduling),
			limit:  limitVersion(cfg.LimitProtocolVersion),
			policy: healthPolicy{
				deadThreshold: set.deadThreshold,
				failureWindow: set.failureWindow,
				deadTime:      set.deadTime,
				checkEnabled:  cfg.HealthCheck.Enabled,
				liveThreshold: cfg.HealthCheck.LiveThreshold,
			},
		}
		for _, a := range set.serviceServers[i] {
			srv := reuse[serverKey(cfg.Name, a)]
			if srv == nil || srv.addr != a {
				// A host now spelled in another case is a new server:
				// the SPN is derived from the spelling (KRB-02).
				srv = newServer(a)
			}
			svc.servers = append(svc.servers, srv)
		}
		t.services = append(t.services, svc)
		t.byName[strings.ToLower(cfg.Name)] = svc
	}
	return t
}

func serverKey(service string, a serverAddr) string {
	return strings.ToLower(service) + "\x00" + a.scheme() + "\x00" + strings.ToLower(a.hostport)
}

// Update applies a new configuration. Requests in flight finish on the
// configuration they started with; servers that are still listed under
// the same service, address and TLS keep their health.
func (r *Router) Update(cfg uemapi.ActiveSyncConfig, mgmt uemapi.ServerManagement, timeouts uemapi.Timeouts) error {
	set, err := validate(cfg, mgmt, timeouts)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.table.Store(r.build(set, r.table.Load()))
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
	return nil
}

// Route returns the service the request's Host header names, or the
// default service (ASC-03). Matching ignores case and a port. It returns
// nil when ActiveSync is not configured.
func (r *Router) Route(req *http.Request) *Service {
	return r.table.Load().route(req.Host)
}

func (t *table) route(host string) *Service {
	if len(t.services) == 0 {
		return nil
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if svc := t.byName[host]; svc != nil {
		return svc
	}
	return t.services[0]
}

// Services returns the current services, "default" first.
func (r *Router) Services() []*Service {
	return append([]*Service(nil), r.table.Load().services...)
}

// DeviceRequestTimeout is the configured device request timeout
// (ASC-23), for the device-facing server's ReadHeaderTimeout and
// IdleTimeout; see DeviceListener for its counters.
func (r *Router) DeviceRequestTimeout() time.Duration { return r.table.Load().set.deviceRequest }

type serviceCtxKey struct{}

// WithService pins the service of a request, chosen by the handler with
// Route on the device's request, so that Router.RoundTrip uses it
// whatever Host header the outgoing request carries.
func WithService(ctx context.Context, s *Service) context.Context {
	return context.WithValue(ctx, serviceCtxKey{}, s)
}

// RoundTrip makes the Router an http.RoundTripper for the handler's
// httputil.ReverseProxy: it sends the request to the service pinned by
// Device.Service or WithService, else to the one its Host header names. The request's URL
// scheme and host are replaced by the chosen server's.
func (r *Router) RoundTrip(req *http.Request) (*http.Response, error) {
	var svc *Service
	if d, ok := deviceFrom(req.Context()); ok && d.Service != nil {
		svc = d.Service
	} else {
		svc, _ = req.Context().Value(serviceCtxKey{}).(*Service)
	}
	if svc == nil {
		svc = r.Route(req)
	}
	if svc == nil {
		return nil, ErrNotConfigured
	}
	return svc.RoundTrip(req)
}

// CloseIdleConnections closes the idle server connections.
func (r *Router) CloseIdleConnections() {
	r.transport.CloseIdleConnections()
	if r.h1 != nil {
		r.h1.closeIdle()
	}
}

// roundTrip sends one attempt: on the lean HTTP/1.1 path when it takes
// the request, else on the http.Transport.
func (r *Router) roundTrip(req *http.Request) (*http.Response, error) {
	if r.h1 != nil && h1Eligible(req) {
		return r.h1.RoundTrip(req)
	}
	return r.transport.RoundTrip(req)
}

// Device is what the caller knows about the device a request is for: its
// counters and the redirect URL the device cache remembers (RDR-04).
type Device struct {
	ID, User string
	// Stats receives the per-device s-* counters; nil: none.
	Stats *stats.Device
	// RedirectURL is the remembered 451 location; requests go there first.
	RedirectURL string
	// Auth, when set, gives each attempt its credentials (Kerberos).
	Auth Authorizer
	// Cmd and Version (141 for 14.1), when Cmd is set, are the request's
	// as the caller already parsed them; otherwise RoundTrip reads them
	// off the request itself.
	Cmd     string
	Version int
	// Service, when set, pins the service as WithService does, saving
	// the caller a context layer.
	Service *Service
}

type deviceCtxKey struct{}

// WithDevice attaches the device to a request's context.
func WithDevice(ctx context.Context, d Device) context.Context {
	return context.WithValue(ctx, deviceCtxKey{}, d)
}

func deviceFrom(ctx context.Context) (Device, bool) {
	d, ok := ctx.Value(deviceCtxKey{}).(Device)
	return d, ok
}

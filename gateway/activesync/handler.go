// Package activesync is the gateway's device-facing ActiveSync endpoint:
// it identifies the device, asks the device cache (and through it the
// UEM) whether to let it in, tells blocked devices so (DEF-08), sends
// devices that must provision to Provision (DEF-09), replaces the server's
// policy with the UEM's, delivers remote wipes, and relays everything
// else to the ActiveSync server untouched.
package activesync

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/alerts"
	"github.com/gatehouse-lab/gatehouse/gateway/audit"
	"github.com/gatehouse-lab/gatehouse/gateway/deviceauth"
	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/gateway/oauth"
	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/gateway/uemsync"
	"github.com/gatehouse-lab/gatehouse/gateway/upstream"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
)

// Paths the endpoint answers on: Exchange's, and the Lotus Traveler ones.
var Paths = []string{"/Microsoft-Server-ActiveSync", "/traveler/Microsoft-Server-ActiveSync", "/servlet/traveler/Microsoft-Server-ActiveSync"}

// Config configures the handler.
type Config struct {
	Upstream  *url.URL // the ActiveSync server, e.g. https://mail.example.com
	Transport http.RoundTripper
	Link      *uemsync.Link
	Cache     *devicecache.Cache
	Stats     *stats.Registry // nil: no statistics
	Audit     *audit.Logger   // nil: no audit log
	Alerts    *alerts.Service // nil: no alerts (ALR-01)
	Log       *slog.Logger
	// MaxProvisionBody bounds the Provision bodies the gateway reads to
	// rewrite; other bodies stream through unread. Default 1 MiB.
	MaxProvisionBody int64
	// MaxCredentialChecks bounds the credential checks of new devices in
	// flight; past it they get 503 (issue 18). Default 1024.
	MaxCredentialChecks int
	// WrapTransport, when set, wraps the transport to the servers (the
	// server side of the Sentry log, gateway/logctl).
	WrapTransport func(http.RoundTripper) http.RoundTripper
}

// Handler serves the ActiveSync endpoint.
type Handler struct {
	cfg      Config
	proxy    *httputil.ReverseProxy
	upstream atomic.Pointer[url.URL]
	auth     atomic.Pointer[deviceauth.Authenticator]
	router   atomic.Pointer[upstream.Router]
	attach   atomic.Pointer[AttachmentControl]
	kerberos atomic.Pointer[Delegation]
	oauth    atomic.Pointer[oauth.Gate] // OAuth pass-through, nil when off
	names    fileNames
	infos    deviceInfos // Provision DeviceInformation, for attachment control
	// admission checks a new device's credentials with Exchange before
	// anything of it is kept (issue 18).
	admission *admission
	// draining is cancelled when the gateway stops: hanging Pings are
	// answered then instead of holding the shutdown (see Drain).
	draining    context.Context
	stopPinging context.CancelFunc
}

// errDraining ends a hanging Ping when the gateway stops.
var errDraining = errors.New("activesync: the gateway is stopping")

// Drain answers every hanging Ping at once, and any Ping still to come,
// with Status 1 (heartbeat expired, no changes): the device simply Pings
// again, reaching the restarted gateway, where a Ping left hanging would
// hold the shutdown until its heartbeat or the shutdown's deadline and
// then be cut. Other requests run to their end.
func (h *Handler) Drain() { h.stopPinging() }

// SetRouter sends requests through the UEM-configured ActiveSync services
// and server pools (routing by Host, scheduling, failover, timeouts, 451
// processing); nil goes back to the single Upstream URL.
func (h *Handler) SetRouter(r *upstream.Router) { h.router.Store(r) }

// placeholder is the URL a routed request carries until the Router picks
// the server.
var placeholder = &url.URL{Scheme: "https", Host: "activesync.invalid"}

// SetDeviceAuth switches device authentication (DA-01); nil is Pass Through.
func (h *Handler) SetDeviceAuth(a *deviceauth.Authenticator) { h.auth.Store(a) }

// SetUpstream switches the ActiveSync server, as a configuration change
// from the UEM does, without interrupting requests in flight.
func (h *Handler) SetUpstream(u *url.URL) { h.upstream.Store(u) }

// Upstream returns the ActiveSync server requests go to.
func (h *Handler) Upstream() *url.URL { return h.upstream.Load() }

// New returns the handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Upstream == nil || cfg.Link == nil || cfg.Cache == nil {
		return nil, errors.New("activesync: Upstream, Link and Cache are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.MaxProvisionBody <= 0 {
		cfg.MaxProvisionBody = 1 << 20
	}
	if cfg.Transport == nil {
		cfg.Transport = DefaultTransport(nil)
	}
	h := &Handler{cfg: cfg, admission: newAdmission(nil)}
	if cfg.MaxCredentialChecks > 0 {
		h.admission.maxProbing = cfg.MaxCredentialChecks
	}
	h.draining, h.stopPinging = context.WithCancel(context.Background())
	h.upstream.Store(cfg.Upstream)
	h.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			// The device's Authorization header passes through untouched
			// (Pass Through authentication); X-Forwarded-For tells the
			// server who the device is.
			if h.router.Load() != nil {
				// ServeHTTP pinned the service and the device in the
				// context; the Router picks the server.
				pr.SetURL(placeholder)
				pr.SetXForwarded()
				return
			}
			up := h.upstream.Load()
			pr.SetURL(up)
			pr.Out.Host = up.Host
			pr.SetXForwarded()
		},
		Transport:      wrapTransport(cfg.WrapTransport, transport{h}),
		ModifyResponse: h.modifyResponse,
		ErrorHandler:   h.upstreamError,
		// No periodic flushing: ActiveSync responses, long-polled Pings
		// included, arrive whole with a Content-Length and go out whole;
		// flushing each write would cost a syscall per buffer.
		//
		// Without a pool the proxy allocates a fresh 32 KiB copy buffer
		// per request: at thousands of requests a second that alone
		// drives the garbage collector.
		BufferPool: &copyBuffers{},
	}
	return h, nil
}

// DefaultTransport is the upstream transport: TLS 1.2+, no SNI unless the
// server name is set (the seeds turn SNI off by default), keep-alives.
func DefaultTransport(tlsCfg *tls.Config) *http.Transport {
	if tlsCfg == nil {
		tlsCfg = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tlsCfg,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   1024,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// copyBuffers recycles the proxy's 32 KiB response copy buffers.
type copyBuffers struct{ pool sync.Pool }

func (c *copyBuffers) Get() []byte {
	if b, ok := c.pool.Get().(*[32 << 10]byte); ok {
		return b[:]
	}
	return new([32 << 10]byte)[:]
}

func (c *copyBuffers) Put(b []byte) {
	if len(b) == 32<<10 {
		c.pool.Put((*[32 << 10]byte)(b))
	}
}

type ctxKey struct{}

// exchange is what one request carries from the decision to the response.
type exchange struct {
	info    *eas.RequestInfo
	key     devicecache.Key
	outcome uemsync.Outcome
	dev     *stats.Device
	phase2  bool // a Provision acknowledging a policy
	// devInfo is what a Provision said of the device (14.1+), nil for
	// other commands: a pointer keeps the exchange of every request, held
	// Pings included, 152 bytes smaller.
	devInfo *eas.DeviceInformationSet
	upn     string // from the identity certificate
	// auth replaces the device's Authorization header with a Kerberos
	// ticket for each server tried, when the service authenticates to
	// its server with Kerberos (KCD).
	auth *kerberosAuth
	// newConn: the first request of this device on its connection
	// (d-connection, the cache's Cn); s503: the 503 the device gets is
	// the server's (d-http-503-s2c), not the gateway's own (-c2s).
	newConn, s503 bool
	alerted       bool // an alert was raised for this request
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w = h.withChallengeRewrite(w, r)
	rec := &statusRecorder{ResponseWriter: w}
	w = rec
	rt := h.router.Load()
	if r.Method != http.MethodPost {
		h.serveNotPost(w, r, rt)
		return
	}
	info, err := eas.ParseRequest(r)
	if err != nil {
		h.countGlobal(unparsedCounter(r, err)) // no device yet: the global sums
		http.Error(w, "bad ActiveSync request: "+err.Error(), http.StatusBadRequest)
		return
	}
	id, ok := h.identify(w, r, info)
	if !ok {
		return
	}
	if info.Query.DeviceID == "" {
		http.Error(w, "ActiveSync request without device id", http.StatusBadRequest)
		return
	}
	key := devicecache.Key{DeviceID: info.Query.DeviceID, User: id.user}
	var svc *upstream.Service
	if rt != nil {
		svc = rt.Route(r)
	}
	if !h.admit(w, r, rt, svc, key, id) {
		return
	}
	// From here on the user is authenticated: the device may have a
	// statistics row, a UEM association and a cache entry.
	x := &exchange{info: info, key: key, upn: id.upn, newConn: true}
	defer h.alertResponse(x, rec)
	if h.cfg.Stats != nil {
		x.dev = h.cfg.Stats.Device(x.key.DeviceID, x.key.User)
		x.dev.Inc(stats.DHTTPRequests)
		x.dev.Inc(stats.CommandCounter(string(info.Query.Cmd)))
		if m := stats.ConnFrom(r.Context()); m != nil {
			x.newConn = m.Attach(x.dev)
		}
		defer countResponse(x, rec)
	}
	provErr := h.decide(r, x)

	if h.cfg.Audit.Enabled() { // off by default: none of this on the hot path then
		end := h.beginAudit(r, x, svc, rec)
		defer end()
	}

	switch {
	case x.outcome.Blocked:
		x.count(stats.Blocks)
		h.block(w, x)
		return
	case x.outcome.Entry.State == devicecache.WipePending || x.outcome.Entry.State == devicecache.PolicyPending:
		if provErr != nil { // the Provision a pending wipe or policy needs could not be read
			http.Error(w, provErr.Error(), bodyErrorStatus(provErr))
			return
		}
		if h.enforcePending(w, r, x) {
			return
		}
	default:
		x.count(stats.Permits)
	}
	if provErr != nil {
		http.Error(w, provErr.Error(), bodyErrorStatus(provErr))
		return
	}
	if err := h.rewriteOutbound(r, x); err != nil {
		h.cfg.Log.Warn("attachment control on outbound mail failed", "device", x.key.DeviceID, "error", err)
		http.Error(w, "outbound mail could not be processed", bodyErrorStatus(err))
		return
	}
	if err := h.delegate(r, x); err != nil {
		h.kerberosFailed(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, x)), err)
		return
	}
	if x.dev != nil {
		x.dev.Inc(stats.SHTTPRequests)
	}
	ctx := context.WithValue(r.Context(), ctxKey{}, x)
	if rt != nil {
		ctx = upstream.WithDevice(ctx, x.device(svc))
	}
	if info.Query.Cmd == eas.CmdPing {
		var cancel context.CancelCauseFunc
		ctx, cancel = context.WithCancelCause(ctx)
		defer cancel(nil)
		stop := context.AfterFunc(h.draining, func() { cancel(errDraining) })
		defer stop()
	}
	h.proxy.ServeHTTP(w, r.WithContext(ctx))
}

// decide sets x.outcome, the UEM link's decision for the device. A
// Provision is read first: from 14.1 it carries the device's information
// (model, OS, phone number), which a first access reports to the UEM
// (ASA-02). A body that cannot be read is returned, to be answered after
// the decision, as before: a blocked device is told so.
func (h *Handler) decide(r *http.Request, x *exchange) (provErr error) {
	info := x.info
	if info.Query.Cmd == eas.CmdProvision {
		provErr = h.readProvision(r, x)
	} else if info.Query.Cmd == eas.CmdSettings && h.attach.Load() != nil {
		h.readSettings(r, x) // the device's language, for attachment control
	}
	req := uemsync.DeviceRequest{
		DeviceID: x.key.DeviceID, User: x.key.User, DeviceType: info.Query.DeviceType,
		UserAgent: info.UserAgent, ProtocolVersion: info.Version.String(),
	}
	if d := x.devInfo; d != nil {
		req.Model, req.OS, req.PhoneNumber = d.Model, d.OS, d.PhoneNumber
	}
	x.outcome = h.cfg.Link.Access(r.Context(), req)
	h.cfg.Cache.TouchRequest(x.key, info.Version.String(), x.newConn)
	return provErr
}

// The rest of ServeHTTP's branches are cold: other methods than POST,
// the audit (off by default, audit.go) and devices with a wipe or a
// policy pending. They are kept out of the request path.

// serveNotPost relays OPTIONS (routed by Host like any request) and
// answers any other method but POST with 405.
func (h *Handler) serveNotPost(w http.ResponseWriter, r *http.Request, rt *upstream.Router) {
	if r.Method == http.MethodOptions {
		countOptions(r, h.cfg.Stats)
		if rt != nil {
			r = r.WithContext(upstream.WithService(r.Context(), rt.Route(r)))
		}
		h.proxy.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Allow", "OPTIONS, POST")
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
}

// enforcePending handles a device with a wipe or a policy pending: a wipe
// is delivered on Provision and anything else is told to provision; with
// a policy pending only Provision goes on. It reports whether it answered.
func (h *Handler) enforcePending(w http.ResponseWriter, r *http.Request, x *exchange) (answered bool) {
	if x.outcome.Entry.State == devicecache.WipePending {
		x.count(stats.Wipes)
		if x.info.Query.Cmd == eas.CmdProvision {
			h.deliverWipe(w, r, x)
			return true
		}
		h.requireProvision(w, x, eas.StatusDeviceNotProvisioned)
		return true
	}
	x.count(stats.Pendings)
	if x.info.Query.Cmd != eas.CmdProvision {
		h.requireProvision(w, x, eas.StatusInvalidPolicyKey)
		return true
	}
	return false
}

// kerberosFailed answers a request the gateway could not get a Kerberos
// ticket for: 502 with the reason, and kerberos-auth-error (KRB-16).
func (h *Handler) kerberosFailed(w http.ResponseWriter, r *http.Request, err error) {
	dev, user := "", ""
	if x, ok := r.Context().Value(ctxKey{}).(*exchange); ok {
		x.count(stats.KerberosAuthError)
		dev, user = x.key.DeviceID, x.key.User
		h.raise(x, alerts.IDKerberos, alerts.Error, "Kerberos authentication to the ActiveSync server failed: "+err.Error())
	}
	h.cfg.Log.Warn("Kerberos authentication to the ActiveSync server failed", "device", dev, "user", user, "error", err)
	http.Error(w, "Kerberos authentication to the ActiveSync server failed: "+err.Error(), http.StatusBadGateway)
}

// device is what the upstream Router needs to know of the device and
// the service it goes to.
func (x *exchange) device(svc *upstream.Service) upstream.Device {
	d := upstream.Device{
		ID: x.key.DeviceID, User: x.key.User, Stats: x.dev, RedirectURL: x.outcome.Entry.RedirectURL,
		Cmd: string(x.info.Query.Cmd), Version: int(x.info.Version), Service: svc,
	}
	if x.auth != nil {
		d.Auth = x.auth // KCD: a ticket per server tried
	}
	return d
}

func (x *exchange) count(c stats.Counter) {
	if x.dev != nil {
		x.dev.Inc(c)
	}
}

// block tells the device it is blocked as Exchange does (DEF-08): HTTP 403
// up to 12.1, Status 129 in the command's response from 14.0.
func (h *Handler) block(w http.ResponseWriter, x *exchange) {
	if x.info.Version.Compare(eas.V140) >= 0 && writeStatus(w, x.info.Query.Cmd, eas.StatusDeviceIsBlockedForThisUser) {
		x.count(stats.ActiveSyncStatusReports)
		h.alertStatus(x, eas.StatusDeviceIsBlockedForThisUser, "the device is blocked")
		return
	}
	http.Error(w, "device blocked", http.StatusForbidden)
}

// requireProvision sends the device to Provision (DEF-09): HTTP 449 up to
// 12.1, the given status (142 or 144) from 14.0.
func (h *Handler) requireProvision(w http.ResponseWriter, x *exchange, st eas.Status) {
	if x.info.Version.Compare(eas.V140) >= 0 && writeStatus(w, x.info.Query.Cmd, st) {
		x.count(stats.ActiveSyncStatusReports) // a Status in the body, not HTTP 449
		return
	}
	w.WriteHeader(eas.HTTPRetryWith) // d-http-449 in countResponse
}

func wrapTransport(wrap func(http.RoundTripper) http.RoundTripper, t http.RoundTripper) http.RoundTripper {
	if wrap == nil {
		return t
	}
	return wrap(t)
}

// transport sends through the Router when one is set, else through the
// configured Transport to the single upstream.
type transport struct{ h *Handler }

func (t transport) RoundTrip(r *http.Request) (*http.Response, error) {
	if rt := t.h.router.Load(); rt != nil {
		return rt.RoundTrip(r)
	}
	return t.h.cfg.Transport.RoundTrip(r)
}

func (h *Handler) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	// With a Router the failure is already counted by its cause (timeouts,
	// connection errors); without one it is unclassified.
	if x, ok := r.Context().Value(ctxKey{}).(*exchange); ok && h.router.Load() == nil {
		x.count(stats.SUnclassified)
	}
	if errors.Is(context.Cause(r.Context()), errDraining) {
		writeStatus(w, eas.CmdPing, eas.Status(1)) // heartbeat expired: Ping again
		if x, ok := r.Context().Value(ctxKey{}).(*exchange); ok {
			x.count(stats.ActiveSyncStatusReports)
		}
		return
	}
	if errors.Is(err, context.Canceled) {
		return // the device went away; nobody to answer
	}
	if ae := (*upstream.AuthError)(nil); errors.As(err, &ae) {
		h.kerberosFailed(w, r, ae)
		return
	}
	if h.deviceBodyFailed(w, err) {
		return
	}
	h.cfg.Log.Warn("activesync upstream failed", "error", err)
	w.WriteHeader(http.StatusBadGateway)
}

func (h *Handler) modifyResponse(resp *http.Response) error {
	x, ok := resp.Request.Context().Value(ctxKey{}).(*exchange)
	if !ok {
		return nil
	}
	if x.dev != nil {
		x.dev.Inc(stats.SHTTPResponses)
		x.dev.Inc(stats.StatusCounter(resp.StatusCode))
		if resp.StatusCode == eas.HTTPRetryWith {
			x.dev.Inc(stats.SHTTP449)
		}
		if resp.StatusCode == eas.HTTPRedirect {
			x.dev.Inc(stats.SHTTP451Redirects)
		}
		countServerResponse(x, resp)
	}
	h.serverStatus(resp, x)
	if x.info.Query.Cmd == eas.CmdProvision && resp.StatusCode == http.StatusOK {
		return h.rewriteProvision(resp, x)
	}
	return h.rewriteInbound(resp, x)
}

package upstream

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// Options are the parts of a Router that do not come from the UEM: the
// clock, the dialer, TLS material and bounds. The zero value is usable.
type Options struct {
	// Now is the clock of the health accounting (Failure Window, Dead
	// Time, last success and failure). Default time.Now. Timeouts and the
	// health-check ticker of Run use real time.
	Now func() time.Time
	// DialContext dials a server (TCP). Default a net.Dialer. The server
	// connection timeout is applied around it.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// TLSConfig is the client TLS configuration for services with Server
	// TLS (root CAs, minimum version, cipher suites). It is cloned; unless
	// it verifies nothing, each server's certificate is verified against
	// the server's host as the server list writes it. Default: TLS 1.2
	// and up, system roots.
	TLSConfig *tls.Config
	// SNI sends the server's host name in the TLS ClientHello (TLS-07:
	// off by default, as the seeds say; some back ends need it).
	SNI bool
	// HTTP2 offers HTTP/2 to servers with Server TLS: the device traffic
	// to a server is multiplexed over a few connections (a hanging Ping
	// is a stream, not a socket) when the server accepts it, as
	// Exchange does. Off: one HTTP/1.1 connection per request in flight.
	HTTP2 bool
	// NoH1Pool sends every request through net/http's Transport. By
	// default, without HTTP2, the ordinary HTTP/1.1 requests take the
	// lean path of h1pool.go (no goroutines per server connection).
	NoH1Pool bool
	// MaxReplayBody bounds the request bodies kept in memory so that a
	// request can be sent again to the next server. Larger bodies stream
	// and get one attempt. Default 1 MiB.
	MaxReplayBody int64
	// PingMargin is added to the heartbeat a Ping asked for to give its
	// server response timeout (ASC-22). Default 30 s.
	PingMargin time.Duration
	// HealthInterval, when positive, replaces every service's configured
	// health-check interval in Run (tests scale it down).
	HealthInterval time.Duration
	// HealthPath is the path the health check sends OPTIONS to. Default
	// /Microsoft-Server-ActiveSync.
	HealthPath string
	// MaxRedirects bounds the 451 redirects followed for one request.
	// Default 3.
	MaxRedirects int
	// OnRedirect is called when a server answered 451 and the gateway
	// followed it (RDR-04): the caller stores url as the device's redirect
	// URL in the device cache and passes it back in Device.RedirectURL.
	// It is called with an empty url when a remembered redirect URL failed
	// and should be forgotten.
	OnRedirect func(ctx context.Context, d Device, url string)
	// Log receives state changes (server dead, server live). Default
	// slog.Default().
	Log *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.DialContext == nil {
		o.DialContext = (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext
	}
	if o.TLSConfig == nil {
		o.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	} else {
		o.TLSConfig = o.TLSConfig.Clone()
	}
	if o.TLSConfig.ClientSessionCache == nil {
		// Resumed handshakes for new server connections: a burst of
		// devices opens many at once, and a full handshake costs the
		// gateway (and the server) an order of magnitude more CPU.
		o.TLSConfig.ClientSessionCache = tls.NewLRUClientSessionCache(256)
	}
	if o.MaxReplayBody <= 0 {
		o.MaxReplayBody = 1 << 20
	}
	if o.PingMargin <= 0 {
		o.PingMargin = 30 * time.Second
	}
	if o.HealthPath == "" {
		o.HealthPath = "/Microsoft-Server-ActiveSync"
	}
	if o.MaxRedirects <= 0 {
		o.MaxRedirects = 3
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return o
}

// settings is one validated configuration, turned into durations.
type settings struct {
	enabled     bool
	redirect451 bool
	scheduling  uemapi.Scheduling

	deadThreshold int
	failureWindow time.Duration
	deadTime      time.Duration

	socketRW       time.Duration // ASC-20
	connect        time.Duration // ASC-21
	response       time.Duration // ASC-22
	deviceRequest  time.Duration // ASC-23
	services       []uemapi.ActiveSyncService
	serviceServers [][]serverAddr
}

// serverAddr is one entry of a Servers List with its default port filled.
type serverAddr struct {
	hostport string
	tls      bool
}

func (a serverAddr) scheme() string {
	if a.tls {
		return "https"
	}
	return "http"
}

// validate checks the configuration with the UEM contract's own rules
// (the errors are *uemapi.Error naming the field) and converts it.
func validate(cfg uemapi.ActiveSyncConfig, mgmt uemapi.ServerManagement, t uemapi.Timeouts) (*settings, error) {
	// Server authentication (Kerberos, ASC-09/ASC-10) is not this
	// package's concern and needs the rest of the gateway configuration
	// to validate, so the services are checked as pass-through ones.
	gc := uemapi.DefaultGatewayConfig()
	gc.ActiveSync = cfg
	gc.ActiveSync.Services = make([]uemapi.ActiveSyncService, len(cfg.Services))
	for i, s := range cfg.Services {
		s.Servers = s.EffectiveServers() // OAU-03
		s.ServerAuth, s.DeriveSPN, s.SPNs = uemapi.AuthPassThrough, false, ""
		s.PassThroughBasic, s.PassThroughOAuth, s.OAuth = false, false, nil
		gc.ActiveSync.Services[i] = s
	}
	gc.Servers, gc.Timeouts = mgmt, t
	validate := gc.Validate
	if !cfg.Enabled {
		// ActiveSync off: only server management and timeouts concern us
		// (the rest of the configuration is validated as a whole).
		validate = func() error {
			if err := mgmt.Validate(); err != nil {
				return err
			}
			return t.Validate()
		}
	}
	if err := validate(); err != nil {
		return nil, err
	}
	s := &settings{
		enabled:       cfg.Enabled,
		redirect451:   cfg.Redirect451,
		scheduling:    mgmt.Scheduling,
		deadThreshold: mgmt.DeadThreshold,
		failureWindow: ms(mgmt.FailureWindowMs),
		deadTime:      ms(mgmt.DeadTimeMs),
		socketRW:      ms(t.SocketReadWriteMs),
		connect:       ms(t.ServerConnectMs),
		response:      ms(t.ServerResponseMs),
		deviceRequest: ms(t.DeviceRequestMs),
	}
	if !cfg.Enabled {
		return s, nil
	}
	s.services = append([]uemapi.ActiveSyncService(nil), cfg.Services...)
	for _, svc := range cfg.Services {
		s.serviceServers = append(s.serviceServers, parseServers(svc.EffectiveServers(), svc.ServerTLS))
	}
	return s, nil
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// parseServers splits a validated "host[:port];…" list; a missing port is
// 443 with Server TLS, else 80 (ASC-04, ASC-06). Duplicates are dropped.
func parseServers(list string, serverTLS bool) []serverAddr {
	port := "80"
	if serverTLS {
		port = "443"
	}
	var out []serverAddr
	seen := map[string]bool{}
	for _, e := range strings.Split(list, ";") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		hp := e
		if _, _, err := net.SplitHostPort(e); err != nil {
			hp = net.JoinHostPort(strings.Trim(e, "[]"), port)
		}
		if !seen[strings.ToLower(hp)] {
			seen[strings.ToLower(hp)] = true
			out = append(out, serverAddr{hostport: hp, tls: serverTLS})
		}
	}
	return out
}

// limitVersion parses a Limit Protocol Version ("14.1") to the number the
// MS-ASHTTP base64 query uses (141); 0 means no limit.
func limitVersion(s string) int {
	if s == "" {
		return 0
	}
	v, ok := versionNumber(s)
	if !ok {
		panic(fmt.Sprintf("upstream: unvalidated protocol version %q", s))
	}
	return v
}

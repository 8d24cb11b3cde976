// Package gateway assembles the reference gateway: the device-facing
// ActiveSync endpoint, the UEM link, the device cache and its persistent
// list, statistics, the audit log, the notification receiver and the admin
// API, started and stopped as one Server.
package gateway

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/alerts"
	"github.com/gatehouse-lab/gatehouse/gateway/audit"
	"github.com/gatehouse-lab/gatehouse/internal/clock"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// Config is the gateway's bootstrap configuration: what it needs before
// it can reach the UEM. Everything else comes from the UEM.
type Config struct {
	// Listen is the device-facing HTTPS address (ActiveSync).
	Listen string `yaml:"listen"`
	// NotifyListen receives the UEM's notifications ("Sentry Port", SCOPE-05).
	NotifyListen string `yaml:"notify_listen"`
	// AdminListen serves the admin API and /metrics.
	AdminListen string `yaml:"admin_listen"`
	// ReusePort binds Listen and AppTunnelListen with SO_REUSEPORT, so
	// that several gateway processes share one device (and tunnel) port
	// and the kernel spreads new connections over them (scale-out past
	// one process's file limit).
	ReusePort bool `yaml:"reuse_port"`
	// DataDir holds the persistent device list, the generated TLS
	// certificate, statistics files and the audit log.
	DataDir string `yaml:"data_dir"`
	// TLSCertFile and TLSKeyFile: the device-facing certificate; a
	// self-signed one is generated once and kept in DataDir when empty.
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`

	UEM UEMConfig `yaml:"uem"`

	// Upstream is the ActiveSync server used until (or unless) the UEM's
	// configuration names one, e.g. https://127.0.0.1:8444.
	Upstream string `yaml:"upstream"`
	// UpstreamCAFile trusts the ActiveSync server's certificate; empty
	// means the system roots. UpstreamInsecure skips verification (labs only).
	UpstreamCAFile   string `yaml:"upstream_ca_file"`
	UpstreamInsecure bool   `yaml:"upstream_insecure"`
	// UpstreamHTTP2 offers HTTP/2 to ActiveSync servers with TLS, so that
	// hanging Pings share a few connections instead of holding one
	// socket (a file descriptor) each.
	UpstreamHTTP2 bool `yaml:"upstream_http2"`
	// UpstreamH1Pool sends the ordinary HTTP/1.1 requests to ActiveSync
	// servers on the gateway's lean path (no goroutines per server
	// connection; gateway/upstream/h1pool.go); false: net/http's Transport.
	UpstreamH1Pool bool `yaml:"upstream_h1_pool"`

	// Version is the software version the gateway reports to the UEM on
	// every call, which the UEM shows with the gateway's entry (FLOW-15);
	// empty: the module's build version. Set by the binary, not by a file.
	Version string `yaml:"-"`
	// Clock is the wall clock of the UEM link and the device cache
	// (notification timestamps and replay windows, last-seen times);
	// nil is the system clock. A test or a chaos schedule jumps it.
	Clock clock.Clock `yaml:"-"`

	// AdminToken authenticates the admin API; generated when empty.
	AdminToken string `yaml:"admin_token"`
	// FailOpen is the initial "New device access when EMM server is
	// unreachable": true allows (FO-01 default).
	FailOpen bool `yaml:"fail_open"`

	CheckInterval    time.Duration `yaml:"check_interval"`     // default 15m (DEF-05)
	ResyncInterval   time.Duration `yaml:"resync_interval"`    // default 12h (DEF-05)
	PersistInterval  time.Duration `yaml:"persist_interval"`   // default 5m, ≥ 10s (DEF-03)
	LastSeenInterval time.Duration `yaml:"last_seen_interval"` // default 5m
	StatsInterval    time.Duration `yaml:"stats_interval"`     // default 5m (STA-08)
	// Audit turns the audit log (DataDir/audit.log) on (AUD-11).
	Audit bool `yaml:"audit"`
	// FrontEnds are the addresses (CIDR) a Trusted Front-End may connect
	// from when the UEM sets that device authentication (DA-13).
	FrontEnds []string `yaml:"front_ends"`
	// DNSServer is the DNS server (host:port) used for KDC discovery
	// (KDC-01..08); empty means the system resolver.
	DNSServer string `yaml:"dns_server"`
	// NTPServer (host:port) is what Service Diagnosis checks (SVD-01); empty: not checked.
	NTPServer string `yaml:"ntp_server"`
	// KerberosRetry is the first Kerberos initialisation retry delay,
	// doubling up to 60 times it (DEF-06: 1 minute to 1 hour); default 1m.
	KerberosRetry time.Duration `yaml:"kerberos_retry"`
	// ControlReadTimeout bounds the reading of a whole request (headers
	// and body) on the notification and admin listeners; default 30s.
	// Device bodies are bounded by the UEM's socket read/write timeout
	// instead (ASC-20).
	ControlReadTimeout time.Duration `yaml:"control_read_timeout"`

	// DeviceLimits bound what one source address may do on the device
	// listener (issue 18; the seeds' ACL "connections per minute").
	DeviceLimits DeviceLimits `yaml:"device_limits"`

	// AppTunnelListen is the AppTunnel listener's address
	// (docs/apptunnel.md); empty: no tunnel listener.
	AppTunnelListen string `yaml:"apptunnel_listen"`
	// AppTunnelIdleTimeout closes a tunnel idle that long; default 30m.
	AppTunnelIdleTimeout time.Duration `yaml:"apptunnel_idle_timeout"`
	// MaxCredentialChecks bounds the credential checks of new devices in
	// flight; past it a new device gets 503 (d-http-503-c2s); default 1024.
	MaxCredentialChecks int `yaml:"max_credential_checks"`
	// Syslog forwards the audit log to a syslog server (AUD-12): the
	// first enabled target with facility audit; nil: none.
	Syslog *audit.SyslogTarget `yaml:"syslog"`
	// Alerts configures alert notifications by e-mail and webhook
	// (ALR-07..10, docs/gateway.md "Alerts"); nil: alerts are kept and
	// shown, not sent.
	Alerts *alerts.Config `yaml:"alerts"`
	// PingMargin is what a Ping's server response timeout adds to its
	// heartbeat (ASC-22); default 30 s. Not in the file: tests scale it down.
	PingMargin time.Duration `yaml:"-"`
}

// DeviceLimits are per-source limits on the device listener. Over the
// connection limit a new connection is closed at once (d-conn-rate-limited);
// over the request limit a request gets 429 (d-rate-limited).
// 0 means no limit. A source may open a minute's worth of connections
// and send two seconds' worth of requests at once.
//
// Loopback addresses and the front_ends use the loopback_* limits, which
// default to no limit: a load generator on the gateway's host (100,000
// devices from 127.0.0.1) and a front end carrying many devices must not
// be throttled. Every other address gets the remote defaults, sized for
// one host or a small NAT: a device opens a connection per request at
// worst and sends a handful of requests a second while syncing. Raise
// them for carrier-grade NAT; IPv6 sources count per /64.
type DeviceLimits struct {
	// ConnectionsPerMinute per remote source; default 600.
	ConnectionsPerMinute int `yaml:"connections_per_minute"`
	// RequestsPerSecond per remote source; default 50.
	RequestsPerSecond int `yaml:"requests_per_second"`
	// LoopbackConnectionsPerMinute per loopback or front-end source;
	// default 0, no limit.
	LoopbackConnectionsPerMinute int `yaml:"loopback_connections_per_minute"`
	// LoopbackRequestsPerSecond per loopback or front-end source;
	// default 0, no limit.
	LoopbackRequestsPerSecond int `yaml:"loopback_requests_per_second"`
}

// DefaultDeviceLimits are the per-source limits of Defaults.
func DefaultDeviceLimits() DeviceLimits {
	return DeviceLimits{ConnectionsPerMinute: 600, RequestsPerSecond: 50}
}

func (l DeviceLimits) validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{
		{"connections_per_minute", l.ConnectionsPerMinute}, {"requests_per_second", l.RequestsPerSecond},
		{"loopback_connections_per_minute", l.LoopbackConnectionsPerMinute}, {"loopback_requests_per_second", l.LoopbackRequestsPerSecond},
	} {
		if f.v < 0 {
			return fmt.Errorf("gateway config: device_limits.%s %d is negative (0 means no limit)", f.name, f.v)
		}
	}
	return nil
}

// DefaultControlReadTimeout is ControlReadTimeout when it is not set.
const DefaultControlReadTimeout = 30 * time.Second

// UEMConfig says how the gateway reaches the UEM.
type UEMConfig struct {
	URL   string `yaml:"url"`   // e.g. https://127.0.0.1:8443
	Token string `yaml:"token"` // this gateway's credential
	// NotifySecret verifies the UEM's notification signatures: required,
	// at least uemapi.MinNotifySecret (16) bytes.
	NotifySecret string `yaml:"notify_secret"`
	CAFile       string `yaml:"ca_file"`
	Insecure     bool   `yaml:"insecure"`
	// CallTimeout bounds one UEM call of the link (checks, reports) and,
	// at start, the wait for each page of the device list: a UEM that
	// sends none in time is treated as unreachable (DC-03). 0: 10 s.
	CallTimeout time.Duration `yaml:"call_timeout"`
}

// Defaults returns a configuration that listens on loopback only.
func Defaults() Config {
	return Config{
		Listen: "127.0.0.1:8443", NotifyListen: "127.0.0.1:9090", AdminListen: "127.0.0.1:9091",
		DataDir: "gatehouse-data", FailOpen: true,
		CheckInterval: 15 * time.Minute, ResyncInterval: 12 * time.Hour, PersistInterval: 5 * time.Minute,
		LastSeenInterval: 5 * time.Minute, StatsInterval: 5 * time.Minute, ControlReadTimeout: DefaultControlReadTimeout,
		DeviceLimits: DefaultDeviceLimits(), UpstreamH1Pool: true,
	}
}

// Validate checks the configuration and names the first bad field.
func (c *Config) Validate() error {
	if c.Alerts != nil {
		if err := c.Alerts.Validate(); err != nil {
			return fmt.Errorf("gateway config: %w", err)
		}
	}
	if c.Syslog != nil {
		if err := c.Syslog.Validate(); err != nil {
			return fmt.Errorf("gateway config: %w", err)
		}
	}
	if c.MaxCredentialChecks < 0 {
		return fmt.Errorf("gateway config: max_credential_checks: %d is negative", c.MaxCredentialChecks)
	}
	for _, a := range []struct{ field, addr string }{{"listen", c.Listen}, {"notify_listen", c.NotifyListen}, {"admin_listen", c.AdminListen}} {
		if _, _, err := net.SplitHostPort(a.addr); err != nil {
			return fmt.Errorf("gateway config: %s: %w", a.field, err)
		}
	}
	if c.AppTunnelListen != "" {
		if _, _, err := net.SplitHostPort(c.AppTunnelListen); err != nil {
			return fmt.Errorf("gateway config: apptunnel_listen: %w", err)
		}
	}
	if c.DataDir == "" {
		return errors.New("gateway config: data_dir is required")
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return errors.New("gateway config: tls_cert_file and tls_key_file go together")
	}
	u, err := url.Parse(c.UEM.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("gateway config: uem.url %q must be an http(s) URL", c.UEM.URL)
	}
	if c.UEM.Token == "" {
		return errors.New("gateway config: uem.token is required")
	}
	if len(c.UEM.NotifySecret) < uemapi.MinNotifySecret {
		// Without it anyone reaching notify_listen could block, allow or
		// wipe devices: an HMAC with an empty key proves nothing.
		return fmt.Errorf("gateway config: uem.notify_secret is required, at least %d bytes (the UEM entry's notification secret)", uemapi.MinNotifySecret)
	}
	if c.Upstream != "" {
		if u, err := url.Parse(c.Upstream); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("gateway config: upstream %q must be an http(s) URL", c.Upstream)
		}
	}
	if c.NTPServer != "" {
		if _, _, err := net.SplitHostPort(c.NTPServer); err != nil {
			return fmt.Errorf("gateway config: ntp_server: %w", err)
		}
	}
	if c.DNSServer != "" {
		if _, _, err := net.SplitHostPort(c.DNSServer); err != nil {
			return fmt.Errorf("gateway config: dns_server: %w", err)
		}
	}
	for i, fe := range c.FrontEnds {
		if _, err := netip.ParsePrefix(fe); err != nil {
			return fmt.Errorf("gateway config: front_ends[%d]: %w", i, err)
		}
	}
	if c.UEM.CallTimeout < 0 {
		return fmt.Errorf("gateway config: uem.call_timeout %v is negative", c.UEM.CallTimeout)
	}
	if c.ControlReadTimeout < 0 {
		return fmt.Errorf("gateway config: control_read_timeout %v is negative", c.ControlReadTimeout)
	}
	if err := c.DeviceLimits.validate(); err != nil {
		return err
	}
	if c.PersistInterval != 0 && c.PersistInterval < 10*time.Second {
		return fmt.Errorf("gateway config: persist_interval %v is below 10s (DEF-03)", c.PersistInterval)
	}
	return nil
}

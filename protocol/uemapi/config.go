package uemapi

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// GatewayConfig is everything an administrator sets for one gateway on the
// UEM (DESIGN "The gateway"): ActiveSync services, server management,
// timeouts, 451 processing, attachment control, device and server
// authentication, Kerberos, AppTunnel services and traffic control.
// Validate applies the seeds' rules (ASC, ATT, DA, KRB, KDC, ATS, ATC).
type GatewayConfig struct {
	ActiveSync        ActiveSyncConfig  `json:"activesync"`
	Servers           ServerManagement  `json:"server_management"`
	Timeouts          Timeouts          `json:"timeouts"`
	AttachmentControl AttachmentControl `json:"attachment_control"`
	DeviceAuth        DeviceAuth        `json:"device_auth"`
	Kerberos          *KerberosConfig   `json:"kerberos,omitempty"`
	AppTunnel         AppTunnelConfig   `json:"apptunnel"`
	TrafficControl    TrafficControl    `json:"traffic_control"`
	TLS               TLSSettings       `json:"tls"`
}

// ActiveSyncConfig is the ActiveSync section (seed Table 5).
type ActiveSyncConfig struct {
	Enabled bool `json:"enabled"`
	// Services: the first is always "default" (ASC-01).
	Services []ActiveSyncService `json:"services"`
	// Redirect451 is "Enable Redirect Processing (451)", default on (RDR-01).
	Redirect451 bool `json:"redirect_451"`
}

// ServerAuth is the server authentication of a service (ASC-10, DA-05).
type ServerAuth string

// Server authentication modes.
const (
	AuthPassThrough ServerAuth = "pass_through"
	AuthKerberos    ServerAuth = "kerberos"
)

// ActiveSyncService is one ActiveSync service: a Host-header name routed to
// a server list (ASC-01 to ASC-14).
type ActiveSyncService struct {
	Name string `json:"name"` // no / ; ? * < > " or space (ASC-02)
	// Servers is "host[:port];host[:port]…", ≤ 4000 characters (ASC-04).
	Servers              string     `json:"servers"`
	ServerTLS            bool       `json:"server_tls"`                       // ASC-06
	ClientTLS            bool       `json:"client_tls"`                       // ASC-07
	LimitProtocolVersion string     `json:"limit_protocol_version,omitempty"` // ASC-08: "", 12.0, 12.1, 14.0, 14.1, 16.0, 16.1
	ServerAuth           ServerAuth `json:"server_auth"`                      // ASC-10
	PassThroughBasic     bool       `json:"pass_through_basic,omitempty"`
	PassThroughOAuth     bool       `json:"pass_through_oauth,omitempty"`
	// Kerberos SPNs (KRB-02): derive from the server FQDN, or an explicit
	// ";"-separated list.
	DeriveSPN   bool        `json:"derive_spn,omitempty"`
	SPNs        string      `json:"spns,omitempty"`
	HealthCheck HealthCheck `json:"health_check"`
	// AllowInsecureRedirect lets the gateway follow a 451 redirect of a
	// Server TLS service to an http:// location, sending the device's
	// credentials in clear. Off (the default), such a redirect is refused
	// and the device gets an error (issue 18).
	AllowInsecureRedirect bool `json:"allow_insecure_redirect,omitempty"`
}

// HealthCheck is the background health check of a server list.
type HealthCheck struct {
	Enabled         bool `json:"enabled"`          // default on (ASC-11)
	IntervalSeconds int  `json:"interval_seconds"` // 10-600, default 60 (ASC-12)
	LiveThreshold   int  `json:"live_threshold"`   // 1-10, default 3 (ASC-13)
}

// Scheduling of a server list (ASC-15).
type Scheduling string

// Schedulings.
const (
	SchedulePriority   Scheduling = "priority"
	ScheduleRoundRobin Scheduling = "round_robin"
)

// ServerManagement is the global server configuration that governs both
// ActiveSync and AppTunnel server lists (ASC-14 to ASC-19, DEF-01).
type ServerManagement struct {
	Scheduling      Scheduling `json:"scheduling"`
	DeadThreshold   int        `json:"dead_threshold"`    // 1-1000, default 5
	FailureWindowMs int        `json:"failure_window_ms"` // 1-86400000, default 30000
	DeadTimeMs      int        `json:"dead_time_ms"`      // 1-172800000, default 60000
}

// Timeouts are the advanced settings of seed Table 7 (ASC-20 to ASC-23), in
// milliseconds, each 1-MaxTimeoutMs.
type Timeouts struct {
	SocketReadWriteMs int `json:"socket_read_write_ms"` // default 10000
	ServerConnectMs   int `json:"server_connect_ms"`    // default 10000
	ServerResponseMs  int `json:"server_response_ms"`   // default 60000
	DeviceRequestMs   int `json:"device_request_ms"`    // default 10000
}

// AttachmentOption is an attachment control option (ATT-03).
type AttachmentOption string

// Attachment options.
const (
	AttachRemove      AttachmentOption = "remove"
	AttachEncrypt     AttachmentOption = "encrypt" // Open Only with Docs@Work and Protect with Encryption
	AttachDeliverAsIs AttachmentOption = "deliver_as_is"
	AttachSecureApp   AttachmentOption = "secure_email_app"
)

// AttachmentControl is email attachment control (ATT-01 to ATT-13).
type AttachmentControl struct {
	Enabled        bool             `json:"enabled"` // default off; needs ActiveSync (ATT-01)
	IOSNative      AttachmentOption `json:"ios_native"`
	SecureApps     AttachmentOption `json:"secure_apps"`
	OtherPlatforms AttachmentOption `json:"other_platforms"`
	// ExclusionList: file extensions; empty means DefaultExclusionList (ATT-12).
	ExclusionList []string `json:"exclusion_list,omitempty"`
	// WorkDomains are the mail domains whose recipients get encrypted
	// attachments as they are; anyone else gets them decrypted (ATT-14).
	WorkDomains []string `json:"work_domains,omitempty"`
}

// DefaultExclusionList is the default file name exclusion list (ATT-12,
// INC-04: the 16 extensions of the text).
var DefaultExclusionList = []string{"txt", "html", "htm", "jpg", "jpeg", "gif", "png", "eml", "rpms", "rpmsg", "bmp", "tiff", "tif", "sdtid", "log", "ics"}

// attachmentSupport is the support matrix of seed Table 8 (ATT-04).
var attachmentSupport = map[string]map[AttachmentOption]bool{
	"ios_native":      {AttachRemove: true, AttachEncrypt: true, AttachDeliverAsIs: true},
	"secure_apps":     {AttachRemove: true, AttachSecureApp: true},
	"other_platforms": {AttachRemove: true, AttachDeliverAsIs: true},
}

// DeviceAuthMode is the device authentication mode (DA-01).
type DeviceAuthMode string

// Device authentication modes.
const (
	DeviceAuthPassThrough DeviceAuthMode = "pass_through"
	DeviceAuthGroupCert   DeviceAuthMode = "group_certificate"
	DeviceAuthIdentity    DeviceAuthMode = "identity_certificate"
	DeviceAuthFrontEnd    DeviceAuthMode = "trusted_front_end"
)

// DeviceAuth is device authentication (DA-01 to DA-12).
type DeviceAuth struct {
	Mode DeviceAuthMode `json:"mode"`
	// TrustedCertsPEM: one upload, several concatenated PEM certificates
	// allowed (DA-06); required for group and identity certificate modes.
	TrustedCertsPEM string `json:"trusted_certs_pem,omitempty"`
	CheckCRL        bool   `json:"check_crl,omitempty"` // DA-08
	// FieldMapping is the ordered Certificate Field Mapping (DA-11).
	FieldMapping []FieldMapping `json:"field_mapping,omitempty"`
}

// FieldMapping maps a certificate field to the user UPN or DN (DA-11).
type FieldMapping struct {
	Target string `json:"target"` // "user_upn" or "user_dn"
	Field  string `json:"field"`  // one of CertificateFields
}

// CertificateFields are the certificate fields a mapping row can name
// (DA-11, DA-12): the subject's common name, the whole subject DN, and the
// subject alternative names (RFC 822 e-mail, DNS name, Microsoft UPN
// other-name, URI).
var CertificateFields = []string{"subject_cn", "subject", "rfc822_name", "dns_name", "subject_alt_name_upn", "uri"}

// KerberosConfig is Kerberos constrained delegation (KRB-03 to KRB-05,
// KDC-05, KDC-06).
type KerberosConfig struct {
	UseKeytab bool   `json:"use_keytab"`
	Keytab    []byte `json:"keytab,omitempty"` // base64 in JSON
	Realm     string `json:"realm,omitempty"`
	// ServicePrincipal starts with "HTTP/" (KRB-04).
	ServicePrincipal string `json:"service_principal,omitempty"`
	Password         string `json:"password,omitempty"`
	// KDCs is "host[:port];…", empty = discover through DNS (KRB-05).
	KDCs             string      `json:"kdcs,omitempty"`
	DNSDiscovery     bool        `json:"dns_discovery"` // default on (KDC-05)
	AdditionalRealms []RealmKDCs `json:"additional_realms,omitempty"`
	// KDCProxy is "Enable Kerberos Proxy": the gateway serves MS-KKDCP at
	// /KdcProxy for devices (KKD-01). Off by default, as in the seeds.
	KDCProxy bool `json:"kdc_proxy,omitempty"`
	// KDCProxyRealms are realms, besides the gateway's own and the
	// additional_realms rows, that the KDC proxy relays to, their KDCs
	// found through DNS (needs dns_discovery). The proxy refuses others.
	KDCProxyRealms []string `json:"kdc_proxy_realms,omitempty"`
}

// RealmKDCs is one Additional Trusted Realms row (KDC-06).
type RealmKDCs struct {
	Realm string `json:"realm"`
	KDCs  string `json:"kdcs"` // "host[:port];…", default port 88
}

// AppTunnelConfig is the AppTunnel section (ATS).
type AppTunnelConfig struct {
	Enabled  bool               `json:"enabled"`
	Services []AppTunnelService `json:"services,omitempty"`
	// IPTunnelSubnet is the IP tunnel subnet, default 172.28.13.0/29 (ATS-05).
	IPTunnelSubnet string `json:"ip_tunnel_subnet,omitempty"`
	ContextHeaders bool   `json:"context_headers,omitempty"` // CTX-01
	EnableDFS      bool   `json:"enable_dfs,omitempty"`      // ATS-16
}

// Reserved AppTunnel service names (ATS-04).
const (
	ServiceAny     = "<ANY>"
	ServiceTCPAny  = "<TCP_ANY>"
	ServiceCIFSAny = "<CIFS_ANY>"
	ServiceIPAny   = "<IP_ANY>"
	ServiceIPAnyWP = "<IP_ANY_WP8.1>"
)

// AppTunnelService is one AppTunnel service (seed Table 17).
type AppTunnelService struct {
	Name       string     `json:"name"`
	Servers    string     `json:"servers,omitempty"` // "host:port;…" (ATS-07)
	TLSEnabled bool       `json:"tls_enabled,omitempty"`
	ServerAuth ServerAuth `json:"server_auth"`
	SPNs       string     `json:"spns,omitempty"` // ";"-separated (ATS-12)
	ProxyATC   bool       `json:"proxy_atc,omitempty"`
}

// TrafficMode selects the server-side proxy or Advanced Traffic Control.
type TrafficMode string

// Traffic modes.
const (
	TrafficNone  TrafficMode = "none"
	TrafficProxy TrafficMode = "proxy"
	TrafficATC   TrafficMode = "atc"
)

// TrafficAction is an ATC rule action (ATC-10).
type TrafficAction string

// Traffic actions.
const (
	ActionProxy TrafficAction = "proxy"
	ActionAllow TrafficAction = "allow"
	ActionBlock TrafficAction = "block"
)

// TrafficControl is the server-side proxy / ATC section (ATC-01 to ATC-14).
type TrafficControl struct {
	Mode  TrafficMode  `json:"mode"`
	Proxy *ProxyServer `json:"proxy,omitempty"` // Mode proxy: the single explicit proxy
	// ATC fields.
	Proxies       []ProxyServer `json:"proxies,omitempty"`
	Rules         []TrafficRule `json:"rules,omitempty"` // first match wins (ATC-11)
	DefaultAction TrafficAction `json:"default_action,omitempty"`
	DefaultProxy  string        `json:"default_proxy,omitempty"`
	IPAnyRules    bool          `json:"ip_any_rules,omitempty"` // ATC-14
}

// ProxyServer is a server-side proxy (ATC-01, ATC-05).
type ProxyServer struct {
	Name string `json:"name,omitempty"` // unique within Proxies (ATC mode)
	Host string `json:"host"`           // IP or FQDN, no scheme
	Port int    `json:"port"`           // 1-65535
}

// TrafficRule is one traffic control rule (ATC-07 to ATC-10, ATC-13).
type TrafficRule struct {
	DestinationHost string        `json:"destination_host,omitempty"` // domain, *.suffix, ANY_SHORT, ANY_IP
	DestinationCIDR string        `json:"destination_cidr,omitempty"` // IP_ANY rules
	AppID           string        `json:"app_id,omitempty"`           // bundle id, "*" wildcard allowed
	Platform        string        `json:"platform,omitempty"`         // ios, macos, android
	Action          TrafficAction `json:"action"`
	Proxy           string        `json:"proxy,omitempty"`
}

// Ranges of the configuration fields.
const (
	HealthIntervalMin  = 10 // ASC-12
	HealthIntervalMax  = 600
	LiveThresholdMin   = 1 // ASC-13
	LiveThresholdMax   = 10
	DeadThresholdMin   = 1 // ASC-16
	DeadThresholdMax   = 1000
	FailureWindowMaxMs = 86400000   // ASC-17
	DeadTimeMaxMs      = 172800000  // ASC-18
	MaxTimeoutMs       = 2147483647 // gatehouse decision: an int32 of ms
	ServersListMaxLen  = 4000       // ASC-04
)

// ProtocolVersions are the accepted Limit Protocol Version values (ASC-08
// is vague; gatehouse accepts the MS-ASCMD versions).
var ProtocolVersions = []string{"12.0", "12.1", "14.0", "14.1", "16.0", "16.1"}

// PlaceholderServer is the server list of the default configuration: a
// name that never resolves (RFC 2606), to be replaced by the real one.
const PlaceholderServer = "exchange.invalid:443"

// DefaultGatewayConfig returns a configuration with every seed and DEF
// default: ActiveSync on with the "default" service (server list
// PlaceholderServer), AppTunnel off.
func DefaultGatewayConfig() GatewayConfig {
	return GatewayConfig{
		ActiveSync: ActiveSyncConfig{
			Enabled:     true,
			Redirect451: true,
			Services:    []ActiveSyncService{DefaultActiveSyncService(PlaceholderServer)},
		},
		Servers: ServerManagement{
			Scheduling:      SchedulePriority,
			DeadThreshold:   5,
			FailureWindowMs: 30000,
			DeadTimeMs:      60000,
		},
		Timeouts: Timeouts{
			SocketReadWriteMs: 10000,
			ServerConnectMs:   10000,
			ServerResponseMs:  60000,
			DeviceRequestMs:   10000,
		},
		AttachmentControl: AttachmentControl{
			IOSNative:      AttachDeliverAsIs,
			SecureApps:     AttachSecureApp,
			OtherPlatforms: AttachDeliverAsIs,
		},
		DeviceAuth:     DeviceAuth{Mode: DeviceAuthPassThrough},
		AppTunnel:      AppTunnelConfig{IPTunnelSubnet: "172.28.13.0/29"},
		TrafficControl: TrafficControl{Mode: TrafficNone},
	}
}

// DefaultActiveSyncService returns the "default" service at its defaults.
func DefaultActiveSyncService(servers string) ActiveSyncService {
	return ActiveSyncService{
		Name:        "default",
		Servers:     servers,
		ServerAuth:  AuthPassThrough,
		HealthCheck: HealthCheck{Enabled: true, IntervalSeconds: 60, LiveThreshold: 3},
	}
}

// Validate checks the configuration and returns the first violation as an
// invalid_field *Error naming the field.
func (c *GatewayConfig) Validate() error {
	if err := c.validateActiveSync(); err != nil {
		return err
	}
	if err := c.Servers.validate(); err != nil {
		return err
	}
	if err := c.Timeouts.validate(); err != nil {
		return err
	}
	if err := c.validateAttachments(); err != nil {
		return err
	}
	if err := c.validateDeviceAuth(); err != nil {
		return err
	}
	if c.Kerberos != nil {
		if err := c.Kerberos.validate(); err != nil {
			return err
		}
	}
	if err := c.TrafficControl.validate(); err != nil {
		return err
	}
	if err := c.TLS.validate(); err != nil {
		return err
	}
	return c.validateAppTunnel()
}

func (c *GatewayConfig) usesKerberos() bool {
	for _, s := range c.ActiveSync.Services {
		if s.ServerAuth == AuthKerberos {
			return true
		}
	}
	for _, s := range c.AppTunnel.Services {
		if s.ServerAuth == AuthKerberos {
			return true
		}
	}
	return false
}

func (c *GatewayConfig) validateActiveSync() error {
	as := &c.ActiveSync
	if !as.Enabled && !c.AppTunnel.Enabled {
		return FieldError("activesync.enabled", "at least one of ActiveSync and AppTunnel must be enabled")
	}
	if !as.Enabled {
		return nil
	}
	if len(as.Services) == 0 {
		return FieldError("activesync.services", "the default service is required")
	}
	seen := map[string]bool{}
	for i, s := range as.Services {
		f := indexed("activesync.services", i)
		if i == 0 && s.Name != "default" {
			return FieldError(f+".name", `the first service must be named "default"`)
		}
		if i > 0 && s.Name == "default" {
			return FieldError(f+".name", `only the first service is named "default"`)
		}
		if s.Name == "" {
			return FieldError(f+".name", "is required")
		}
		if j := strings.IndexAny(s.Name, "/;?*<>\" \t"); j >= 0 {
			return FieldError(f+".name", "contains %q, which is not allowed", s.Name[j])
		}
		if seen[strings.ToLower(s.Name)] {
			return FieldError(f+".name", "duplicate service name %q", s.Name)
		}
		seen[strings.ToLower(s.Name)] = true
		if err := validateActiveSyncServers(f+".servers", s.Servers); err != nil {
			return err
		}
		if s.LimitProtocolVersion != "" && !inStrings(s.LimitProtocolVersion, ProtocolVersions) {
			return FieldError(f+".limit_protocol_version", "must be one of %v", ProtocolVersions)
		}
		switch s.ServerAuth {
		case AuthPassThrough:
			if s.DeriveSPN || s.SPNs != "" {
				return FieldError(f+".spns", "SPNs apply only to Kerberos server authentication")
			}
		case AuthKerberos:
			if c.DeviceAuth.Mode != DeviceAuthIdentity {
				return FieldError(f+".server_auth", "Kerberos needs identity certificate device authentication")
			}
			if len(as.Services) > 1 {
				return FieldError(f+".server_auth", "Kerberos is not supported with more than one ActiveSync service")
			}
			if c.Kerberos == nil {
				return FieldError("kerberos", "is required for Kerberos server authentication")
			}
			if s.DeriveSPN == (s.SPNs != "") {
				return FieldError(f+".spns", "give either derive_spn or an SPN list")
			}
			if err := validateSPNList(f+".spns", s.SPNs, ""); err != nil {
				return err
			}
			if s.PassThroughBasic || s.PassThroughOAuth {
				return FieldError(f+".pass_through_basic", "pass-through options need pass_through server authentication")
			}
		default:
			return FieldError(f+".server_auth", "must be pass_through or kerberos")
		}
		if err := s.HealthCheck.validate(f + ".health_check"); err != nil {
			return err
		}
		if s.AllowInsecureRedirect && !s.ServerTLS {
			return FieldError(f+".allow_insecure_redirect", "applies only with server_tls: without it the servers are reached over http:// already")
		}
		if s.AllowInsecureRedirect && !as.Redirect451 {
			return FieldError(f+".allow_insecure_redirect", "needs activesync.redirect_451: the gateway follows no redirects")
		}
	}
	return nil
}

func (h HealthCheck) validate(f string) error {
	if !h.Enabled {
		return nil
	}
	if h.IntervalSeconds < HealthIntervalMin || h.IntervalSeconds > HealthIntervalMax {
		return FieldError(f+".interval_seconds", "must be %d-%d", HealthIntervalMin, HealthIntervalMax)
	}
	if h.LiveThreshold < LiveThresholdMin || h.LiveThreshold > LiveThresholdMax {
		return FieldError(f+".live_threshold", "must be %d-%d", LiveThresholdMin, LiveThresholdMax)
	}
	return nil
}

// Validate checks the server management settings alone (invalid_field).
func (m ServerManagement) Validate() error { return m.validate() }

// Validate checks the timeouts alone (invalid_field).
func (t Timeouts) Validate() error { return t.validate() }

func (m ServerManagement) validate() error {
	const f = "server_management"
	switch {
	case m.Scheduling != SchedulePriority && m.Scheduling != ScheduleRoundRobin:
		return FieldError(f+".scheduling", "must be priority or round_robin")
	case m.DeadThreshold < DeadThresholdMin || m.DeadThreshold > DeadThresholdMax:
		return FieldError(f+".dead_threshold", "must be %d-%d", DeadThresholdMin, DeadThresholdMax)
	case m.FailureWindowMs < 1 || m.FailureWindowMs > FailureWindowMaxMs:
		return FieldError(f+".failure_window_ms", "must be 1-%d", FailureWindowMaxMs)
	case m.DeadTimeMs < 1 || m.DeadTimeMs > DeadTimeMaxMs:
		return FieldError(f+".dead_time_ms", "must be 1-%d", DeadTimeMaxMs)
	}
	return nil
}

func (t Timeouts) validate() error {
	for _, v := range []struct {
		name string
		ms   int
	}{
		{"socket_read_write_ms", t.SocketReadWriteMs},
		{"server_connect_ms", t.ServerConnectMs},
		{"server_response_ms", t.ServerResponseMs},
		{"device_request_ms", t.DeviceRequestMs},
	} {
		if v.ms < 1 || v.ms > MaxTimeoutMs {
			return FieldError("timeouts."+v.name, "must be 1-%d", MaxTimeoutMs)
		}
	}
	return nil
}

func (c *GatewayConfig) validateAttachments() error {
	a := &c.AttachmentControl
	const f = "attachment_control"
	if !a.Enabled {
		return nil
	}
	if !c.ActiveSync.Enabled {
		return FieldError(f+".enabled", "attachment control needs ActiveSync enabled")
	}
	for _, o := range []struct {
		name string
		opt  AttachmentOption
	}{{"ios_native", a.IOSNative}, {"secure_apps", a.SecureApps}, {"other_platforms", a.OtherPlatforms}} {
		switch o.opt {
		case AttachRemove, AttachEncrypt, AttachDeliverAsIs, AttachSecureApp:
		default:
			return FieldError(f+"."+o.name, "must be remove, encrypt, deliver_as_is or secure_email_app")
		}
		if !attachmentSupport[o.name][o.opt] {
			return FieldError(f+"."+o.name, "option %s is not supported for this platform", o.opt)
		}
	}
	for i, ext := range a.ExclusionList {
		if ext == "" || strings.ContainsAny(ext, ", ./\\") {
			return FieldError(indexed(f+".exclusion_list", i), "must be a bare file extension")
		}
	}
	return nil
}

func (c *GatewayConfig) validateDeviceAuth() error {
	d := &c.DeviceAuth
	const f = "device_auth"
	switch d.Mode {
	case DeviceAuthPassThrough:
		if c.AppTunnel.Enabled {
			return FieldError(f+".mode", "pass_through device authentication is for ActiveSync-only gateways")
		}
	case DeviceAuthGroupCert, DeviceAuthIdentity:
		if d.TrustedCertsPEM == "" {
			return FieldError(f+".trusted_certs_pem", "a trusted certificate is required")
		}
	case DeviceAuthFrontEnd:
		// The front end's header is only as good as the CA that issued the
		// certificate in it: without one, anyone who can reach the gateway
		// from a front-end address could claim any user.
		if d.TrustedCertsPEM == "" {
			return FieldError(f+".trusted_certs_pem", "a trusted certificate is required to verify the certificate the front end passes")
		}
	default:
		return FieldError(f+".mode", "must be pass_through, group_certificate, identity_certificate or trusted_front_end")
	}
	if d.TrustedCertsPEM != "" {
		if err := validatePEMCerts(d.TrustedCertsPEM); err != nil {
			return FieldError(f+".trusted_certs_pem", "%v", err)
		}
	}
	for i, m := range d.FieldMapping {
		if m.Target != "user_upn" && m.Target != "user_dn" {
			return FieldError(indexed(f+".field_mapping", i)+".target", "must be user_upn or user_dn")
		}
		if !inStrings(m.Field, CertificateFields) {
			return FieldError(indexed(f+".field_mapping", i)+".field", "must be one of %s", strings.Join(CertificateFields, ", "))
		}
	}
	if c.usesKerberos() && d.Mode != DeviceAuthIdentity {
		return FieldError(f+".mode", "Kerberos server authentication needs identity_certificate")
	}
	return nil
}

func validatePEMCerts(s string) error {
	rest := []byte(s)
	n := 0
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return fmt.Errorf("PEM block %d is %q, not CERTIFICATE", n+1, b.Type)
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			return fmt.Errorf("certificate %d: %v", n+1, err)
		}
		n++
	}
	if n == 0 || strings.TrimSpace(string(rest)) != "" {
		return fmt.Errorf("must be one or more PEM certificates")
	}
	return nil
}

func (k *KerberosConfig) validate() error {
	const f = "kerberos"
	if k.UseKeytab {
		if len(k.Keytab) == 0 {
			return FieldError(f+".keytab", "is required with use_keytab")
		}
	} else {
		switch {
		case k.Realm == "":
			return FieldError(f+".realm", "is required without a keytab")
		case !strings.HasPrefix(k.ServicePrincipal, "HTTP/") || len(k.ServicePrincipal) == len("HTTP/"):
			return FieldError(f+".service_principal", `must start with "HTTP/"`)
		case k.Password == "":
			return FieldError(f+".password", "is required without a keytab")
		}
	}
	if err := validateHostList(f+".kdcs", k.KDCs, false, true); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, r := range k.AdditionalRealms {
		rf := indexed(f+".additional_realms", i)
		if r.Realm == "" {
			return FieldError(rf+".realm", "is required")
		}
		if seen[strings.ToUpper(r.Realm)] { // realm names are not case-sensitive (KDC-06)
			return FieldError(rf+".realm", "duplicate realm %q", r.Realm)
		}
		seen[strings.ToUpper(r.Realm)] = true
		if r.KDCs == "" {
			return FieldError(rf+".kdcs", "is required")
		}
		if err := validateHostList(rf+".kdcs", r.KDCs, false, true); err != nil {
			return err
		}
	}
	if k.Realm != "" {
		seen[strings.ToUpper(k.Realm)] = true
	}
	for i, r := range k.KDCProxyRealms {
		rf := indexed(f+".kdc_proxy_realms", i)
		if err := validateRealmName(r); err != nil {
			return FieldError(rf, "%v", err)
		}
		if seen[strings.ToUpper(r)] {
			return FieldError(rf, "realm %q is already the gateway's realm or an additional realm", r)
		}
		seen[strings.ToUpper(r)] = true
		if !k.DNSDiscovery {
			return FieldError(rf, "realm %q needs dns_discovery: the proxy finds its KDCs through DNS", r)
		}
	}
	return nil
}

// validateRealmName accepts a realm that DNS SRV discovery can look up:
// letters, digits, '.', '-' and '_', at most 255 characters.
func validateRealmName(r string) error {
	if r == "" || len(r) > 255 {
		return fmt.Errorf("must be 1-255 characters")
	}
	for i := 0; i < len(r); i++ {
		c := r[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return fmt.Errorf("contains %q; a realm here is letters, digits, '.', '-' and '_'", c)
		}
	}
	return nil
}

func (t *TrafficControl) validate() error {
	const f = "traffic_control"
	switch t.Mode {
	case TrafficNone, "":
		return nil
	case TrafficProxy:
		if t.Proxy == nil {
			return FieldError(f+".proxy", "is required in proxy mode")
		}
		return t.Proxy.validate(f + ".proxy")
	case TrafficATC:
	default:
		return FieldError(f+".mode", "must be none, proxy or atc")
	}
	names := map[string]bool{}
	for i, p := range t.Proxies {
		pf := indexed(f+".proxies", i)
		if p.Name == "" {
			return FieldError(pf+".name", "is required")
		}
		if names[p.Name] {
			return FieldError(pf+".name", "duplicate proxy name %q", p.Name)
		}
		names[p.Name] = true
		if err := p.validate(pf); err != nil {
			return err
		}
	}
	checkAction := func(field string, a TrafficAction, proxy string) error {
		switch a {
		case ActionAllow, ActionBlock:
			if proxy != "" {
				return FieldError(field, "a proxy is only given with action proxy")
			}
		case ActionProxy:
			if !names[proxy] {
				return FieldError(field, "unknown proxy %q", proxy)
			}
		default:
			return FieldError(field, "action must be proxy, allow or block")
		}
		return nil
	}
	for i, r := range t.Rules {
		rf := indexed(f+".rules", i)
		if r.DestinationHost == "" && r.DestinationCIDR == "" && r.AppID == "" {
			return FieldError(rf, "a rule needs a destination host, a CIDR or an app id")
		}
		if r.DestinationHost != "" && r.DestinationCIDR != "" {
			return FieldError(rf+".destination_cidr", "give a destination host or a CIDR, not both")
		}
		if h := r.DestinationHost; h != "" && h != "ANY_SHORT" && h != "ANY_IP" {
			if strings.Contains(h, ":") && net.ParseIP(h) == nil || strings.Contains(h, "/") {
				return FieldError(rf+".destination_host", "must be a host or domain without port")
			}
			if strings.Contains(h, "*") && !strings.HasPrefix(h, "*") || strings.Count(h, "*") > 1 {
				return FieldError(rf+".destination_host", `the wildcard "*" is only allowed as a prefix`)
			}
		}
		if r.DestinationCIDR != "" {
			if _, err := netip.ParsePrefix(r.DestinationCIDR); err != nil {
				if _, err := netip.ParseAddr(r.DestinationCIDR); err != nil {
					return FieldError(rf+".destination_cidr", "must be an IP address or CIDR")
				}
			}
		}
		switch r.Platform {
		case "", "ios", "macos", "android":
		default:
			return FieldError(rf+".platform", "must be ios, macos or android")
		}
		if err := checkAction(rf+".proxy", r.Action, r.Proxy); err != nil {
			return err
		}
	}
	if t.DefaultAction == "" {
		return FieldError(f+".default_action", "is required in atc mode")
	}
	return checkAction(f+".default_proxy", t.DefaultAction, t.DefaultProxy)
}

func (p ProxyServer) validate(f string) error {
	if p.Host == "" {
		return FieldError(f+".host", "is required")
	}
	if strings.Contains(p.Host, "://") {
		return FieldError(f+".host", "must not have a scheme")
	}
	if !validHost(p.Host) {
		return FieldError(f+".host", "must be an IP address or FQDN")
	}
	if p.Port < 1 || p.Port > 65535 {
		return FieldError(f+".port", "must be 1-65535")
	}
	return nil
}

// serviceKind classifies an AppTunnel service name (ATS-03, ATS-04).
func serviceKind(name string) (anyService, tcp, cifs, ip bool) {
	switch name {
	case ServiceAny:
		return true, false, false, false
	case ServiceTCPAny:
		return true, true, false, false
	case ServiceCIFSAny:
		return true, false, true, false
	case ServiceIPAny, ServiceIPAnyWP:
		return true, false, false, true
	}
	return false, strings.HasPrefix(strings.ToUpper(name), "TCP"), strings.HasPrefix(name, "CIFS_"), false
}

func (c *GatewayConfig) validateAppTunnel() error {
	at := &c.AppTunnel
	const f = "apptunnel"
	if !at.Enabled {
		return nil
	}
	if at.IPTunnelSubnet != "" {
		if _, err := netip.ParsePrefix(at.IPTunnelSubnet); err != nil {
			return FieldError(f+".ip_tunnel_subnet", "must be a CIDR")
		}
	}
	seen := map[string]bool{}
	for i, s := range at.Services {
		sf := indexed(f+".services", i)
		if s.Name == "" {
			return FieldError(sf+".name", "is required")
		}
		reserved := inStrings(s.Name, []string{ServiceAny, ServiceTCPAny, ServiceCIFSAny, ServiceIPAny, ServiceIPAnyWP})
		if !reserved {
			if j := strings.IndexAny(s.Name, "\\;*?<>\" \t"); j >= 0 {
				return FieldError(sf+".name", "contains %q, which is not allowed", s.Name[j])
			}
		}
		if seen[s.Name] {
			return FieldError(sf+".name", "duplicate service name %q", s.Name)
		}
		seen[s.Name] = true
		anySvc, tcp, cifs, ip := serviceKind(s.Name)
		if anySvc && s.Name != ServiceIPAnyWP {
			if s.Servers != "" {
				return FieldError(sf+".servers", "must be empty for %s", s.Name)
			}
		} else if !anySvc {
			if s.Servers == "" {
				return FieldError(sf+".servers", "is required")
			}
			if err := validateHostList(sf+".servers", s.Servers, true, false); err != nil {
				return err
			}
		}
		if s.TLSEnabled && (anySvc || tcp) {
			return FieldError(sf+".tls_enabled", "does not apply to %s", s.Name)
		}
		switch s.ServerAuth {
		case AuthPassThrough:
			if s.SPNs != "" {
				return FieldError(sf+".spns", "SPNs apply only to Kerberos server authentication")
			}
		case AuthKerberos:
			if tcp || ip {
				return FieldError(sf+".server_auth", "TCP and IP services are pass_through only")
			}
			if c.DeviceAuth.Mode != DeviceAuthIdentity {
				return FieldError(sf+".server_auth", "Kerberos needs identity certificate device authentication")
			}
			if c.Kerberos == nil {
				return FieldError("kerberos", "is required for Kerberos server authentication")
			}
			if s.Name == ServiceAny && s.SPNs != "" {
				return FieldError(sf+".spns", "does not apply to <ANY>")
			}
			prefix := ""
			if cifs {
				prefix = "cifs/"
			}
			if err := validateSPNList(sf+".spns", s.SPNs, prefix); err != nil {
				return err
			}
			servers := splitList(s.Servers)
			spns := splitList(s.SPNs)
			if len(spns) > 0 && len(spns) != len(servers) {
				return FieldError(sf+".spns", "has %d SPNs for %d servers; the lists pair by position", len(spns), len(servers))
			}
			if cifs && !anySvc && len(spns) == 0 {
				for _, srv := range servers {
					if h, _, _ := net.SplitHostPort(srv); net.ParseIP(h) != nil {
						return FieldError(sf+".spns", "a CIFS server given by IP needs an SPN")
					}
				}
			}
		default:
			return FieldError(sf+".server_auth", "must be pass_through or kerberos")
		}
		if s.ProxyATC && c.TrafficControl.Mode != TrafficProxy && c.TrafficControl.Mode != TrafficATC {
			return FieldError(sf+".proxy_atc", "needs a server-side proxy or ATC")
		}
	}
	return nil
}

// validateActiveSyncServers checks an ActiveSync server list: "host[:port]"
// joined by ";", port optional, ≤ 4000 characters (ASC-04, INC-11).
func validateActiveSyncServers(f, list string) error {
	if len(list) > ServersListMaxLen {
		return FieldError(f, "longer than %d characters", ServersListMaxLen)
	}
	if list == "" {
		return FieldError(f, "is required")
	}
	return validateHostList(f, list, false, false)
}

// validateHostList checks "host[:port];…". With portRequired every entry
// needs a port; strictHost restricts names to letters, digits, hyphens
// and dots (ATS-07).
func validateHostList(f, list string, portRequired, allowEmpty bool) error {
	if list == "" {
		if allowEmpty {
			return nil
		}
		return FieldError(f, "is required")
	}
	for i, e := range strings.Split(list, ";") {
		e = strings.TrimSpace(e)
		if e == "" {
			return FieldError(f, "entry %d is empty", i+1)
		}
		host, port := e, ""
		if h, p, err := net.SplitHostPort(e); err == nil {
			host, port = h, p
		} else if strings.Count(e, ":") == 1 {
			return FieldError(f, "entry %q: bad port", e)
		}
		if port == "" && portRequired {
			return FieldError(f, "entry %q needs a port", e)
		}
		if port != "" {
			n, err := strconv.Atoi(port)
			if err != nil || n < 1 || n > 65535 {
				return FieldError(f, "entry %q: port must be 1-65535", e)
			}
		}
		if !validHost(host) {
			return FieldError(f, "entry %q: host may contain only letters, digits, hyphens and dots, starting with a letter or digit", e)
		}
	}
	return nil
}

// validHost accepts an IP address or a DNS name whose labels hold letters,
// digits and hyphens and start with a letter or digit (ATS-07).
func validHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || !isAlnum(label[0]) {
			return false
		}
		for i := 0; i < len(label); i++ {
			if !isAlnum(label[i]) && label[i] != '-' {
				return false
			}
		}
	}
	return true
}

func isAlnum(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

func validateSPNList(f, list, prefix string) error {
	for _, s := range splitList(list) {
		if !strings.Contains(s, "/") || strings.ContainsAny(s, " \t") {
			return FieldError(f, "SPN %q must look like service/host", s)
		}
		if prefix != "" && !strings.HasPrefix(s, prefix) {
			return FieldError(f, "SPN %q must start with %q", s, prefix)
		}
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, e := range strings.Split(s, ";") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

func inStrings(s string, list []string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func indexed(f string, i int) string { return f + "[" + strconv.Itoa(i) + "]" }

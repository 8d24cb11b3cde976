package uemapi

import (
	"net"
	"net/netip"
	"strings"
)

// AppTunnelConfig is the AppTunnel section (ATS).
type AppTunnelConfig struct {
	Enabled  bool               `json:"enabled"`
	Services []AppTunnelService `json:"services,omitempty"`
	// IPTunnelSubnet is the IP tunnel subnet, default 172.28.13.0/29 (ATS-05).
	IPTunnelSubnet string `json:"ip_tunnel_subnet,omitempty"`
	ContextHeaders bool   `json:"context_headers,omitempty"` // CTX-01
	EnableDFS      bool   `json:"enable_dfs,omitempty"`      // ATS-16
	// DeviceAuth is how apps authenticate on the tunnel listener (ATS-17):
	// identity_certificate (the default, the device_auth section's
	// certificate) or kerberos (a service ticket for the gateway's own
	// principal, which needs the kerberos section).
	DeviceAuth AppDeviceAuth `json:"device_auth,omitempty"`
}

// AppDeviceAuth is AppTunnel device authentication (ATS-17).
type AppDeviceAuth string

// AppTunnel device authentication modes (ATS-17).
const (
	AppAuthIdentity AppDeviceAuth = "identity_certificate"
	AppAuthKerberos AppDeviceAuth = "kerberos"
)

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
	// HostWildcards limits <ANY>, <TCP_ANY> and <CIFS_ANY> to hosts
	// matching one ";"-separated entry, "*.suffix" or an exact host: the
	// app configuration's wildcard (ATS-06). Empty: any host.
	HostWildcards string `json:"host_wildcards,omitempty"`
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
	if err := c.validateAppDeviceAuth(); err != nil {
		return err
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
		if err := validateWildcards(sf+".host_wildcards", s.HostWildcards, anySvc && !ip); err != nil {
			return err
		}
		if s.TLSEnabled && (anySvc || tcp) {
			return FieldError(sf+".tls_enabled", "does not apply to %s", s.Name)
		}
		switch s.ServerAuth {
		case AuthPassThrough:
			if s.SPNs != "" && tcp {
				return FieldError(sf+".spns", "the SPN list does not apply to TCP services (ATS-14)")
			}
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
			if anySvc && s.SPNs != "" {
				return FieldError(sf+".spns", "does not apply to %s: the SPN is the host the device asked for", s.Name)
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

// validateAppDeviceAuth checks apptunnel.device_auth (ATS-17): Kerberos
// needs the gateway's principal and keys.
func (c *GatewayConfig) validateAppDeviceAuth() error {
	switch c.AppTunnel.DeviceAuth {
	case "", AppAuthIdentity:
	case AppAuthKerberos:
		if c.Kerberos == nil {
			return FieldError("apptunnel.device_auth", "kerberos needs the kerberos section (the gateway's principal and keys)")
		}
	default:
		return FieldError("apptunnel.device_auth", "must be identity_certificate or kerberos")
	}
	return nil
}

// validateWildcards checks a service's host_wildcards (ATS-06): only the
// reserved non-IP services take one; each entry is a host or "*.suffix".
func validateWildcards(f, list string, allowed bool) error {
	if list == "" {
		return nil
	}
	if !allowed {
		return FieldError(f, "applies only to <ANY>, <TCP_ANY> and <CIFS_ANY>")
	}
	for _, e := range strings.Split(list, ";") {
		h := strings.TrimSpace(e)
		if rest, ok := strings.CutPrefix(h, "*."); ok {
			h = rest
		}
		if h == "" || !validHost(h) {
			return FieldError(f, "entry %q must be a host or *.domain", e)
		}
	}
	return nil
}

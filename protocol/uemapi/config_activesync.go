package uemapi

import (
	"strings"
)

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
	// OAuth holds the OAuth pass-through fields (OAU-02, config_oauth.go).
	OAuth *OAuthSettings `json:"oauth,omitempty"`
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
		if err := validateActiveSyncServers(f+".servers", s.EffectiveServers()); err != nil {
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
			if err := validateOAuth(f, s); err != nil {
				return err
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

package uemapi

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
	Integrated        *IntegratedConfig `json:"integrated,omitempty"` // integrated mode (config_integrated.go)
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
	if c.Integrated != nil {
		if err := c.Integrated.validate(); err != nil {
			return err
		}
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

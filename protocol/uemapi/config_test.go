package uemapi

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/internal/testca"
)

func testCertPEM(t *testing.T) string {
	t.Helper()
	return testca.New(t, "test CA", time.Now(), nil).PEM()
}

func TestGatewayConfigDefaults(t *testing.T) {
	c := DefaultGatewayConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	s := c.ActiveSync.Services[0]
	checks := []struct {
		id string
		ok bool
	}{
		{"ASC-01", s.Name == "default"},
		{"ASC-11", s.HealthCheck.Enabled},
		{"ASC-12", s.HealthCheck.IntervalSeconds == 60},
		{"ASC-13", s.HealthCheck.LiveThreshold == 3},
		{"DEF-01", c.Servers.DeadThreshold == 5 && c.Servers.FailureWindowMs == 30000 && c.Servers.DeadTimeMs == 60000},
		{"ASC-20", c.Timeouts.SocketReadWriteMs == 10000},
		{"ASC-21", c.Timeouts.ServerConnectMs == 10000},
		{"ASC-22", c.Timeouts.ServerResponseMs == 60000},
		{"ASC-23", c.Timeouts.DeviceRequestMs == 10000},
		{"RDR-01", c.ActiveSync.Redirect451},
		{"ATT-01", !c.AttachmentControl.Enabled},
		{"ATS-05", c.AppTunnel.IPTunnelSubnet == "172.28.13.0/29"},
		{"ATT-12", len(DefaultExclusionList) == 16 && DefaultExclusionList[0] == "txt" && DefaultExclusionList[15] == "ics"},
	}
	for _, ch := range checks {
		if !ch.ok {
			t.Errorf("%s: default differs from the seed", ch.id)
		}
	}
}

// identity turns on identity-certificate device auth and Kerberos, which
// Kerberos server authentication needs.
func identity(pemCert string) func(*GatewayConfig) {
	return func(c *GatewayConfig) {
		c.DeviceAuth = DeviceAuth{Mode: DeviceAuthIdentity, TrustedCertsPEM: pemCert}
		c.Kerberos = &KerberosConfig{Realm: "CORP.EXAMPLE", ServicePrincipal: "HTTP/sentry1_eas_kcd", Password: "pw", DNSDiscovery: true}
	}
}

// apptunnel enables AppTunnel (with identity device auth) and adds services.
func apptunnel(pemCert string, svcs ...AppTunnelService) func(*GatewayConfig) {
	return func(c *GatewayConfig) {
		identity(pemCert)(c)
		c.AppTunnel.Enabled = true
		c.AppTunnel.Services = svcs
	}
}

func TestGatewayConfigValidation(t *testing.T) {
	cert := testCertPEM(t)
	as := func(f func(*ActiveSyncService)) func(*GatewayConfig) {
		return func(c *GatewayConfig) { f(&c.ActiveSync.Services[0]) }
	}
	second := func(name string) func(*GatewayConfig) {
		return func(c *GatewayConfig) {
			c.ActiveSync.Services = append(c.ActiveSync.Services, ActiveSyncService{Name: name, Servers: "cas2.corp.example", ServerAuth: AuthPassThrough, HealthCheck: HealthCheck{Enabled: true, IntervalSeconds: 60, LiveThreshold: 3}})
		}
	}
	svc := func(name, servers string) AppTunnelService {
		return AppTunnelService{Name: name, Servers: servers, ServerAuth: AuthPassThrough}
	}
	kerb := func(s AppTunnelService, spns string) AppTunnelService {
		s.ServerAuth, s.SPNs = AuthKerberos, spns
		return s
	}
	chain := func(fs ...func(*GatewayConfig)) func(*GatewayConfig) {
		return func(c *GatewayConfig) {
			for _, f := range fs {
				f(c)
			}
		}
	}
	const svc0 = "activesync.services[0]"
	cases := []struct {
		id    string
		mut   func(*GatewayConfig)
		field string
	}{
		// ASC-01/02: service names.
		{"ASC-01", as(func(s *ActiveSyncService) { s.Name = "primary" }), svc0 + ".name"},
		{"ASC-01", second("default"), "activesync.services[1].name"},
		{"ASC-02", second("mail.corp.example"), ""},
		{"ASC-02", second("a/b"), "activesync.services[1].name"},
		{"ASC-02", second("a;b"), "activesync.services[1].name"},
		{"ASC-02", second("a?b"), "activesync.services[1].name"},
		{"ASC-02", second("a*b"), "activesync.services[1].name"},
		{"ASC-02", second("a<b"), "activesync.services[1].name"},
		{"ASC-02", second("a>b"), "activesync.services[1].name"},
		{"ASC-02", second(`a"b`), "activesync.services[1].name"},
		{"ASC-02", second("a b"), "activesync.services[1].name"},
		{"ASC-02", second(`a\b`), ""}, // ActiveSync allows "\" (INC-11)
		// ASC-04: server list.
		{"ASC-04", as(func(s *ActiveSyncService) { s.Servers = "cas1.corp.example;cas2.corp.example:8443;10.0.0.5" }), ""},
		{"ASC-04", as(func(s *ActiveSyncService) { s.Servers = "" }), svc0 + ".servers"},
		{"ASC-04", as(func(s *ActiveSyncService) { s.Servers = "cas1;;cas2" }), svc0 + ".servers"},
		{"ASC-04", as(func(s *ActiveSyncService) { s.Servers = "cas1:0" }), svc0 + ".servers"},
		{"ASC-04", as(func(s *ActiveSyncService) { s.Servers = "cas1:65536" }), svc0 + ".servers"},
		{"ASC-04", as(func(s *ActiveSyncService) { s.Servers = "cas1:65535" }), ""},
		{"ASC-04", as(func(s *ActiveSyncService) { s.Servers = "cas_1" }), svc0 + ".servers"},
		{"ASC-04", as(func(s *ActiveSyncService) { s.Servers = longList(4000) }), ""},
		{"ASC-04", as(func(s *ActiveSyncService) { s.Servers = longList(4001) }), svc0 + ".servers"},
		{"ASC-08", as(func(s *ActiveSyncService) { s.LimitProtocolVersion = "14.1" }), ""},
		{"ASC-08", as(func(s *ActiveSyncService) { s.LimitProtocolVersion = "15.0" }), svc0 + ".limit_protocol_version"},
		// ASC-09/10: Kerberos server auth.
		{"ASC-10", as(func(s *ActiveSyncService) { s.ServerAuth = AuthKerberos; s.DeriveSPN = true }), svc0 + ".server_auth"},
		{"ASC-10", chain(identity(cert), as(func(s *ActiveSyncService) { s.ServerAuth = AuthKerberos; s.DeriveSPN = true })), ""},
		{"KRB-02", chain(identity(cert), as(func(s *ActiveSyncService) { s.ServerAuth = AuthKerberos; s.SPNs = "http/CAS.ironmobile.com" })), ""},
		{"KRB-02", chain(identity(cert), as(func(s *ActiveSyncService) { s.ServerAuth = AuthKerberos })), svc0 + ".spns"},
		{"KRB-02", chain(identity(cert), as(func(s *ActiveSyncService) { s.ServerAuth = AuthKerberos; s.SPNs = "nonsense" })), svc0 + ".spns"},
		{"ASC-09", chain(identity(cert), second("mail2"), as(func(s *ActiveSyncService) { s.ServerAuth = AuthKerberos; s.DeriveSPN = true })), svc0 + ".server_auth"},
		{"ASC-10", as(func(s *ActiveSyncService) { s.ServerAuth = "ntlm" }), svc0 + ".server_auth"},
		{"ASC-10", as(func(s *ActiveSyncService) { s.PassThroughBasic, s.PassThroughOAuth = true, true }), ""},
		// ASC-12/13: health check ranges.
		{"ASC-12", as(func(s *ActiveSyncService) { s.HealthCheck.IntervalSeconds = 10 }), ""},
		{"ASC-12", as(func(s *ActiveSyncService) { s.HealthCheck.IntervalSeconds = 600 }), ""},
		{"ASC-12", as(func(s *ActiveSyncService) { s.HealthCheck.IntervalSeconds = 9 }), svc0 + ".health_check.interval_seconds"},
		{"ASC-12", as(func(s *ActiveSyncService) { s.HealthCheck.IntervalSeconds = 601 }), svc0 + ".health_check.interval_seconds"},
		{"ASC-13", as(func(s *ActiveSyncService) { s.HealthCheck.LiveThreshold = 1 }), ""},
		{"ASC-13", as(func(s *ActiveSyncService) { s.HealthCheck.LiveThreshold = 10 }), ""},
		{"ASC-13", as(func(s *ActiveSyncService) { s.HealthCheck.LiveThreshold = 0 }), svc0 + ".health_check.live_threshold"},
		{"ASC-13", as(func(s *ActiveSyncService) { s.HealthCheck.LiveThreshold = 11 }), svc0 + ".health_check.live_threshold"},
		{"ASC-24", as(func(s *ActiveSyncService) { s.HealthCheck = HealthCheck{Enabled: false} }), ""},
		// Issue 18: following a 451 to http:// is an explicit per-service choice.
		{"RDR-02", as(func(s *ActiveSyncService) { s.ServerTLS, s.AllowInsecureRedirect = true, true }), ""},
		{"RDR-02", as(func(s *ActiveSyncService) { s.AllowInsecureRedirect = true }), svc0 + ".allow_insecure_redirect"},
		{"RDR-02", chain(as(func(s *ActiveSyncService) { s.ServerTLS, s.AllowInsecureRedirect = true, true }),
			func(c *GatewayConfig) { c.ActiveSync.Redirect451 = false }), svc0 + ".allow_insecure_redirect"},
		// ASC-15..18: global server management.
		{"ASC-15", func(c *GatewayConfig) { c.Servers.Scheduling = ScheduleRoundRobin }, ""},
		{"ASC-15", func(c *GatewayConfig) { c.Servers.Scheduling = "random" }, "server_management.scheduling"},
		{"ASC-16", func(c *GatewayConfig) { c.Servers.DeadThreshold = 1 }, ""},
		{"ASC-16", func(c *GatewayConfig) { c.Servers.DeadThreshold = 1000 }, ""},
		{"ASC-16", func(c *GatewayConfig) { c.Servers.DeadThreshold = 0 }, "server_management.dead_threshold"},
		{"ASC-16", func(c *GatewayConfig) { c.Servers.DeadThreshold = 1001 }, "server_management.dead_threshold"},
		{"ASC-17", func(c *GatewayConfig) { c.Servers.FailureWindowMs = 1 }, ""},
		{"ASC-17", func(c *GatewayConfig) { c.Servers.FailureWindowMs = 86400000 }, ""},
		{"ASC-17", func(c *GatewayConfig) { c.Servers.FailureWindowMs = 0 }, "server_management.failure_window_ms"},
		{"ASC-17", func(c *GatewayConfig) { c.Servers.FailureWindowMs = 86400001 }, "server_management.failure_window_ms"},
		{"ASC-18", func(c *GatewayConfig) { c.Servers.DeadTimeMs = 1 }, ""},
		{"ASC-18", func(c *GatewayConfig) { c.Servers.DeadTimeMs = 172800000 }, ""},
		{"ASC-18", func(c *GatewayConfig) { c.Servers.DeadTimeMs = 0 }, "server_management.dead_time_ms"},
		{"ASC-18", func(c *GatewayConfig) { c.Servers.DeadTimeMs = 172800001 }, "server_management.dead_time_ms"},
		// ASC-20..23: timeouts, minimum 1.
		{"ASC-20", func(c *GatewayConfig) { c.Timeouts.SocketReadWriteMs = 1 }, ""},
		{"ASC-20", func(c *GatewayConfig) { c.Timeouts.SocketReadWriteMs = 0 }, "timeouts.socket_read_write_ms"},
		{"ASC-21", func(c *GatewayConfig) { c.Timeouts.ServerConnectMs = 1 }, ""},
		{"ASC-21", func(c *GatewayConfig) { c.Timeouts.ServerConnectMs = 0 }, "timeouts.server_connect_ms"},
		{"ASC-22", func(c *GatewayConfig) { c.Timeouts.ServerResponseMs = MaxTimeoutMs }, ""},
		{"ASC-22", func(c *GatewayConfig) { c.Timeouts.ServerResponseMs = 0 }, "timeouts.server_response_ms"},
		{"ASC-22", func(c *GatewayConfig) { c.Timeouts.ServerResponseMs = MaxTimeoutMs + 1 }, "timeouts.server_response_ms"},
		{"ASC-23", func(c *GatewayConfig) { c.Timeouts.DeviceRequestMs = 1 }, ""},
		{"ASC-23", func(c *GatewayConfig) { c.Timeouts.DeviceRequestMs = -5 }, "timeouts.device_request_ms"},
		// ATT: attachment control matrix (Table 8).
		{"ATT-04", func(c *GatewayConfig) {
			c.AttachmentControl = AttachmentControl{Enabled: true, IOSNative: AttachEncrypt, SecureApps: AttachSecureApp, OtherPlatforms: AttachRemove}
		}, ""},
		{"ATT-04", func(c *GatewayConfig) {
			c.AttachmentControl = AttachmentControl{Enabled: true, IOSNative: AttachSecureApp, SecureApps: AttachSecureApp, OtherPlatforms: AttachRemove}
		}, "attachment_control.ios_native"},
		{"ATT-04", func(c *GatewayConfig) {
			c.AttachmentControl = AttachmentControl{Enabled: true, IOSNative: AttachRemove, SecureApps: AttachEncrypt, OtherPlatforms: AttachRemove}
		}, "attachment_control.secure_apps"},
		{"ATT-04", func(c *GatewayConfig) {
			c.AttachmentControl = AttachmentControl{Enabled: true, IOSNative: AttachRemove, SecureApps: AttachDeliverAsIs, OtherPlatforms: AttachRemove}
		}, "attachment_control.secure_apps"},
		{"ATT-04", func(c *GatewayConfig) {
			c.AttachmentControl = AttachmentControl{Enabled: true, IOSNative: AttachRemove, SecureApps: AttachRemove, OtherPlatforms: AttachEncrypt}
		}, "attachment_control.other_platforms"},
		{"ATT-04", func(c *GatewayConfig) {
			c.AttachmentControl = AttachmentControl{Enabled: true, IOSNative: AttachRemove, SecureApps: AttachRemove, OtherPlatforms: AttachSecureApp}
		}, "attachment_control.other_platforms"},
		{"ATT-03", func(c *GatewayConfig) {
			c.AttachmentControl = AttachmentControl{Enabled: true, IOSNative: "zip", SecureApps: AttachRemove, OtherPlatforms: AttachRemove}
		}, "attachment_control.ios_native"},
		{"ATT-01", func(c *GatewayConfig) {
			c.AttachmentControl.Enabled = true
			c.ActiveSync.Enabled = false
			apptunnel(cert, svc("<ANY>", ""))(c)
		}, "attachment_control.enabled"},
		{"ATT-12", func(c *GatewayConfig) {
			c.AttachmentControl.Enabled = true
			c.AttachmentControl.ExclusionList = []string{"pdf", ".doc"}
		}, "attachment_control.exclusion_list[1]"},
		// DA: device authentication.
		{"DA-01", func(c *GatewayConfig) { c.DeviceAuth.Mode = "magic" }, "device_auth.mode"},
		{"DA-13", func(c *GatewayConfig) { c.DeviceAuth = DeviceAuth{Mode: DeviceAuthFrontEnd} }, "device_auth.trusted_certs_pem"},
		{"DA-13", func(c *GatewayConfig) { c.DeviceAuth = DeviceAuth{Mode: DeviceAuthFrontEnd, TrustedCertsPEM: cert} }, ""},
		{"DA-02", func(c *GatewayConfig) { c.DeviceAuth = DeviceAuth{Mode: DeviceAuthGroupCert} }, "device_auth.trusted_certs_pem"},
		{"DA-06", func(c *GatewayConfig) {
			c.DeviceAuth = DeviceAuth{Mode: DeviceAuthGroupCert, TrustedCertsPEM: cert + cert, CheckCRL: true}
		}, ""},
		{"DA-06", func(c *GatewayConfig) {
			c.DeviceAuth = DeviceAuth{Mode: DeviceAuthGroupCert, TrustedCertsPEM: "not a cert"}
		}, "device_auth.trusted_certs_pem"},
		{"DA-11", func(c *GatewayConfig) {
			c.DeviceAuth = DeviceAuth{Mode: DeviceAuthIdentity, TrustedCertsPEM: cert, FieldMapping: []FieldMapping{{"user_upn", "subject_alt_name_upn"}, {"user_dn", "subject"}}}
		}, ""},
		{"DA-11", func(c *GatewayConfig) {
			c.DeviceAuth = DeviceAuth{Mode: DeviceAuthIdentity, TrustedCertsPEM: cert, FieldMapping: []FieldMapping{{"user_cn", "subject"}}}
		}, "device_auth.field_mapping[0].target"},
		{"ATS-17", apptunnel(cert), ""},
		{"ATS-17", func(c *GatewayConfig) { c.AppTunnel.Enabled = true }, "device_auth.mode"},
		{"ATS-17", chain(apptunnel(cert), func(c *GatewayConfig) { c.AppTunnel.DeviceAuth, c.Kerberos = AppAuthKerberos, nil }), "apptunnel.device_auth"},
		{"ATS-17", chain(apptunnel(cert), func(c *GatewayConfig) { c.AppTunnel.DeviceAuth = AppAuthKerberos }), ""},
		{"ATS-17", chain(apptunnel(cert), func(c *GatewayConfig) { c.AppTunnel.DeviceAuth = "password" }), "apptunnel.device_auth"},
		{"ATS-17", chain(apptunnel(cert), func(c *GatewayConfig) {
			c.AppTunnel.DeviceAuth, c.DeviceAuth = AppAuthKerberos, DeviceAuth{Mode: DeviceAuthPassThrough}
		}), "device_auth.mode"},
		// KRB / KDC.
		{"KRB-04", chain(identity(cert), func(c *GatewayConfig) { c.Kerberos.ServicePrincipal = "sentry1" }), "kerberos.service_principal"},
		{"KRB-04", chain(identity(cert), func(c *GatewayConfig) { c.Kerberos.Realm = "" }), "kerberos.realm"},
		{"KRB-04", chain(identity(cert), func(c *GatewayConfig) { c.Kerberos.Password = "" }), "kerberos.password"},
		{"KRB-03", chain(identity(cert), func(c *GatewayConfig) { c.Kerberos = &KerberosConfig{UseKeytab: true} }), "kerberos.keytab"},
		{"KRB-03", chain(identity(cert), func(c *GatewayConfig) {
			c.Kerberos = &KerberosConfig{UseKeytab: true, Keytab: []byte{5, 2}, KDCs: "kdc1.corp.example;10.0.0.9:88"}
		}), ""},
		{"KRB-03", chain(identity(cert), func(c *GatewayConfig) { c.Kerberos.KDCs = "kdc1:99999" }), "kerberos.kdcs"},
		{"KDC-06", chain(identity(cert), func(c *GatewayConfig) {
			c.Kerberos.AdditionalRealms = []RealmKDCs{{"EU.CORP.EXAMPLE", "kdc-eu.corp.example"}, {"eu.corp.example", "kdc2"}}
		}), "kerberos.additional_realms[1].realm"},
		{"KDC-06", chain(identity(cert), func(c *GatewayConfig) { c.Kerberos.AdditionalRealms = []RealmKDCs{{"EU", ""}} }), "kerberos.additional_realms[0].kdcs"},
		// KKD-01: the realms the KDC proxy relays to besides its own.
		{"KKD-01", chain(identity(cert), func(c *GatewayConfig) {
			c.Kerberos.DNSDiscovery, c.Kerberos.KDCProxyRealms = true, []string{"EAST.EXAMPLE", "child.corp-2.example"}
		}), ""},
		{"KKD-01", chain(identity(cert), func(c *GatewayConfig) {
			c.Kerberos.DNSDiscovery, c.Kerberos.KDCProxyRealms = false, []string{"EAST.EXAMPLE"}
		}), "kerberos.kdc_proxy_realms[0]"},
		{"KKD-01", chain(identity(cert), func(c *GatewayConfig) {
			c.Kerberos.DNSDiscovery, c.Kerberos.KDCProxyRealms = true, []string{"EAST.EXAMPLE", "east.example"}
		}), "kerberos.kdc_proxy_realms[1]"},
		{"KKD-01", chain(identity(cert), func(c *GatewayConfig) {
			c.Kerberos.DNSDiscovery, c.Kerberos.KDCProxyRealms = true, []string{c.Kerberos.Realm}
		}), "kerberos.kdc_proxy_realms[0]"},
		{"KKD-01", chain(identity(cert), func(c *GatewayConfig) {
			c.Kerberos.DNSDiscovery, c.Kerberos.KDCProxyRealms = true, []string{"EVIL EXAMPLE"}
		}), "kerberos.kdc_proxy_realms[0]"},
		{"KKD-01", chain(identity(cert), func(c *GatewayConfig) {
			c.Kerberos.DNSDiscovery, c.Kerberos.KDCProxyRealms = true, []string{""}
		}), "kerberos.kdc_proxy_realms[0]"},
		// ATS: AppTunnel services.
		{"ATS-01", apptunnel(cert, svc("Intranet_1", "web1.corp.example:443")), ""},
		{"ATS-01", apptunnel(cert, svc(`a\b`, "web1:443")), "apptunnel.services[0].name"},
		{"ATS-01", apptunnel(cert, svc("a b", "web1:443")), "apptunnel.services[0].name"},
		{"ATS-01", apptunnel(cert, svc("a;b", "web1:443")), "apptunnel.services[0].name"},
		{"ATS-01", apptunnel(cert, svc("a*b", "web1:443")), "apptunnel.services[0].name"},
		{"ATS-01", apptunnel(cert, svc("a?b", "web1:443")), "apptunnel.services[0].name"},
		{"ATS-01", apptunnel(cert, svc("<b", "web1:443")), "apptunnel.services[0].name"},
		{"ATS-01", apptunnel(cert, svc(`a"b`, "web1:443")), "apptunnel.services[0].name"},
		{"ATS-01", apptunnel(cert, svc("a/b", "web1:443")), ""}, // "/" is allowed here (INC-11)
		{"ATS-02", apptunnel(cert, svc("web", "w1:80"), svc("web", "w2:80")), "apptunnel.services[1].name"},
		{"ATS-04", apptunnel(cert, svc("<ANY>", ""), svc("<TCP_ANY>", ""), svc("<CIFS_ANY>", ""), svc("<IP_ANY>", ""), svc("<IP_ANY_WP8.1>", "")), ""},
		{"ATS-07", apptunnel(cert, svc("web", "web1.corp.example")), "apptunnel.services[0].servers"},
		{"ATS-07", apptunnel(cert, svc("web", "-web1:80")), "apptunnel.services[0].servers"},
		{"ATS-07", apptunnel(cert, svc("web", "web_1:80")), "apptunnel.services[0].servers"},
		{"ATS-07", apptunnel(cert, svc("web", "web1:80;web2:8080")), ""},
		{"ATS-07", apptunnel(cert, svc("web", "")), "apptunnel.services[0].servers"},
		{"ATS-09", apptunnel(cert, svc("<ANY>", "web1:80")), "apptunnel.services[0].servers"},
		{"ATS-09", apptunnel(cert, svc("<TCP_ANY>", "web1:80")), "apptunnel.services[0].servers"},
		{"ATS-06", apptunnel(cert, AppTunnelService{Name: "<ANY>", HostWildcards: "*.corp.example;wiki.example", ServerAuth: AuthPassThrough}), ""},
		{"ATS-06", apptunnel(cert, AppTunnelService{Name: "<ANY>", HostWildcards: "*corp.example", ServerAuth: AuthPassThrough}), "apptunnel.services[0].host_wildcards"},
		{"ATS-06", apptunnel(cert, AppTunnelService{Name: "web", Servers: "w:80", HostWildcards: "*.corp.example", ServerAuth: AuthPassThrough}), "apptunnel.services[0].host_wildcards"},
		{"ATS-10", apptunnel(cert, AppTunnelService{Name: "web", Servers: "w:443", TLSEnabled: true, ServerAuth: AuthPassThrough}), ""},
		{"ATS-10", apptunnel(cert, AppTunnelService{Name: "<ANY>", TLSEnabled: true, ServerAuth: AuthPassThrough}), "apptunnel.services[0].tls_enabled"},
		{"ATS-10", apptunnel(cert, AppTunnelService{Name: "TCP_Finance", Servers: "f:9000", TLSEnabled: true, ServerAuth: AuthPassThrough}), "apptunnel.services[0].tls_enabled"},
		{"ATS-11", apptunnel(cert, kerb(svc("web", "w1:80"), "")), ""},
		{"ATS-11", apptunnel(cert, kerb(svc("tcp_finance", "f:9000"), "")), "apptunnel.services[0].server_auth"},
		{"ATS-11", apptunnel(cert, kerb(svc("<IP_ANY>", ""), "")), "apptunnel.services[0].server_auth"},
		{"ATS-11", chain(apptunnel(cert, kerb(svc("web", "w1:80"), "")), func(c *GatewayConfig) { c.DeviceAuth.Mode = DeviceAuthGroupCert }), "device_auth.mode"},
		{"ATS-12", apptunnel(cert, kerb(svc("web", "w1:80;w2:80"), "http/w1;http/w2")), ""},
		{"ATS-12", apptunnel(cert, kerb(svc("web", "w1:80;w2:80"), "http/w1")), "apptunnel.services[0].spns"},
		{"ATS-12", apptunnel(cert, kerb(svc("<ANY>", ""), "http/x")), "apptunnel.services[0].spns"},
		{"ATS-12", apptunnel(cert, AppTunnelService{Name: "web", Servers: "w1:80", ServerAuth: AuthPassThrough, SPNs: "http/w1"}), "apptunnel.services[0].spns"},
		{"ATS-14", apptunnel(cert, kerb(svc("CIFS_share", "s01-dfs12-001.example.com:445"), "cifs/s01-dfs12-001.example.com")), ""},
		{"ATS-14", apptunnel(cert, kerb(svc("CIFS_share", "s01:445"), "http/s01")), "apptunnel.services[0].spns"},
		{"ATS-14", apptunnel(cert, kerb(svc("CIFS_share", "s01.example.com:445"), "")), ""},
		{"ATS-14", apptunnel(cert, kerb(svc("CIFS_share", "10.1.2.3:445"), "")), "apptunnel.services[0].spns"},
		{"ATS-14", apptunnel(cert, kerb(svc("CIFS_share", "10.1.2.3:445"), "cifs/s01-dfs12-001.example.com")), ""},
		{"ATS-14", apptunnel(cert, kerb(svc("CIFS_share", "10.1.2.3:445;s02.example.com:445"), "cifs/s01.example.com;http/s02.example.com")), "apptunnel.services[0].spns"},
		{"ATS-14", apptunnel(cert, kerb(svc("<CIFS_ANY>", ""), "")), ""},
		{"ATS-14", apptunnel(cert, kerb(svc("<CIFS_ANY>", ""), "cifs/s01.example.com")), "apptunnel.services[0].spns"},
		{"ATS-14", apptunnel(cert, AppTunnelService{Name: "TCP_Files", Servers: "f:445", ServerAuth: AuthPassThrough, SPNs: "cifs/f"}), "apptunnel.services[0].spns"},
		{"ATS-14", apptunnel(cert, kerb(svc("TCP_Files", "f:445"), "cifs/f")), "apptunnel.services[0].server_auth"},
		{"ATS-15", apptunnel(cert, AppTunnelService{Name: "web", Servers: "w:80", ServerAuth: AuthPassThrough, ProxyATC: true}), "apptunnel.services[0].proxy_atc"},
		{"ATS-15", chain(apptunnel(cert, AppTunnelService{Name: "web", Servers: "w:80", ServerAuth: AuthPassThrough, ProxyATC: true}), func(c *GatewayConfig) {
			c.TrafficControl = TrafficControl{Mode: TrafficProxy, Proxy: &ProxyServer{Host: "proxy.corp.example", Port: 3128}}
		}), ""},
		{"ATS-05", chain(apptunnel(cert), func(c *GatewayConfig) { c.AppTunnel.IPTunnelSubnet = "172.28.13.0" }), "apptunnel.ip_tunnel_subnet"},
		// ATC: server-side proxy and traffic control.
		{"ATC-01", func(c *GatewayConfig) {
			c.TrafficControl = TrafficControl{Mode: TrafficProxy, Proxy: &ProxyServer{Host: "https://proxy.corp.example", Port: 3128}}
		}, "traffic_control.proxy.host"},
		{"ATC-01", func(c *GatewayConfig) {
			c.TrafficControl = TrafficControl{Mode: TrafficProxy, Proxy: &ProxyServer{Host: "proxy", Port: 0}}
		}, "traffic_control.proxy.port"},
		{"ATC-01", func(c *GatewayConfig) {
			c.TrafficControl = TrafficControl{Mode: TrafficProxy, Proxy: &ProxyServer{Host: "proxy", Port: 65535}}
		}, ""},
		{"ATC-01", func(c *GatewayConfig) {
			c.TrafficControl = TrafficControl{Mode: TrafficProxy, Proxy: &ProxyServer{Host: "proxy", Port: 65536}}
		}, "traffic_control.proxy.port"},
		{"ATC-01", func(c *GatewayConfig) { c.TrafficControl = TrafficControl{Mode: TrafficProxy} }, "traffic_control.proxy"},
		{"ATC-05", atc(func(t *TrafficControl) {
			t.Proxies = append(t.Proxies, ProxyServer{Name: "global", Host: "p2", Port: 8080})
		}), "traffic_control.proxies[1].name"},
		{"ATC-05", atc(func(t *TrafficControl) { t.Proxies[0].Name = "" }), "traffic_control.proxies[0].name"},
		{"ATC-07", atc(func(t *TrafficControl) { t.Rules = []TrafficRule{{DestinationHost: "*.acme.com", Action: ActionBlock}} }), ""},
		{"ATC-07", atc(func(t *TrafficControl) {
			t.Rules = []TrafficRule{{DestinationHost: "ANY_SHORT", Action: ActionAllow}, {DestinationHost: "ANY_IP", Action: ActionBlock}}
		}), ""},
		{"ATC-07", atc(func(t *TrafficControl) {
			t.Rules = []TrafficRule{{DestinationHost: "acme.com:443", Action: ActionBlock}}
		}), "traffic_control.rules[0].destination_host"},
		{"ATC-07", atc(func(t *TrafficControl) { t.Rules = []TrafficRule{{DestinationHost: "a.*.com", Action: ActionBlock}} }), "traffic_control.rules[0].destination_host"},
		{"ATC-08", atc(func(t *TrafficControl) { t.Rules = []TrafficRule{{AppID: "com.acme.*", Action: ActionAllow}} }), ""},
		{"ATC-09", atc(func(t *TrafficControl) {
			t.Rules = []TrafficRule{{AppID: "x", Platform: "android", Action: ActionAllow}}
		}), ""},
		{"ATC-09", atc(func(t *TrafficControl) {
			t.Rules = []TrafficRule{{AppID: "x", Platform: "windows", Action: ActionAllow}}
		}), "traffic_control.rules[0].platform"},
		{"ATC-10", atc(func(t *TrafficControl) { t.Rules = []TrafficRule{{AppID: "x", Action: ActionProxy, Proxy: "global"}} }), ""},
		{"ATC-10", atc(func(t *TrafficControl) { t.Rules = []TrafficRule{{AppID: "x", Action: ActionProxy, Proxy: "nope"}} }), "traffic_control.rules[0].proxy"},
		{"ATC-10", atc(func(t *TrafficControl) { t.Rules = []TrafficRule{{AppID: "x", Action: "deny"}} }), "traffic_control.rules[0].proxy"},
		{"ATC-10", atc(func(t *TrafficControl) { t.DefaultAction = "" }), "traffic_control.default_action"},
		{"ATC-10", atc(func(t *TrafficControl) { t.DefaultAction, t.DefaultProxy = ActionAllow, "global" }), "traffic_control.default_proxy"},
		{"ATC-13", atc(func(t *TrafficControl) { t.Rules = []TrafficRule{{DestinationCIDR: "10.0.0.0/8", Action: ActionBlock}} }), ""},
		{"ATC-13", atc(func(t *TrafficControl) {
			t.Rules = []TrafficRule{{DestinationCIDR: "10.0.0.0/33", Action: ActionBlock}}
		}), "traffic_control.rules[0].destination_cidr"},
		{"ATC-13", atc(func(t *TrafficControl) { t.Rules = []TrafficRule{{Action: ActionBlock}} }), "traffic_control.rules[0]"},
		{"ATC-04", func(c *GatewayConfig) { c.TrafficControl.Mode = "fancy" }, "traffic_control.mode"},
		{"SCOPE", func(c *GatewayConfig) { c.ActiveSync.Enabled = false }, "activesync.enabled"},
	}
	for _, c := range cases {
		cfg := DefaultGatewayConfig()
		cfg.ActiveSync.Services[0].Servers = "cas1.corp.example"
		c.mut(&cfg)
		checkField(t, c.id, cfg.Validate(), c.field)
	}
}

// atc returns a mutation that sets up a valid ATC section (proxy "global",
// default action proxy, ATC-04) and then applies f.
func atc(f func(*TrafficControl)) func(*GatewayConfig) {
	return func(c *GatewayConfig) {
		c.TrafficControl = TrafficControl{Mode: TrafficATC, Proxies: []ProxyServer{{Name: "global", Host: "proxy.corp.example", Port: 3128}},
			DefaultAction: ActionProxy, DefaultProxy: "global"}
		f(&c.TrafficControl)
	}
}

// longList returns a valid server list of exactly n characters.
func longList(n int) string {
	var b strings.Builder
	for b.Len() < n {
		if b.Len() > 0 {
			b.WriteByte(';')
		}
		left := n - b.Len()
		switch {
		case left >= 21:
			b.WriteString("server.corp.example")
		default:
			b.WriteString(strings.Repeat("s", left))
		}
	}
	return b.String()
}

func TestTLSSettingsValidation(t *testing.T) {
	for _, tc := range []struct {
		name  string
		tls   TLSSettings
		field string
	}{
		{"defaults", TLSSettings{}, ""},
		{"TLS-01 1.3 only", TLSSettings{IncomingMinVersion: "1.3"}, ""},
		{"TLS-01 unknown version", TLSSettings{IncomingMinVersion: "1.4"}, "tls.incoming_min_version"},
		{"TLS-02 custom suites", TLSSettings{IncomingCipherSuites: []string{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"}}, ""},
		{"TLS-02 unknown suite", TLSSettings{IncomingCipherSuites: []string{"TLS_MADE_UP"}}, "tls.incoming_cipher_suites"},
		{"outgoing 1.3 only", TLSSettings{OutgoingMinVersion: "1.3"}, ""},
		{"outgoing unknown version", TLSSettings{OutgoingMinVersion: "2"}, "tls.outgoing_min_version"},
		{"outgoing unknown suite", TLSSettings{OutgoingCipherSuites: []string{"TLS_MADE_UP"}}, "tls.outgoing_cipher_suites"},
		{"TLS-04 bad trust store", TLSSettings{StrictOutgoing: true, CustomTrustPEM: "nope"}, "tls.custom_trust_pem"},
		{"TLS-13 preload needs HSTS", TLSSettings{HSTSPreload: true}, "tls.hsts_preload"},
	} {
		c := DefaultGatewayConfig()
		c.TLS = tc.tls
		err := c.Validate()
		if tc.field == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) || e.Field != tc.field {
			t.Errorf("%s: %v, want an error on %s", tc.name, err, tc.field)
		}
	}
}

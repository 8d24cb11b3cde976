package lab

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/url"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// AppBackends is what a fleet's app devices reach through the lab's
// tunnel listener: a header-echo web server and a TCP echo server.
type AppBackends struct {
	Tunnel  string // the gateway's tunnel listener, host:port
	HTTPURL string // HeaderEcho's base URL
	TCPAddr string // TCPEcho's host:port
	Close   func()
}

// StartAppTraffic turns AppTunnel on at the UEM (<ANY> and <TCP_ANY>,
// Pass Through, identity-certificate device auth from the UEM's CA) and
// starts the echo backends, for loadgen fleets that mix mail and app
// devices (docs/loadgen.md). It returns once the gateway applied the
// configuration (at most 30 s).
func (l *Lab) StartAppTraffic() (*AppBackends, error) {
	u, err := url.Parse(l.AppTunnelURL())
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("lab: app traffic: the gateway has no tunnel listener")
	}
	entry, err := l.UEM.Gateway(l.GatewayID())
	if err != nil {
		return nil, fmt.Errorf("lab: app traffic: %w", err)
	}
	cfg := entry.Config
	cfg.DeviceAuth = uemapi.DeviceAuth{Mode: uemapi.DeviceAuthIdentity, TrustedCertsPEM: l.UEM.CA().CertPEM}
	cfg.AppTunnel = uemapi.AppTunnelConfig{Enabled: true, IPTunnelSubnet: cfg.AppTunnel.IPTunnelSubnet, Services: []uemapi.AppTunnelService{
		{Name: uemapi.ServiceAny, ServerAuth: uemapi.AuthPassThrough},
		{Name: uemapi.ServiceTCPAny, ServerAuth: uemapi.AuthPassThrough}}}
	saved, err := l.UEM.SetGatewayConfig(l.GatewayID(), cfg)
	if err != nil {
		return nil, fmt.Errorf("lab: app traffic: %w", err)
	}
	// Traffic must wait for the gateway to apply it: a mail device that
	// connected before the switch to identity certificates presented none
	// (none was asked for), and its next request on that connection is
	// refused 403, which the loadgen counts as blocked.
	if err := l.WaitGatewayConfig(context.Background(), saved.ConfigVersion); err != nil {
		return nil, fmt.Errorf("lab: app traffic: %w", err)
	}
	web := HeaderEcho()
	echo, err := TCPEcho()
	if err != nil {
		web.Close()
		return nil, fmt.Errorf("lab: app traffic: %w", err)
	}
	return &AppBackends{Tunnel: u.Host, HTTPURL: web.URL, TCPAddr: echo.Addr().String(),
		Close: func() { web.Close(); echo.Close() }}, nil
}

// AppCertificate registers an app device of user at the UEM and issues
// its identity certificate (the device UUID is in its urn:uuid SAN).
func (l *Lab) AppCertificate(deviceUUID, user string) (*tls.Certificate, error) {
	if _, err := l.UEM.AddDevice(uem.Device{UUID: deviceUUID, UserID: user, Platform: "iOS", Model: "iPhone"}); err != nil {
		return nil, fmt.Errorf("lab: app device %s: %w", deviceUUID, err)
	}
	ic, err := l.UEM.IssueDeviceCertificate(uem.CertRequest{DeviceUUID: deviceUUID})
	if err != nil {
		return nil, fmt.Errorf("lab: app device %s: %w", deviceUUID, err)
	}
	cert, err := tls.X509KeyPair([]byte(ic.CertPEM), []byte(ic.KeyPEM))
	if err != nil {
		return nil, fmt.Errorf("lab: app device %s: %w", deviceUUID, err)
	}
	return &cert, nil
}

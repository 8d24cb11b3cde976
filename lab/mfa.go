package lab

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/gateway"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// MFASignInHosts are the hosts the seeds tunnel through the second
// gateway for the sign-in (OAU-08): the IdP's login.* names.
var MFASignInHosts = []string{"login.windows.net", "login.microsoftonline.com"}

// MFAGateway is the second gateway of the MFA topology (OAU-08,
// docs/oauth.md): AppTunnel only, an <ANY> service limited to the IdP's
// hosts, so the device's sign-in reaches the IdP from a gateway's
// address. It has its own UEM entry, token and data directory.
type MFAGateway struct {
	ID  string
	srv *gateway.Server
}

// StartMFAGateway registers a second gateway id at the UEM with device
// authentication da (AppTunnel needs identity certificates) and an <ANY>
// service for MFASignInHosts and the lab IdP's address (it has no DNS
// name on loopback), and starts it in this process. Stop it with Shutdown.
func (l *Lab) StartMFAGateway(ctx context.Context, id string, da uemapi.DeviceAuth) (*MFAGateway, error) {
	if l.IdP == nil {
		return nil, errors.New("lab: the MFA gateway needs an OAuth lab (Config.OAuth)")
	}
	idpURL, err := url.Parse(l.IdP.AuthorizeURL())
	if err != nil {
		return nil, fmt.Errorf("lab: mfa gateway: %w", err)
	}
	gc := uemapi.DefaultGatewayConfig()
	gc.ActiveSync.Enabled = false // Sentry 2 carries only the sign-in
	gc.DeviceAuth = da
	gc.TrafficControl = uemapi.TrafficControl{Mode: uemapi.TrafficNone}
	wild := append(append([]string{}, MFASignInHosts...), idpURL.Hostname())
	gc.AppTunnel = uemapi.AppTunnelConfig{Enabled: true, IPTunnelSubnet: gc.AppTunnel.IPTunnelSubnet, Services: []uemapi.AppTunnelService{
		{Name: uemapi.ServiceAny, ServerAuth: uemapi.AuthPassThrough, HostWildcards: strings.Join(wild, ";")}}}

	cfg := l.gatewayConfig("127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0")
	cfg.AppTunnelListen = "127.0.0.1:0"
	cfg.DataDir = filepath.Join(l.dir, "gateway-data-"+id)
	cfg.UEM.Token = randomToken()
	srv, err := gateway.New(cfg, l.cfg.Logger.With("component", "gateway-"+id))
	if err != nil {
		return nil, fmt.Errorf("lab: mfa gateway: %w", err)
	}
	if err := srv.Listen(); err != nil {
		srv.Shutdown(context.Background())
		return nil, fmt.Errorf("lab: mfa gateway: %w", err)
	}
	if _, err := l.UEM.AddGateway(uem.GatewayEntry{ID: id, Name: "gatehouse lab MFA tunnel", Host: "127.0.0.1", Port: uem.DefaultGatewayPort,
		Enabled: true, Token: cfg.UEM.Token, NotifySecret: []byte(l.cfg.NotifySecret), NotificationURL: srv.NotifyURL(), Config: gc}); err != nil {
		srv.Shutdown(context.Background())
		return nil, fmt.Errorf("lab: register the MFA gateway in the UEM: %w", err)
	}
	if err := srv.Start(ctx); err != nil {
		srv.Shutdown(context.Background())
		return nil, fmt.Errorf("lab: mfa gateway: %w", err)
	}
	return &MFAGateway{ID: id, srv: srv}, nil
}

// TunnelAddr is the MFA gateway's AppTunnel listener, host:port.
func (g *MFAGateway) TunnelAddr() string { return hostPort(g.srv.AppTunnelURL()) }

// Shutdown stops the MFA gateway (its UEM entry stays).
func (g *MFAGateway) Shutdown(ctx context.Context) error { return g.srv.Shutdown(ctx) }

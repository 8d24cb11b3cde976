package lab

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// appTunnel is the demo's AppTunnel step (docs/apptunnel.md): an app on
// user's iPad reaches an intranet page through <ANY>, with the context
// headers, then an ATC rule blocks it. The gateway's configuration is
// put back afterwards.
func (d *demo) appTunnel(user string) error {
	l := d.l
	addr := l.AppTunnelURL()
	if addr == "" {
		d.begin("skipped (this gateway has no tunnel listener)")
		return nil
	}
	u, _ := url.Parse(addr)
	entry, err := l.UEM.Gateway(l.GatewayID())
	if err != nil {
		return err
	}
	orig := entry.Config
	// The next steps' devices need the original device authentication
	// in force, not only sent: without the wait, the OAuth step's phone
	// met the identity-certificate rule still applied and was refused.
	defer func() { _ = d.setGatewayConfig(orig) }()
	web := HeaderEcho()
	defer web.Close()
	if _, err := l.UEM.AddDevice(uem.Device{UUID: "demo-" + user + "-ipad", UserID: user, Platform: "iOS", Model: "iPad"}); err != nil {
		return err
	}
	ic, err := l.UEM.IssueDeviceCertificate(uem.CertRequest{DeviceUUID: "demo-" + user + "-ipad"})
	if err != nil {
		return err
	}
	cert, err := tls.X509KeyPair([]byte(ic.CertPEM), []byte(ic.KeyPEM))
	if err != nil {
		return err
	}
	app := &device.App{Tunnel: u.Host, Cert: &cert, BundleID: "com.example.intranet"}
	d.begin("the UEM turns on <ANY> with context headers; %s's iPad has an identity certificate from the UEM's CA", user)
	cfg := orig
	cfg.DeviceAuth = uemapi.DeviceAuth{Mode: uemapi.DeviceAuthIdentity, TrustedCertsPEM: l.UEM.CA().CertPEM}
	cfg.AppTunnel = uemapi.AppTunnelConfig{Enabled: true, ContextHeaders: true, IPTunnelSubnet: orig.AppTunnel.IPTunnelSubnet,
		Services: []uemapi.AppTunnelService{{Name: uemapi.ServiceAny, ServerAuth: uemapi.AuthPassThrough, ProxyATC: true}}}
	cfg.TrafficControl = uemapi.TrafficControl{Mode: uemapi.TrafficATC, DefaultAction: uemapi.ActionAllow}
	if err := d.setGatewayConfig(cfg); err != nil {
		return err
	}
	var res device.AppResult
	if err := d.waitFor("the app to reach the intranet", func() bool {
		res, err = app.Get(d.ctx, web.URL+"/intranet/home")
		return err == nil && res.Status == 200
	}); err != nil {
		return err
	}
	seen := map[string]string{}
	_ = json.Unmarshal(res.Body, &seen)
	d.say("   %s reached %s/intranet/home through <ANY>: HTTP %d; the server saw X-MobileIron-DEVICE-UUID %q and USER-UPN %q",
		app.BundleID, web.URL, res.Status, seen["X-Mobileiron-Device-Uuid"], seen["X-Mobileiron-User-Upn"])
	if t, ok := d.tunnel(app.BundleID); ok {
		d.say("   the UEM's AppTunnels view lists it: %s, %s, %s, state %s", t.AppID, t.User, t.Version, t.State)
	}
	host, _, _ := splitHost(web.URL)
	cfg.TrafficControl.Rules = []uemapi.TrafficRule{{DestinationHost: host, AppID: "com.example.*", Action: uemapi.ActionBlock}}
	if err := d.setGatewayConfig(cfg); err != nil {
		return err
	}
	if err := d.waitFor("the ATC rule to block the app", func() bool {
		res, err = app.Get(d.ctx, web.URL+"/intranet/home")
		return err == nil && res.Refusal == "atc-blocked"
	}); err != nil {
		return err
	}
	d.say("   an ATC rule (Block %s for com.example.*) now refuses it: HTTP %d, %s", host, res.Status, res.Refusal)
	return nil
}

// setGatewayConfig changes the gateway's configuration at the UEM and
// waits until the gateway has applied it.
func (d *demo) setGatewayConfig(cfg uemapi.GatewayConfig) error {
	e, err := d.l.UEM.SetGatewayConfig(d.l.GatewayID(), cfg)
	if err != nil {
		return err
	}
	return d.l.WaitGatewayConfig(d.ctx, e.ConfigVersion)
}

func (d *demo) tunnel(app string) (uemapi.AppTunnel, bool) {
	p, err := d.l.UEM.AppTunnels("", uemapi.MaxPageSize)
	if err != nil {
		return uemapi.AppTunnel{}, false
	}
	for _, t := range p.Items {
		if t.AppID == app {
			return t, true
		}
	}
	return uemapi.AppTunnel{}, false
}

// splitHost is the host of an http:// URL.
func splitHost(raw string) (string, string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", fmt.Errorf("lab: %w", err)
	}
	return u.Hostname(), u.Port(), nil
}

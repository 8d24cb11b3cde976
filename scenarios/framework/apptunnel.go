package framework

import (
	"context"
	"net/url"
	"strings"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// Feature labels of AppTunnel (docs/apptunnel.md).
const (
	FeatureAppTunnel      = "apptunnel"
	FeatureATC            = "atc"
	FeatureContextHeaders = "context-headers"
)

// tunnelUEM is what the UEM offers for app tunnels: the in-process server
// and the admin client both have it.
type tunnelUEM interface {
	AppTunnels(ctx context.Context) ([]uemapi.AppTunnel, error)
	ActOnTunnel(ctx context.Context, id string, a uem.TunnelAction) (uemapi.AppTunnel, error)
	SetAppTunnelsBlocked(ctx context.Context, uuid string, blocked bool, note string) (uem.Device, error)
}

var _ tunnelUEM = (*uem.AdminClient)(nil)

func (u inProcessUEM) AppTunnels(context.Context) ([]uemapi.AppTunnel, error) {
	var all []uemapi.AppTunnel
	cursor := ""
	for range 1000 {
		p, err := u.s.AppTunnels(cursor, uemapi.MaxPageSize)
		if err != nil {
			return nil, err
		}
		all = append(all, p.Items...)
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	return all, nil
}

func (u inProcessUEM) ActOnTunnel(_ context.Context, id string, a uem.TunnelAction) (uemapi.AppTunnel, error) {
	return u.s.ActOnTunnel(id, a)
}

func (u inProcessUEM) SetAppTunnelsBlocked(_ context.Context, uuid string, blocked bool, note string) (uem.Device, error) {
	return u.s.SetAppTunnelsBlocked(uuid, blocked, note)
}

func (f *Framework) tunnelUEM() tunnelUEM {
	t, ok := f.UEM.(tunnelUEM)
	gomega.Expect(ok).To(gomega.BeTrue(), "the UEM client offers the AppTunnels view")
	return t
}

// AppTunnelAddr is the tunnel listener (host:port) of the gateway under
// test; the spec is skipped when there is none (conformance mode without
// --apptunnel-url).
func (f *Framework) AppTunnelAddr() string {
	raw := TestContext.AppTunnelURL
	if !ConformanceMode() && f.Lab != nil {
		raw = f.Lab.AppTunnelURL()
	}
	if raw == "" {
		ginkgo.Skip("no AppTunnel listener: give --apptunnel-url (GATEHOUSE_APPTUNNEL_URL) for the gateway under test")
	}
	u, err := url.Parse(raw)
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "the AppTunnel URL %q", raw)
	return u.Host
}

// UseAppTunnel has the UEM turn AppTunnel on for the spec with identity
// certificates, <ANY> and <TCP_ANY>, then lets edit change the sections.
func (f *Framework) UseAppTunnel(edit func(*uemapi.AppTunnelConfig, *uemapi.TrafficControl)) {
	f.AppTunnelAddr() // skips the spec before anything changes when there is no listener
	da := f.IdentityCertificates()
	f.EditGatewayConfig(func(gc *uemapi.GatewayConfig) {
		gc.DeviceAuth = da
		gc.AppTunnel = uemapi.AppTunnelConfig{Enabled: true, IPTunnelSubnet: gc.AppTunnel.IPTunnelSubnet, Services: []uemapi.AppTunnelService{
			{Name: uemapi.ServiceAny, ServerAuth: uemapi.AuthPassThrough},
			{Name: uemapi.ServiceTCPAny, ServerAuth: uemapi.AuthPassThrough}}}
		gc.TrafficControl = uemapi.TrafficControl{Mode: uemapi.TrafficNone}
		if edit != nil {
			edit(&gc.AppTunnel, &gc.TrafficControl)
		}
	})
}

// NewApp registers a new managed device for user at the UEM, has its CA
// issue the device's identity certificate and returns an app with bundle
// id on it, and the device UUID.
func (f *Framework) NewApp(user, bundleID string) (*device.App, string) {
	cert, ic := f.IssueCertificate(user, uem.CertRequest{})
	return &device.App{Tunnel: f.AppTunnelAddr(), Cert: &cert, BundleID: bundleID}, ic.DeviceUUID
}

// AppOnDevice is another app on the same device (same certificate).
func AppOnDevice(a *device.App, bundleID string) *device.App {
	b := *a
	b.BundleID = bundleID
	return &b
}

// AppTunnel finds the UEM's record of (user, app, device) (ATM-01).
func (f *Framework) AppTunnel(user, bundleID, deviceUUID string) (uemapi.AppTunnel, bool) {
	ts, err := f.tunnelUEM().AppTunnels(f.Ctx())
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "reading the UEM's AppTunnels view")
	for _, t := range ts {
		if t.AppID == bundleID && t.DeviceUUID == deviceUUID && strings.EqualFold(strings.SplitN(t.User, "@", 2)[0], strings.SplitN(user, "@", 2)[0]) {
			return t, true
		}
	}
	return uemapi.AppTunnel{}, false
}

// ActOnTunnel applies allow, block or remove to a tunnel in the UEM.
func (f *Framework) ActOnTunnel(id, action string) {
	_, err := f.tunnelUEM().ActOnTunnel(f.Ctx(), id, uem.TunnelAction{Action: action, Note: "scenario"})
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "%s on tunnel %s", action, id)
}

// BlockAppTunnels is the device-level Block / Allow App Tunnels (ATM-04).
func (f *Framework) BlockAppTunnels(deviceUUID string, blocked bool) {
	_, err := f.tunnelUEM().SetAppTunnelsBlocked(f.Ctx(), deviceUUID, blocked, "scenario")
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
}

// NewAppAuthorized is NewApp on a device whose UEM record authorises only
// the apps listed (FLOW-06: "whether the app is authorised").
func (f *Framework) NewAppAuthorized(user, bundleID string, authorized ...string) (*device.App, string) {
	uuid := "cert-" + f.FreshDeviceID()
	_, err := f.UEM.AddDevice(f.Ctx(), uem.Device{UUID: uuid, UserID: user, Platform: "iOS", Model: "iPhone", AuthorizedApps: authorized})
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "registering a device for %s", user)
	cert, _ := f.IssueCertificate(user, uem.CertRequest{DeviceUUID: uuid})
	return &device.App{Tunnel: f.AppTunnelAddr(), Cert: &cert, BundleID: bundleID}, uuid
}

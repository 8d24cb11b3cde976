package framework

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/lab"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// Helpers of the security specs: devices that lie about who they are,
// the gateway's notification endpoint as the UEM reaches it, and
// configuration changes that are waited for and undone.

// UserInfo returns a user of the world (name, email, password).
func (f *Framework) UserInfo(name string) lab.User {
	for _, u := range f.w.Users() {
		if u.Name == name {
			return u
		}
	}
	ginkgo.Fail("no user " + name + " in this world")
	return lab.User{}
}

// FreshDeviceID is an EAS device id no other device of this run uses.
func (f *Framework) FreshDeviceID() string {
	return fmt.Sprintf("GH%s%04d", runNonce, deviceSeq.Add(1))
}

// DeviceURL is the gateway's device-facing base URL.
func (f *Framework) DeviceURL() string { return f.w.DeviceURL() }

// HTTPClient is the client devices use (it trusts the world's throwaway
// certificates).
func (f *Framework) HTTPClient() *http.Client { return f.w.HTTPClient() }

// NewDeviceAs makes a device whose request line names user (the query's
// User) while its Authorization header carries authUser's Basic
// credentials; authUser "" sends no credentials at all. id "" takes a
// fresh device id. It is a device lying about who it is, or a client
// probing the gateway without credentials.
func (f *Framework) NewDeviceAs(id, user, authUser, authPassword string, opts ...func(*device.Config)) *device.Device {
	if id == "" {
		id = f.FreshDeviceID()
	}
	cfg := device.Config{ID: id, User: user, Password: "-"}
	for _, o := range opts {
		o(&cfg)
	}
	base := f.w.HTTPClient()
	rt := base.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	auth := ""
	if authUser != "" {
		auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(authUser+":"+authPassword))
	}
	hc := &http.Client{Timeout: base.Timeout, Transport: authAs{base: rt, auth: auth}}
	d, err := device.New(cfg, f.w.DeviceURL(), hc)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	f.attachOnFailure(d)
	return d
}

// authAs replaces (or, when auth is "", removes) a request's
// Authorization header.
type authAs struct {
	base http.RoundTripper
	auth string
}

func (a authAs) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if a.auth == "" {
		r.Header.Del("Authorization")
	} else {
		r.Header.Set("Authorization", a.auth)
	}
	return a.base.RoundTrip(r)
}

// NotificationTarget is where the UEM pushes notifications to the gateway
// and the secret it signs them with, as the UEM's gateway entry holds
// them; --notify-url, when given, names the URL as this process reaches
// it (the UEM may know the gateway by another name, in containers).
func (f *Framework) NotificationTarget() (url string, secret []byte) {
	e, err := f.UEM.Gateway(f.Ctx(), f.GatewayID())
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "reading the gateway's entry in the UEM")
	url = e.NotificationURL
	if TestContext.NotifyURL != "" {
		url = TestContext.NotifyURL
	}
	gomega.Expect(url).NotTo(gomega.BeEmpty(), "the gateway's notification URL")
	gomega.Expect(e.NotifySecret).NotTo(gomega.BeEmpty(), "the gateway's notification secret")
	return url, e.NotifySecret
}

// EditGatewayConfig edits the gateway's configuration at the UEM, waits
// until the gateway took it (the UEM delivered its config.changed), and
// puts the previous configuration back after the spec.
func (f *Framework) EditGatewayConfig(edit func(*uemapi.GatewayConfig)) {
	e, err := f.UEM.Gateway(f.Ctx(), f.GatewayID())
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	// A deep copy: editing a service must not edit the one to restore.
	old, c := cloneConfig(e.Config), cloneConfig(e.Config)
	edit(&c)
	f.setGatewayConfig(c)
	ginkgo.DeferCleanup(func() { f.setGatewayConfig(old) })
}

func (f *Framework) setGatewayConfig(c uemapi.GatewayConfig) {
	seen := f.configDeliveries()
	_, err := f.UEM.SetGatewayConfig(f.Ctx(), f.GatewayID(), c)
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "changing the gateway's configuration at the UEM")
	gomega.Eventually(func() []string {
		var fresh []string
		for _, id := range f.configDeliveries() {
			if !slices.Contains(seen, id) {
				fresh = append(fresh, id)
			}
		}
		return fresh
	}).ShouldNot(gomega.BeEmpty(), "the gateway took the new configuration (config.changed delivered)")
}

// configDeliveries are the ids of the delivered config.changed
// notifications of the UEM's log.
func (f *Framework) configDeliveries() []string {
	ds, err := f.UEM.Deliveries(f.Ctx())
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	var ids []string
	for _, d := range ds {
		if d.Type == string(uemapi.NotifyConfig) && d.Status == uem.DeliveryDelivered && d.GatewayID == f.GatewayID() {
			ids = append(ids, d.ID)
		}
	}
	return ids
}

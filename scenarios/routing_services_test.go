package scenarios_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/dns"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

// ActiveSync services as the UEM configures them (ASC-03, ASC-06,
// ASC-08) and the Exchange settings devices carry (EXC-01 to EXC-04):
// each spec adds a service of its own, on taps in front of an extra
// Exchange, and checks on the taps what reached them.
var _ = Describe("ActiveSync services and Exchange settings", func() {
	f := fw.New(fw.WithExtraExchanges(1))

	onHost := func(host string) func(*device.Config) { return func(c *device.Config) { c.Host = host } }

	fw.It("routes by the Host header whatever its case and port, to a service the UEM just added, and anything else to default", fw.IDs("ASC-03", "EXC-01"), fw.Conformance(fw.FeatureRouting), func(ctx context.Context) {
		a := f.NewTap("a")
		name := f.ServiceName("host")
		f.AddService(name, fw.ServersList(a), nil)
		user := f.NewUser()
		d := f.NewDevice(user, onHost(strings.ToUpper(name)+":443"))
		Expect(d.Connect(ctx)).To(Succeed())
		Expect(a.DeviceRequests(d.ID())).To(Equal(len(d.Records())), "the named service's server got every command")
		Expect(f.ReachedExchange(d)).To(BeFalse(), "the default service's did not")

		other := f.NewDevice(user, onHost("not-"+name))
		Expect(other.Connect(ctx)).To(Succeed())
		Expect(f.ReachedExchange(other)).To(BeTrue(), "an unknown name goes to default")
		Expect(a.DeviceRequests(other.ID())).To(BeZero())
	})

	fw.It("routes devices that reach it under per-domain DNS names to each domain's service, the name arriving as SNI and Host", fw.IDs("EXC-01", "EXC-04"), fw.Conformance(fw.FeatureRouting), func(ctx context.Context) {
		a, b := f.NewTap("a"), f.NewTap("b")
		one, two := f.ServiceName("domain1"), f.ServiceName("domain2")
		f.AddService(one, fw.ServersList(a), nil)
		f.AddService(two, fw.ServersList(b), nil)

		// The fleet's DNS: every domain's name resolves to the gateway.
		gw, err := url.Parse(f.DeviceURL())
		Expect(err).NotTo(HaveOccurred())
		ip, err := netip.ParseAddr(gw.Hostname())
		if err != nil {
			Skip("the gateway under test is given by name; this spec resolves per-domain names to its address")
		}
		srv, err := dns.New(dns.Config{Zones: []string{"gatehouse.test"}})
		Expect(err).NotTo(HaveOccurred())
		Expect(srv.Start(ctx)).To(Succeed())
		DeferCleanup(srv.Shutdown)
		for _, n := range []string{one, two} {
			Expect(srv.AddHost(dns.Host{Name: n, Addrs: []netip.Addr{ip}})).To(Succeed())
		}
		resolver := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, srv.Addr())
		}}
		hc := f.HTTPClient()
		tr := hc.Transport.(*http.Transport).Clone()
		tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second, Resolver: resolver}).DialContext
		client := &http.Client{Timeout: hc.Timeout, Transport: tr}
		DeferCleanup(tr.CloseIdleConnections)

		for _, c := range []struct {
			name string
			tap  *fw.Tap
		}{{one, a}, {two, b}} {
			u := f.UserInfo(f.NewUser())
			d, err := device.New(device.Config{ID: f.FreshDeviceID(), User: u.Name, Password: u.Password, Email: u.Email},
				"https://"+net.JoinHostPort(c.name, gw.Port()), client)
			Expect(err).NotTo(HaveOccurred())
			Expect(d.Connect(ctx)).To(Succeed(), "a device whose Exchange profile names %s", c.name)
			Expect(c.tap.DeviceRequests(d.ID())).To(Equal(len(d.Records())), "served by the service of %s", c.name)
		}
		Expect(srv.Stats().Queries).To(BeNumerically(">=", 2))
	})

	fw.It("relays every command as a POST to /Microsoft-Server-ActiveSync with the device's own query and credentials", fw.IDs("EXC-03", "ASC-10"), fw.Conformance(fw.FeatureRouting), func(ctx context.Context) {
		a := f.NewTap("a")
		name := f.ServiceName("path")
		f.AddService(name, fw.ServersList(a), nil)
		d := f.NewDevice(f.NewUser(), onHost(name))
		Expect(d.Connect(ctx)).To(Succeed())
		var cmds []string
		for _, r := range a.Requests() {
			if r.DeviceID != d.ID() {
				continue
			}
			Expect(r.Method).To(Equal(http.MethodPost))
			Expect(r.Path).To(Equal("/Microsoft-Server-ActiveSync"))
			Expect(r.User).To(Equal(d.User()))
			Expect(r.Auth).To(BeTrue(), "the device's credentials pass through")
			cmds = append(cmds, r.Cmd)
		}
		var sent []string
		for _, r := range d.Records() {
			sent = append(sent, string(r.Cmd))
		}
		Expect(cmds).To(Equal(sent), "the same commands, in the same order")
	})

	fw.It("passes the Lotus Traveler paths through to the server unchanged", fw.IDs("EXC-02"), fw.Conformance(fw.FeatureRouting), func(ctx context.Context) {
		a := f.NewTap("a")
		name := f.ServiceName("traveler")
		f.AddService(name, fw.ServersList(a), nil)
		d := f.NewDevice(f.NewUser(), onHost(name))
		Expect(d.Connect(ctx)).To(Succeed())
		for _, p := range []string{"/traveler/Microsoft-Server-ActiveSync", "/servlet/traveler/Microsoft-Server-ActiveSync"} {
			resp, err := f.DeviceRequest(ctx, d, http.MethodPost, p, eas.CmdFolderSync, nil)
			Expect(err).NotTo(HaveOccurred())
			Expect(resp.Status).To(Equal(http.StatusNotFound), "the server's own answer (the fake Exchange serves only Exchange's path)")
			Expect(a.Requests()).To(ContainElement(And(HaveField("Path", p), HaveField("DeviceID", d.ID()))), "the server got the Traveler path")
		}
	})

	fw.It("speaks TLS to a service's servers only with Enable Server TLS", fw.IDs("ASC-06"), fw.Conformance(fw.FeatureRouting), func(ctx context.Context) {
		a := f.NewTap("a") // a TLS server
		name := f.ServiceName("servertls")
		f.AddService(name, fw.ServersList(a), func(_ *uemapi.GatewayConfig, s *uemapi.ActiveSyncService) { s.ServerTLS = false })
		d := f.NewDevice(f.NewUser(), onHost(name))
		err := d.Provision(ctx)
		var se *device.StatusError
		Expect(err).To(BeAssignableToTypeOf(se), "plain HTTP to a TLS server fails")
		Expect(err.(*device.StatusError).HTTPStatus).To(BeNumerically(">=", 500))
		Expect(a.Handshakes()).To(BeZero(), "no TLS was offered")

		f.EditGatewayConfig(func(c *uemapi.GatewayConfig) {
			for i := range c.ActiveSync.Services {
				if c.ActiveSync.Services[i].Name == name {
					c.ActiveSync.Services[i].ServerTLS = true
				}
			}
		})
		Expect(d.Connect(ctx)).To(Succeed())
		Expect(a.Handshakes()).NotTo(BeZero())
	})

	const limit = "14.0"
	for _, v := range eas.Versions() {
		above := v.Compare(eas.V140) > 0
		fw.It(fmt.Sprintf("holds a protocol %s device to a service's Limit Protocol Version of %s", v, limit), fw.IDs("ASC-08"), fw.Conformance(fw.FeatureRouting), func(ctx context.Context) {
			a := f.NewTap("a")
			name := f.ServiceName("limit")
			f.AddService(name, fw.ServersList(a), func(_ *uemapi.GatewayConfig, s *uemapi.ActiveSyncService) { s.LimitProtocolVersion = limit })
			d := f.NewDevice(f.NewUser(), onHost(name), func(c *device.Config) { c.Version = v })

			opts, err := f.DeviceRequest(ctx, d, http.MethodOptions, "", "", nil)
			Expect(err).NotTo(HaveOccurred())
			Expect(opts.Header.Get(eas.HeaderProtocolVersions)).To(Equal("12.1,14.0"), "only the versions up to the limit are advertised")

			err = d.Connect(ctx)
			if !above {
				Expect(err).NotTo(HaveOccurred())
				Expect(a.DeviceRequests(d.ID())).To(Equal(len(d.Records())))
				return
			}
			var se *device.StatusError
			Expect(err).To(BeAssignableToTypeOf(se))
			Expect(err.(*device.StatusError).HTTPStatus).To(Equal(http.StatusBadRequest), "a version above the limit is refused")
			Expect(a.DeviceRequests(d.ID())).To(BeZero(), "and never reaches the server")
			resp, err := f.DeviceRequest(ctx, d, http.MethodPost, "", eas.CmdFolderSync, nil)
			Expect(err).NotTo(HaveOccurred())
			Expect(resp.Status).To(Equal(http.StatusBadRequest))
			Expect(resp.Header.Get(eas.HeaderProtocolVersions)).To(ContainSubstring(limit), "with the versions allowed")
		})
	}
})

package scenarios_test

import (
	"context"
	"crypto/tls"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

// TLS towards ActiveSync servers (TLS-02, TLS-04, TLS-05, TLS-07,
// TLS-08): each spec points a service of its own at taps whose
// certificates nobody trusts unless the UEM's custom trust store holds
// them, and reads on the tap what the gateway's TLS client sent (SNI,
// version). The outgoing settings are global, so they are set with the
// service and put back after the spec.
var _ = Describe("TLS towards ActiveSync servers", func() {
	f := fw.New(fw.WithExtraExchanges(1))

	// served reports whether the device got through the service: its
	// Connect succeeded, or the gateway answered with an error.
	connect := func(ctx context.Context, service string) (*device.Device, error) {
		d := f.NewDevice(f.NewUser(), func(c *device.Config) { c.Host = service })
		return d, d.Connect(ctx)
	}
	refused := func(err error) {
		var se *device.StatusError
		Expect(err).To(BeAssignableToTypeOf(se), "an HTTP answer from the gateway")
		Expect(err.(*device.StatusError).HTTPStatus).To(BeNumerically(">=", 500))
	}
	withTLS := func(t uemapi.TLSSettings) func(*uemapi.GatewayConfig, *uemapi.ActiveSyncService) {
		return func(c *uemapi.GatewayConfig, _ *uemapi.ActiveSyncService) { c.TLS = t }
	}

	fw.It("relays to a server with an untrusted certificate while Strict TLS is off, its default", fw.IDs("TLS-04"), fw.Conformance(fw.FeatureTLS), func(ctx context.Context) {
		a := f.NewTap("a")
		name := f.ServiceName("lax")
		f.AddService(name, fw.ServersList(a), nil)
		d, err := connect(ctx, name)
		Expect(err).NotTo(HaveOccurred())
		Expect(a.DeviceRequests(d.ID())).To(Equal(len(d.Records())))
	})

	fw.It("refuses a server whose certificate no trust store holds once Strict TLS is on, and accepts it from the custom trust store", fw.IDs("TLS-04", "TLS-08"), fw.Conformance(fw.FeatureTLS), func(ctx context.Context) {
		a := f.NewTap("a")
		name := f.ServiceName("strict")
		f.AddService(name, fw.ServersList(a), withTLS(uemapi.TLSSettings{StrictOutgoing: true}))
		d, err := connect(ctx, name)
		refused(err)
		Expect(a.DeviceRequests(d.ID())).To(BeZero(), "no request over an unverified connection")

		f.EditGatewayConfig(func(c *uemapi.GatewayConfig) { c.TLS.CustomTrustPEM = a.CertPEM() })
		d, err = connect(ctx, name)
		Expect(err).NotTo(HaveOccurred(), "trusted through the UEM's custom trust store")
		Expect(a.DeviceRequests(d.ID())).To(Equal(len(d.Records())))
	})

	fw.It("refuses a trusted server whose certificate is issued to another name under Strict TLS", fw.IDs("TLS-05"), fw.Conformance(fw.FeatureTLS), func(ctx context.Context) {
		wrong := f.NewTap("wrong", fw.TapCertNames("s01-trvlr-001"))
		right := f.NewTap("right")
		bad, good := f.ServiceName("mismatch"), f.ServiceName("match")
		f.AddService(good, fw.ServersList(right), nil)
		f.AddService(bad, fw.ServersList(wrong), withTLS(uemapi.TLSSettings{StrictOutgoing: true, CustomTrustPEM: wrong.CertPEM() + right.CertPEM()}))
		d, err := connect(ctx, bad)
		refused(err)
		Expect(wrong.DeviceRequests(d.ID())).To(BeZero())
		d, err = connect(ctx, good)
		Expect(err).NotTo(HaveOccurred(), "the same checks pass for a certificate that names the server")
		Expect(right.DeviceRequests(d.ID())).To(Equal(len(d.Records())))
	})

	fw.It("sends no SNI to servers by default, and the server's name once the UEM turns outgoing SNI on", fw.IDs("TLS-07", "TLS-08"), fw.Conformance(fw.FeatureTLS), func(ctx context.Context) {
		a := f.NewTap("a")
		name := f.ServiceName("sni")
		f.AddService(name, a.LocalhostAddr(), nil) // a host name: SNI is only ever sent for names
		d, err := connect(ctx, name)
		Expect(err).NotTo(HaveOccurred())
		for _, r := range a.Requests() {
			Expect(r.SNI).To(BeEmpty(), "no SNI by default: %s %s", r.Method, r.Cmd)
		}
		seen := len(a.Requests())

		f.EditGatewayConfig(func(c *uemapi.GatewayConfig) { c.TLS.OutgoingSNI = true })
		_, err = d.Sync(ctx)
		Expect(err).NotTo(HaveOccurred())
		later := a.Requests()[seen:]
		Expect(later).NotTo(BeEmpty())
		for _, r := range later {
			Expect(r.SNI).To(Equal("localhost"))
		}
	})

	fw.It("keeps to the Outgoing SSL protocol floor: a TLS 1.2-only server is refused under a 1.3 floor", fw.IDs("TLS-02", "TLS-08"), fw.Conformance(fw.FeatureTLS), func(ctx context.Context) {
		a := f.NewTap("a", fw.TapMaxTLS(tls.VersionTLS12))
		name := f.ServiceName("floor")
		f.AddService(name, fw.ServersList(a), nil)
		d, err := connect(ctx, name)
		Expect(err).NotTo(HaveOccurred())
		Expect(a.Requests()).NotTo(BeEmpty(), "the service's server was reached")
		Expect(a.Requests()[0].TLS).To(Equal(uint16(tls.VersionTLS12)))

		f.EditGatewayConfig(func(c *uemapi.GatewayConfig) { c.TLS.OutgoingMinVersion = "1.3" })
		_, err = d.Sync(ctx)
		refused(err)
	})
})

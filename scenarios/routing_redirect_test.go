package scenarios_test

import (
	"context"
	"fmt"
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

// 451 redirect processing (RDR-01 to RDR-06) at every protocol version:
// the main Exchange answers one user's requests with 451 and the world's
// first extra Exchange as X-MS-Location, which is where the device must
// end up, through the gateway, without ever seeing the 451 (processing
// on) or with the 451 untouched (processing off).
var _ = Describe("451 redirect processing", func() {
	f := fw.New(fw.WithExtraExchanges(1))

	// redirectUser points the user's mailbox on the main Exchange at the
	// extra one, until the spec ends.
	redirectUser := func(user string) string {
		target := f.Lab.Extra[0].EASURL()
		Expect(f.Exchange.SetRedirect(f.Ctx(), user, target)).To(Succeed())
		DeferCleanup(func(ctx context.Context) { _ = f.Exchange.SetRedirect(ctx, user, "") })
		return target
	}

	for _, v := range eas.Versions() {
		at := func(c *device.Config) { c.Version = v }

		fw.It(fmt.Sprintf("follows a server's 451 itself at protocol %s: the device never sees it and syncs from the new server", v),
			fw.IDs("RDR-01", "RDR-02"), fw.Conformance(fw.FeatureRedirect), func(ctx context.Context) {
				fw.SkipUnlessOwnServers()
				user := f.NewUser()
				redirectUser(user)
				d := f.NewDevice(user, at)
				Expect(d.Connect(ctx)).To(Succeed())
				Expect(d.Saw("", 451, 0)).To(BeFalse(), "the device never saw the 451")
				Expect(f.ReachedServer(f.Lab.Extra[0], d)).To(BeTrue(), "the redirect target served the device")
				Expect(d.Messages()).NotTo(BeEmpty())
			})

		fw.It(fmt.Sprintf("relays a 451 and its location untouched at protocol %s while the UEM turns redirect processing off, and follows it again once on", v),
			fw.IDs("RDR-03"), fw.Conformance(fw.FeatureRedirect), func(ctx context.Context) {
				fw.SkipUnlessOwnServers()
				user := f.NewUser()
				target := redirectUser(user)
				f.EditGatewayConfig(func(c *uemapi.GatewayConfig) { c.ActiveSync.Redirect451 = false })
				d := f.NewDevice(user, at)
				resp, err := f.DeviceRequest(ctx, d, http.MethodPost, "", eas.CmdFolderSync, nil)
				Expect(err).NotTo(HaveOccurred())
				Expect(resp.Status).To(Equal(eas.HTTPRedirect), "the server's 451 reaches the device")
				Expect(resp.Header.Get("X-MS-Location")).To(Equal(target), "with the server's location")
				Expect(f.ReachedServer(f.Lab.Extra[0], d)).To(BeFalse(), "and the gateway did not go there itself")

				f.EditGatewayConfig(func(c *uemapi.GatewayConfig) { c.ActiveSync.Redirect451 = true })
				Expect(d.Connect(ctx)).To(Succeed())
				Expect(d.Saw("", 451, 0)).To(BeFalse())
				Expect(f.ReachedServer(f.Lab.Extra[0], d)).To(BeTrue())
			})
	}

	fw.It("keeps sending a redirected device to the new server after the old one stops redirecting", fw.IDs("RDR-04"), fw.Conformance(fw.FeatureRedirect), func(ctx context.Context) {
		fw.SkipUnlessOwnServers()
		user := f.NewUser()
		d := f.NewDevice(user)
		Expect(d.Connect(ctx)).To(Succeed())
		before, ok := f.Partnership(d)
		Expect(ok).To(BeTrue())

		redirectUser(user)
		d.Reset() // the new server knows neither the policy key nor the sync keys
		Expect(d.Connect(ctx)).To(Succeed())
		Expect(f.ReachedServer(f.Lab.Extra[0], d)).To(BeTrue())

		// The old server would serve the device again: only the gateway's
		// memory of the redirect keeps it on the new one.
		Expect(f.Exchange.SetRedirect(ctx, user, "")).To(Succeed())
		_, err := d.Sync(ctx)
		Expect(err).NotTo(HaveOccurred())
		after, _ := f.Partnership(d)
		Expect(after.LastSync).To(Equal(before.LastSync), "the old server has not seen the device since the redirect")
	})

	fw.It("counts the server's 451 and the one withheld from the device", fw.IDs("RDR-06"), fw.Introspection(fw.FeatureRedirect), func(ctx context.Context) {
		user := f.NewUser()
		d := f.NewDevice(user)
		Expect(d.Connect(ctx)).To(Succeed())
		redirectUser(user)
		d.Reset()
		Expect(d.Connect(ctx)).To(Succeed())
		counters, err := f.Gateway().StatsEntry(ctx, d.ID(), d.User(), "451")
		Expect(err).NotTo(HaveOccurred())
		got := map[string]uint64{}
		for _, c := range counters {
			got[c.Name] = c.Value
		}
		Expect(got).To(HaveKeyWithValue("s-http-451-redirects", BeNumerically(">=", 1)))
		Expect(got).To(HaveKeyWithValue("d-http-451-redirect-drops", got["s-http-451-redirects"]), "every 451 was withheld")
	})
})

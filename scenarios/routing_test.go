package scenarios_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

var _ = Describe("ActiveSync services and 451 redirects", func() {
	f := fw.New(fw.WithExtraExchanges(1))

	fw.It("routes a device by its Host header to the named service, anything else to default", fw.IDs("ASC-01", "ASC-03"), fw.Conformance(fw.FeatureRouting), func() {
		user := f.NewUser()
		named := f.NewDevice(user, func(c *device.Config) { c.Host = f.Lab.ServiceName(0) })
		Expect(named.Connect(f.Ctx())).To(Succeed())
		Expect(f.ReachedServer(f.Lab.Extra[0], named)).To(BeTrue(), "the named service's server got the device")
		Expect(f.ReachedExchange(named)).To(BeFalse(), "the default server did not")

		other := f.NewDevice(user, func(c *device.Config) { c.Host = "no-such-service.example" })
		Expect(other.Connect(f.Ctx())).To(Succeed())
		Expect(f.ReachedExchange(other)).To(BeTrue(), "an unknown Host goes to default")
		Expect(f.ReachedServer(f.Lab.Extra[0], other)).To(BeFalse())
	})

	fw.It("follows a server's 451 itself: the device never sees it and syncs from the new server", fw.IDs("RDR-01", "RDR-02"), fw.Conformance(fw.FeatureRedirect), func() {
		user := f.NewUser()
		d := f.NewDevice(user)
		Expect(d.Connect(f.Ctx())).To(Succeed())
		Expect(f.Lab.Exchange.SetRedirect(user, f.Lab.Extra[0].EASURL())).To(Succeed())
		DeferCleanup(func() { _ = f.Lab.Exchange.SetRedirect(user, "") })

		d.Reset() // the new server knows neither the policy key nor the sync keys
		Expect(d.Connect(f.Ctx())).To(Succeed())
		Expect(f.ReachedServer(f.Lab.Extra[0], d)).To(BeTrue(), "the redirect target served the device")
		Expect(d.Saw("", 451, 0)).To(BeFalse(), "the device never saw the 451")
		Expect(d.Messages()).NotTo(BeEmpty())
	})

	fw.It("remembers the redirect per device and clear-redirect-url forgets it", fw.IDs("RDR-04", "RDR-05"), fw.Introspection(fw.FeatureRedirect), func() {
		user := f.NewUser()
		d := f.NewDevice(user)
		Expect(d.Connect(f.Ctx())).To(Succeed())
		Expect(f.Lab.Exchange.SetRedirect(user, f.Lab.Extra[0].EASURL())).To(Succeed())
		DeferCleanup(func() { _ = f.Lab.Exchange.SetRedirect(user, "") })
		d.Reset()
		Expect(d.Connect(f.Ctx())).To(Succeed())

		rows, err := f.Gateway().ByDevice(f.Ctx(), d.ID())
		Expect(err).NotTo(HaveOccurred())
		Expect(rows).To(HaveLen(1))
		Expect(rows[0].RedirectURL).To(Equal(f.Lab.Extra[0].EASURL()))

		n, err := f.Gateway().ClearRedirect(f.Ctx(), false, d.ID(), d.User())
		Expect(err).NotTo(HaveOccurred())
		Expect(n.Count).To(Equal(1))
		rows, _ = f.Gateway().ByDevice(f.Ctx(), d.ID())
		Expect(rows[0].RedirectURL).To(BeEmpty())
	})
})

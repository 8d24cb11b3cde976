package scenarios_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/lab"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

// Service Diagnosis (SVD) is the gateway's own page: these specs drive it
// over the admin API (introspection).
var _ = Describe("Service diagnosis", func() {
	// A long connectivity check interval, so only Verify can notice a
	// change of the UEM within the spec.
	f := fw.New(fw.WithLabConfig(func(c *lab.Config) { c.CheckInterval, c.ResyncInterval = time.Hour, time.Hour }))

	fw.It("Verify on the UEM checks the connection at once and updates the connectivity state both ways", fw.IDs("SVD-03", "SVD-04"), fw.Introspection(fw.FeatureFailOpen), func() {
		st, err := f.Gateway().Verify(f.Ctx())
		Expect(err).NotTo(HaveOccurred())
		Expect(st.Connected).To(BeTrue())

		f.UEMDown(true)
		before := time.Now()
		st, err = f.Gateway().Verify(f.Ctx())
		Expect(err).NotTo(HaveOccurred())
		Expect(st.Connected).To(BeFalse(), "the UEM went down an instant ago: only the verify could see it")
		Expect(st.LastFailed).To(BeTemporally(">=", before.Add(-time.Second)))
		Expect(st.LastChangeBy).To(Equal("Service diagnosis verify"))
		Expect(st.LastError).NotTo(BeEmpty(), "why it is not reachable")

		f.UEMDown(false)
		Eventually(func() bool {
			st, err := f.Gateway().Verify(f.Ctx())
			Expect(err).NotTo(HaveOccurred())
			return st.Connected
		}).Should(BeTrue(), "reachable again at the next verify")
	})

	fw.It("Verify on EAS reports one sentence per ActiveSync server, and Failure when one is not reachable", fw.IDs("SVD-01", "SVD-02"), fw.Introspection(fw.FeatureRouting), func() {
		d, err := f.Gateway().VerifyEAS(f.Ctx())
		Expect(err).NotTo(HaveOccurred())
		Expect(d.Service).To(Equal("EAS"))
		Expect(d.Status).To(Equal("Success"))
		Expect(d.Message).To(Equal("ActiveSync server " + f.Lab.Exchange.Addr() + " is reachable."))
		Expect(d.Date).NotTo(BeZero())

		Expect(f.Exchange.SetFaults(f.Ctx(), exchange.Faults{Down: true})).To(Succeed())
		DeferCleanup(func() { Expect(f.Exchange.SetFaults(f.Ctx(), exchange.Faults{})).To(Succeed()) })
		d, err = f.Gateway().VerifyEAS(f.Ctx())
		Expect(err).NotTo(HaveOccurred())
		Expect(d.Status).To(Equal("Failure"))
		Expect(d.Message).To(Equal("ActiveSync server " + f.Lab.Exchange.Addr() + " is not reachable."))
	})
})

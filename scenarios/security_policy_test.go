package scenarios_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

var _ = Describe("Security: policy enforcement", func() {
	f := fw.New()

	fw.It("a Provision answer the server compressed still carries the UEM's policy, not the server's", fw.IDs("ACT-13"), fw.Security(fw.FeaturePolicy), func() {
		d := f.NewDevice(f.NewUser())
		Expect(d.Connect(f.Ctx())).To(Succeed())
		Expect(d.Policy().MinDevicePasswordLength).To(HaveValue(Equal("4")), "the server's own policy (DEF-02)")
		p := uemapi.NewPolicy("Executives " + d.ID())
		p.PasswordRequired, p.MinPasswordLength, p.PasswordType = true, 11, uemapi.PasswordAlphanumeric
		p = f.CreatePolicy(p)
		a, err := f.Association(d)
		Expect(err).NotTo(HaveOccurred())
		_, err = f.UEM.Act(f.Ctx(), a.ID, uem.Action{Action: uem.ActAssignPolicy, PolicyID: p.ID, Note: "vip"})
		Expect(err).NotTo(HaveOccurred())
		// From here on Exchange compresses what it answers, as IIS does.
		Expect(f.Exchange.SetFaults(f.Ctx(), exchange.Faults{Gzip: true})).To(Succeed())
		DeferCleanup(func() { Expect(f.Exchange.SetFaults(f.Ctx(), exchange.Faults{})).To(Succeed()) })

		Eventually(func() string {
			d.Reset()
			if err := d.Connect(f.Ctx()); err != nil {
				return "the device could not connect: " + err.Error()
			}
			if v := d.Policy().MinDevicePasswordLength; v != nil {
				return "MinDevicePasswordLength " + *v
			}
			return "no MinDevicePasswordLength"
		}).Should(Equal("MinDevicePasswordLength 11"), "the assigned policy reaches the device through a compressed Provision")
	})
})

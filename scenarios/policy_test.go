package scenarios_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

var _ = Describe("ActiveSync policies", func() {
	f := fw.New()

	fw.It("an assigned policy replaces the server's and a change to it is re-provisioned", fw.IDs("ACT-13", "FLOW-09"), fw.Conformance(fw.FeaturePolicy), func() {
		d := f.NewDevice(f.NewUser())
		Expect(d.Connect(f.Ctx())).To(Succeed())
		Expect(d.Policy().MinDevicePasswordLength).To(HaveValue(Equal("4")), "DEF-02: Apply AS server policy by default")

		p := uemapi.NewPolicy("Executives " + d.ID())
		p.PasswordRequired, p.MinPasswordLength, p.PasswordType = true, 11, uemapi.PasswordAlphanumeric
		p = f.CreatePolicy(p)
		a, _ := f.Association(d)
		_, err := f.UEM.Act(f.Ctx(), a.ID, uem.Action{Action: uem.ActAssignPolicy, PolicyID: p.ID, Note: "vip"})
		Expect(err).NotTo(HaveOccurred())
		provs := d.Provisionings()
		Eventually(func() int { _, _ = d.Sync(f.Ctx()); return d.Provisionings() }).Should(BeNumerically(">", provs), "told to provision again")
		Expect(d.Saw(eas.CmdSync, 200, int(eas.StatusInvalidPolicyKey)) || d.Saw(eas.CmdSync, 449, 0)).To(BeTrue())
		Expect(d.Policy().MinDevicePasswordLength).To(HaveValue(Equal("11")))
		Expect(d.Policy().AlphanumericDevicePasswordRequired).To(HaveValue(BeTrue()))

		p.MinPasswordLength = 14
		_, err = f.UEM.UpdatePolicy(f.Ctx(), p.ID, p)
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() *string { _, _ = d.Sync(f.Ctx()); return d.Policy().MinDevicePasswordLength }).Should(HaveValue(Equal("14")))
		p2, _ := f.Partnership(d)
		Expect(p2.Provisioned).To(BeTrue(), "Exchange still holds the device provisioned")
	})

	fw.It("Remove AS server policy sends no restrictions; Apply passes the server's policy", fw.IDs("PREF-09"), fw.Conformance(fw.FeaturePolicy), func() {
		user := f.NewUser()
		apply := f.NewDevice(user)
		Expect(apply.Connect(f.Ctx())).To(Succeed())
		Expect(apply.Policy().MinDevicePasswordLength).To(HaveValue(Equal("4")))

		f.SetPreferences(func(p *uem.Preferences) { p.DefaultPolicyBehavior = uemapi.PolicyRemoveServer })
		remove := f.NewDevice(user)
		Eventually(func() bool {
			remove.Reset()
			if remove.Connect(f.Ctx()) != nil {
				return false
			}
			pol := remove.Policy()
			return pol.MinDevicePasswordLength == nil && pol.DevicePasswordEnabled != nil && !*pol.DevicePasswordEnabled
		}).Should(BeTrue(), "the configuration change reaches the gateway")
		p, ok := f.Partnership(remove)
		Expect(ok && p.Provisioned).To(BeTrue(), "Exchange still provisioned it with its own policy")
	})
})

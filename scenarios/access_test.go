package scenarios_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

var _ = Describe("First access", func() {
	f := fw.New()

	fw.It("reports a new device and lets it sync", fw.IDs("FLOW-01"), fw.Conformance(fw.FeatureFirstAccess), func() {
		d := f.NewDevice(f.NewUser())
		f.Register(d)
		Expect(d.Connect(f.Ctx())).To(Succeed())
		Expect(d.Messages()).NotTo(BeEmpty(), "the device synced its Inbox")
		Expect(d.Policy()).NotTo(BeNil(), "the device applied a policy")

		a, err := f.Association(d)
		Expect(err).NotTo(HaveOccurred(), "the gateway reported the device")
		Expect(a.SyncStatus).To(Equal("Allowed"))
		Expect(a.Registered).To(BeTrue())
		Expect(a.Domain).To(Equal(f.GatewayID()))
		p, ok := f.Partnership(d)
		Expect(ok).To(BeTrue(), "Exchange saw the device")
		Expect(p.Provisioned).To(BeTrue())
	})

	fw.It("versions 12.1 to 16.1 and every platform reach Exchange", fw.IDs("FLOW-01"), fw.Conformance(fw.FeatureFirstAccess), func() {
		user := f.NewUser()
		platforms := []device.Platform{device.IOS, device.Android, device.Windows, device.Other, device.IOS}
		for i, v := range eas.Versions() {
			d := f.NewDevice(user, func(c *device.Config) { c.Version, c.Platform, c.Base64Query = v, platforms[i], i%2 == 1 })
			Expect(d.Connect(f.Ctx())).To(Succeed(), "version %s", v)
			Expect(f.SyncStatus(d)()).To(Equal("Allowed"))
			p, _ := f.Partnership(d)
			Expect(p.ProtocolVersion).To(Equal(v.String()))
		}
	})

	fw.It("blocks a device whose managed device violates the security policy, and reinstates it when compliant", fw.IDs("FLOW-08"), fw.Conformance(fw.FeatureFirstAccess, fw.FeatureBlock), func() {
		d := f.NewDevice(f.NewUser())
		md := f.Register(d)
		Expect(d.Connect(f.Ctx())).To(Succeed())

		_, err := f.UEM.SetSecurityViolation(f.Ctx(), md.UUID, true)
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() error { _, err := d.Sync(f.Ctx()); return err }).Should(MatchError(device.ErrBlocked))
		Expect(d.Last().Status).To(Equal(int(eas.StatusDeviceIsBlockedForThisUser)))
		Expect(f.SyncStatus(d)()).To(Equal("Blocked"))

		_, err = f.UEM.SetSecurityViolation(f.Ctx(), md.UUID, false)
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() error { _, err := d.Sync(f.Ctx()); return err }).Should(Succeed())
		Expect(f.EventActions(d)).To(ContainElements(uem.EventBlock, uem.EventReinstate))
		for _, e := range f.Events(d) {
			Expect(e.Automatic).To(BeTrue(), "violation changes are automatic: %+v", e)
		}
	})

	fw.It("a blocked 12.1 device gets HTTP 403 and never reaches Exchange", fw.IDs("FLOW-03"), fw.Conformance(fw.FeatureFirstAccess, fw.FeatureBlock), func() {
		d := f.NewDevice(f.NewUser(), func(c *device.Config) { c.Version = eas.V121 })
		md := f.Register(d)
		_, err := f.UEM.SetSecurityViolation(f.Ctx(), md.UUID, true)
		Expect(err).NotTo(HaveOccurred())
		Expect(d.Provision(f.Ctx())).To(MatchError(device.ErrBlocked))
		Expect(d.Last().HTTPStatus).To(Equal(403))
		Expect(f.SyncStatus(d)()).To(Equal("Blocked"))
		Expect(f.ReachedExchange(d)).To(BeFalse())
	})

	fw.It("auto-block blocks new unregistered devices only", fw.IDs("PREF-03"), fw.Conformance(fw.FeatureFirstAccess, fw.FeatureBlock), func() {
		user := f.NewUser()
		before := f.NewDevice(user)
		Expect(before.Connect(f.Ctx())).To(Succeed())

		f.SetPreferences(func(p *uem.Preferences) { p.AutoBlockUnregistered = true })
		after := f.NewDevice(user)
		Expect(after.Connect(f.Ctx())).To(MatchError(device.ErrBlocked))
		a, err := f.Association(after)
		Expect(err).NotTo(HaveOccurred())
		Expect(a.SyncStatus).To(Equal("Blocked"))
		Expect(a.Reason).To(Equal(uemapi.ReasonUnregistered))
		Expect(f.ReachedExchange(after)).To(BeFalse())

		registered := f.NewDevice(user)
		f.Register(registered)
		Expect(registered.Connect(f.Ctx())).To(Succeed(), "a registered device is not auto-blocked")

		_, err = before.Sync(f.Ctx())
		Expect(err).NotTo(HaveOccurred(), "the existing unregistered device stays allowed")
		Expect(f.SyncStatus(before)()).To(Equal("Allowed"))
	})

	fw.It("the per-mailbox limit blocks the last device to arrive", fw.IDs("ASP-13"), fw.Conformance(fw.FeatureFirstAccess, fw.FeatureBlock, fw.FeaturePolicy), func() {
		user := f.NewUser()
		limit := uemapi.NewPolicy("Two phones " + user)
		limit.MaxDevicesPerMailbox, limit.ApplyToMailboxes = 2, []string{"mbx-" + user}
		f.CreatePolicy(limit)
		first, second, third := f.NewDevice(user), f.NewDevice(user), f.NewDevice(user)
		Expect(first.Connect(f.Ctx())).To(Succeed())
		Expect(second.Connect(f.Ctx())).To(Succeed())
		Expect(third.Connect(f.Ctx())).To(MatchError(device.ErrBlocked))

		a, err := f.Association(third)
		Expect(err).NotTo(HaveOccurred())
		Expect(a.Reason).To(Equal(uemapi.ReasonMailboxLimit))
		Expect(f.ReachedExchange(third)).To(BeFalse())
		Expect(f.SyncStatus(first)()).To(Equal("Allowed"))
		Expect(f.SyncStatus(second)()).To(Equal("Allowed"))
		_, err = first.Sync(f.Ctx())
		Expect(err).NotTo(HaveOccurred())
	})
})

var _ = Describe("Manual overrides", func() {
	f := fw.New()

	fw.It("Block and Allow override the automatic decision and are logged as Block and Reinstate", fw.IDs("ACT-02", "ACT-03"), fw.Conformance(fw.FeatureManual, fw.FeatureBlock), func() {
		d := f.NewDevice(f.NewUser())
		md := f.Register(d)
		Expect(d.Connect(f.Ctx())).To(Succeed())

		f.Act(d, uem.ActBlock, "lost phone")
		Eventually(func() error { _, err := d.Sync(f.Ctx()); return err }).Should(MatchError(device.ErrBlocked))

		// A violation and its end change nothing while the override holds.
		_, err := f.UEM.SetSecurityViolation(f.Ctx(), md.UUID, true)
		Expect(err).NotTo(HaveOccurred())
		f.Act(d, uem.ActAllow, "found it")
		Eventually(func() error { _, err := d.Sync(f.Ctx()); return err }).Should(Succeed())
		a, _ := f.Association(d)
		Expect(a.ManualOverride).To(BeTrue())
		Expect(a.SyncStatus).To(Equal("Allowed"), "ACT-02: allowed despite the violation")

		var manual []uem.Event
		for _, e := range f.Events(d) {
			if !e.Automatic {
				manual = append(manual, e)
			}
		}
		Expect(manual).To(HaveLen(2))
		Expect(manual[0].Action).To(Equal(uem.EventBlock))
		Expect(manual[0].Message).To(Equal("lost phone"))
		Expect(manual[1].Action).To(Equal(uem.EventReinstate))
		Expect(manual[1].Message).To(Equal("found it"))
	})

	fw.It("Remove forgets the record and the next access is managed automatically again", fw.IDs("ACT-10", "ACT-11"), fw.Conformance(fw.FeatureManual, fw.FeatureFirstAccess), func() {
		d := f.NewDevice(f.NewUser())
		md := f.Register(d)
		Expect(d.Connect(f.Ctx())).To(Succeed())
		_, err := f.UEM.SetSecurityViolation(f.Ctx(), md.UUID, true)
		Expect(err).NotTo(HaveOccurred())
		f.Act(d, uem.ActAllow, "exec override")
		Eventually(f.SyncStatus(d)).Should(Equal("Allowed"))
		first, _ := f.Association(d)

		f.Act(d, uem.ActRemove, "re-establish management")
		Expect(f.Association(d)).Error().To(HaveOccurred(), "the association is gone")
		// The next access is a first access: decided by policy (the violation)
		// again. Until the gateway has applied the Remove, the device may
		// still be answered from the cache, so wait for the new record.
		Eventually(func(g Gomega) {
			_, err := d.Sync(f.Ctx())
			g.Expect(err).To(MatchError(device.ErrBlocked))
			_, aerr := f.Association(d)
			g.Expect(aerr).NotTo(HaveOccurred(), "the access after Remove created a new association")
		}).Should(Succeed())
		a, err := f.Association(d)
		Expect(err).NotTo(HaveOccurred())
		Expect(a.ID).NotTo(Equal(first.ID))
		Expect(a.ManualOverride).To(BeFalse())
		Expect(a.Reason).To(Equal(uemapi.ReasonSecurityViolation))
		Expect(f.EventActions(d)).To(ContainElement(uem.EventRemove))
	})
})

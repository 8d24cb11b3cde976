package scenarios_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

// Association records as the UEM shows them, the admin actions on them,
// and the preferences that drive the automatic decisions. Every record
// exists only because the gateway reported the device, so a gateway that
// reports nothing fails them all.

// sameDevice is a device option: the EAS device id of d (another account
// on the same phone).
func sameDevice(d *device.Device) func(*device.Config) {
	return func(c *device.Config) { c.ID = d.ID() }
}

var _ = Describe("Association records", func() {
	f := fw.New()

	fw.It("a reported device's record carries its id, user, mailbox, gateway, status and first and last sync times", fw.IDs("ASA-02", "ASA-03", "ASA-05", "ASA-06", "FLOW-14"),
		fw.Conformance(fw.FeatureFirstAccess), func(ctx context.Context) {
			user := f.NewUser()
			d := f.NewDevice(user)
			before := time.Now().Add(-time.Second)
			Expect(d.Connect(ctx)).To(Succeed())
			after := time.Now().Add(time.Second)
			a, err := f.Association(d)
			Expect(err).NotTo(HaveOccurred())
			Expect(a.DeviceID).To(Equal(d.ID()))
			Expect(a.User).To(Equal(user))
			Expect(a.MailboxID).To(Equal("mbx-" + user))
			Expect(a.Domain).To(Equal(f.GatewayID()))
			Expect(a.Status).To(Equal(uem.StatusUnregistered))
			Expect(a.Registered).To(BeFalse())
			Expect(a.SyncStatus).To(Equal("Allowed"))
			// The 14.1 device described itself in its first Provision.
			cfg := d.Config()
			Expect(a.Phone).To(Equal(cfg.Model), "Phone: the model the device gave")
			Expect(a.OS).To(Equal(cfg.OS()))
			Expect(a.FirstSyncTime).To(BeTemporally(">=", before), "ASA-05: when the gateway first reported it")
			Expect(a.FirstSyncTime).To(BeTemporally("<=", after))

			// ASA-06: later traffic moves Last Sync Time (the gateway's last-seen
			// reports; a gateway under test should send them every few seconds).
			first := a.FirstSyncTime
			Eventually(func() time.Time {
				_, _ = d.Sync(ctx)
				a, _ := f.Association(d)
				return a.LastSyncTime
			}).Should(BeTemporally(">", first), "Last Sync Time follows the device's traffic")
			a, _ = f.Association(d)
			Expect(a.FirstSyncTime).To(Equal(first), "First Sync Time does not move")
		})

	fw.It("each account on a device is its own record, the registered user's linked to the managed device", fw.IDs("ASA-01", "ASA-03"),
		fw.Conformance(fw.FeatureFirstAccess), func(ctx context.Context) {
			owner, guest := f.NewUser(), f.NewUser()
			phone := f.NewDevice(owner)
			md := f.Register(phone)
			second := f.NewDevice(guest, sameDevice(phone))
			Expect(phone.Connect(ctx)).To(Succeed())
			Expect(second.Connect(ctx)).To(Succeed())
			mine, err := f.Association(phone)
			Expect(err).NotTo(HaveOccurred())
			theirs, err := f.Association(second)
			Expect(err).NotTo(HaveOccurred())
			Expect(mine.ID).NotTo(Equal(theirs.ID), "two user/device pairs, two records")
			Expect(mine.Status).To(Equal(uem.StatusRegistered))
			Expect(mine.DeviceUUID).To(Equal(md.UUID))
			Expect(theirs.User).To(Equal(guest))
			Expect(theirs.DeviceID).To(Equal(mine.DeviceID))
			Expect(theirs.MailboxID).To(Equal("mbx-"+guest), "each record is the account's own mailbox")
			// Whether the extra account is linked by the device's EAS id is
			// the UEM's choice (the fake links it; ASA-13 has the admin link
			// a Samsung client's extra users by hand).
		})

	fw.It("an action on one record leaves the same user's other device and the device's other account alone", fw.IDs("ASA-14"),
		fw.Conformance(fw.FeatureManual, fw.FeatureBlock), func(ctx context.Context) {
			alice, bob := f.NewUser(), f.NewUser()
			phone := f.NewDevice(alice)
			tablet := f.NewDevice(alice)
			bobOnPhone := f.NewDevice(bob, sameDevice(phone))
			for _, d := range []*device.Device{phone, tablet, bobOnPhone} {
				Expect(d.Connect(ctx)).To(Succeed())
			}
			f.Act(phone, uem.ActBlock, "only this pair")
			syncUntil(f, phone, device.ErrBlocked)
			for _, d := range []*device.Device{tablet, bobOnPhone} {
				_, err := d.Sync(ctx)
				Expect(err).NotTo(HaveOccurred(), "%s of %s is untouched", d.ID(), d.User())
				Expect(f.SyncStatus(d)()).To(Equal("Allowed"))
			}
		})

	fw.It("Assign Policy and Revert Policy act on the device: every account on it gets the policy, then the default behaviour at its next Provision", fw.IDs("ASA-14", "ACT-13", "ACT-14", "PREF-10"),
		fw.Conformance(fw.FeaturePolicy, fw.FeatureManual), func(ctx context.Context) {
			owner, guest := f.NewUser(), f.NewUser()
			phone := f.NewDevice(owner)
			second := f.NewDevice(guest, sameDevice(phone))
			Expect(phone.Connect(ctx)).To(Succeed())
			Expect(second.Connect(ctx)).To(Succeed())
			p := uemapi.NewPolicy("Device-wide " + phone.ID())
			p.PasswordRequired, p.MinPasswordLength = true, 14
			p = f.CreatePolicy(p)
			assignAndProvision(f, phone, p, minLength("14"))
			awaitPolicy(f, second, minLength("14"))
			a, _ := f.Association(second)
			Expect(a.PolicyName).To(Equal(p.Name))

			f.Act(phone, uem.ActRevertPolicy, "back to default")
			awaitPolicy(f, phone, minLength("4"))
			awaitPolicy(f, second, minLength("4"))
			a, _ = f.Association(phone)
			Expect(a.PolicyID).To(BeEmpty())
		})

	fw.It("an inactive policy is not pushed; made active, it is", fw.IDs("ASP-02"), fw.Conformance(fw.FeaturePolicy), func(ctx context.Context) {
		d := f.NewDevice(f.NewUser())
		Expect(d.Connect(ctx)).To(Succeed())
		p := uemapi.NewPolicy("Dormant " + d.ID())
		p.Status, p.PasswordRequired, p.MinPasswordLength = uemapi.PolicyInactive, true, 13
		p = f.CreatePolicy(p)
		a, err := f.Association(d)
		Expect(err).NotTo(HaveOccurred())
		seen := f.DeliveryIDs()
		_, err = f.UEM.Act(ctx, a.ID, uem.Action{Action: uem.ActAssignPolicy, PolicyID: p.ID})
		Expect(err).NotTo(HaveOccurred())
		awaitDelivery(f, uemapi.NotifyDeviceState, seen)
		for range 3 {
			d.Reset()
			Expect(d.Connect(ctx)).To(Succeed())
			Expect(d.Policy().MinDevicePasswordLength).To(HaveValue(Equal("4")), "inactive: the default behaviour (the server's policy)")
		}
		p.Status = uemapi.PolicyActive
		_, err = f.UEM.UpdatePolicy(ctx, p.ID, p)
		Expect(err).NotTo(HaveOccurred())
		awaitPolicy(f, d, minLength("13"))
	})
})

var _ = Describe("Admin actions", func() {
	f := fw.New()

	fw.It("every action takes a note, and Block, Reinstate, Wipe and Remove are logged with it", fw.IDs("ACT-01", "ACT-16"), fw.Conformance(fw.FeatureManual), func(ctx context.Context) {
		user := f.NewUser()
		d, w := f.NewDevice(user), f.NewDevice(user)
		Expect(d.Connect(ctx)).To(Succeed())
		Expect(w.Connect(ctx)).To(Succeed())
		p := f.CreatePolicy(uemapi.NewPolicy("Noted " + d.ID()))
		a, err := f.Association(d)
		Expect(err).NotTo(HaveOccurred())
		steps := []uem.Action{
			{Action: uem.ActBlock, Note: "note block"},
			{Action: uem.ActAllow, Note: "note allow"},
			{Action: uem.ActAssignPolicy, PolicyID: p.ID, Note: "note assign"},
			{Action: uem.ActRevertPolicy, Note: "note revert"},
			{Action: uem.ActRegister, Note: "note register"},
		}
		for _, s := range steps {
			got, err := f.UEM.Act(ctx, a.ID, s)
			Expect(err).NotTo(HaveOccurred(), s.Action)
			Expect(got.Comment).To(Equal(s.Note), "%s keeps its note", s.Action)
		}
		f.Act(w, uem.ActWipe, "note wipe")
		Eventually(func() device.State { _, _ = w.Sync(ctx); return w.State() }).Should(Equal(device.Wiped))
		f.Act(w, uem.ActRemove, "note remove")

		notes := map[string]string{}
		for _, e := range append(f.Events(d), f.Events(w)...) {
			if !e.Automatic {
				notes[e.Action] = e.Message
			}
		}
		Expect(notes).To(HaveKeyWithValue(uem.EventBlock, "note block"))
		Expect(notes).To(HaveKeyWithValue(uem.EventReinstate, "note allow"))
		Expect(notes).To(HaveKeyWithValue(uem.EventAssignPolicy, "note assign"))
		Expect(notes).To(HaveKeyWithValue(uem.EventRevertPolicy, "note revert"))
		Expect(notes).To(HaveKeyWithValue(uem.EventRegister, "note register"))
		Expect(notes).To(HaveKeyWithValue(uem.EventWipe, "note wipe"))
		Expect(notes).To(HaveKeyWithValue(uem.EventRemove, "note remove"))
		_, err = d.Sync(ctx)
		Expect(err).NotTo(HaveOccurred(), "after Allow the device syncs")
	})

	fw.It("an automatic block is logged with the security-policy cause as its message", fw.IDs("ACT-16", "FLOW-08"), fw.Conformance(fw.FeatureBlock), func(ctx context.Context) {
		d := f.NewDevice(f.NewUser())
		md := f.Register(d)
		Expect(d.Connect(ctx)).To(Succeed())
		_, err := f.UEM.SetSecurityViolation(ctx, md.UUID, true)
		Expect(err).NotTo(HaveOccurred())
		syncUntil(f, d, device.ErrBlocked)
		var auto []uem.Event
		for _, e := range f.Events(d) {
			if e.Automatic && e.Action == uem.EventBlock {
				auto = append(auto, e)
			}
		}
		Expect(auto).To(HaveLen(1))
		Expect(auto[0].Message).NotTo(BeEmpty(), "names the cause")
	})

	fw.It("a manual Block holds through security-policy changes until Remove, after which the policy decides again", fw.IDs("ACT-04", "ACT-11"),
		fw.Conformance(fw.FeatureManual, fw.FeatureBlock), func(ctx context.Context) {
			d := f.NewDevice(f.NewUser())
			md := f.Register(d)
			Expect(d.Connect(ctx)).To(Succeed())
			f.Act(d, uem.ActBlock, "hold")
			syncUntil(f, d, device.ErrBlocked)
			for _, v := range []bool{true, false} {
				_, err := f.UEM.SetSecurityViolation(ctx, md.UUID, v)
				Expect(err).NotTo(HaveOccurred())
			}
			Consistently(func() error { _, err := d.Sync(ctx); return err }, time.Second).Should(MatchError(device.ErrBlocked), "the override holds")
			Expect(f.SyncStatus(d)()).To(Equal("Blocked"))
			f.Act(d, uem.ActRemove, "managed again")
			Eventually(func() error { d.Reset(); return d.Connect(ctx) }).Should(Succeed(), "compliant: allowed by policy")
			a, err := f.Association(d)
			Expect(err).NotTo(HaveOccurred())
			Expect(a.ManualOverride).To(BeFalse())
		})

	fw.It("Register links the record to a new managed device", fw.IDs("ACT-09", "ASA-03", "ASA-11"), fw.Conformance(fw.FeatureManual), func(ctx context.Context) {
		d := f.NewDevice(f.NewUser())
		Expect(d.Connect(ctx)).To(Succeed())
		a, err := f.Association(d)
		Expect(err).NotTo(HaveOccurred())
		Expect(a.Status).To(Equal(uem.StatusUnregistered))
		a = f.Act(d, uem.ActRegister, "enrol")
		Expect(a.Status).To(Equal(uem.StatusRegistered))
		Expect(a.DeviceUUID).NotTo(BeEmpty(), "the managed device appears in the Devices view")
		_, err = d.Sync(ctx)
		Expect(err).NotTo(HaveOccurred())
	})

	fw.It("Link To ties a record to a managed device; a device already linked needs Replace or Duplicate", fw.IDs("ACT-12"), fw.Conformance(fw.FeatureManual), func(ctx context.Context) {
		user := f.NewUser()
		one, two := f.NewDevice(user), f.NewDevice(user)
		f.SetPreferences(func(p *uem.Preferences) { p.StrictLinking = true })
		Expect(one.Connect(ctx)).To(Succeed())
		Expect(two.Connect(ctx)).To(Succeed())
		md, err := f.UEM.AddDevice(ctx, uem.Device{UUID: "uuid-link-" + one.ID(), UserID: user, Platform: "Android"})
		Expect(err).NotTo(HaveOccurred())
		a1, _ := f.Association(one)
		a2, _ := f.Association(two)
		got, err := f.UEM.Act(ctx, a1.ID, uem.Action{Action: uem.ActLinkTo, DeviceUUID: md.UUID})
		Expect(err).NotTo(HaveOccurred())
		Expect(got.Status).To(Equal(uem.StatusRegistered))
		_, err = f.UEM.Act(ctx, a2.ID, uem.Action{Action: uem.ActLinkTo, DeviceUUID: md.UUID})
		Expect(uemapi.IsCode(err, uemapi.CodeConflict)).To(BeTrue(), "already linked: the admin must choose: %v", err)
		got, err = f.UEM.Act(ctx, a2.ID, uem.Action{Action: uem.ActLinkTo, DeviceUUID: md.UUID, Mode: uem.LinkDuplicate})
		Expect(err).NotTo(HaveOccurred())
		Expect(got.DeviceUUID).To(Equal(md.UUID))
		a1, _ = f.Association(one)
		Expect(a1.DeviceUUID).To(Equal(md.UUID), "Duplicate keeps the first link")
		_, err = f.UEM.Act(ctx, a2.ID, uem.Action{Action: uem.ActLinkTo, DeviceUUID: md.UUID, Mode: uem.LinkReplace})
		Expect(err).NotTo(HaveOccurred())
		a1, _ = f.Association(one)
		Expect(a1.Status).To(Equal(uem.StatusUnregistered), "Replace moves the link")
	})
})

var _ = Describe("Preferences", func() {
	f := fw.New()

	fw.It("by default unregistered devices are allowed", fw.IDs("PREF-02"), fw.Conformance(fw.FeatureFirstAccess), func(ctx context.Context) {
		d := f.NewDevice(f.NewUser(), func(c *device.Config) { c.Platform = device.Windows })
		Expect(d.Connect(ctx)).To(Succeed())
		a, err := f.Association(d)
		Expect(err).NotTo(HaveOccurred())
		Expect(a.Registered).To(BeFalse())
		Expect(a.SyncStatus).To(Equal("Allowed"))
		Expect(f.ReachedExchange(d)).To(BeTrue())
	})

	fw.It("turning auto-block on applies at once: a new Windows device, which cannot register, is blocked", fw.IDs("PREF-04", "PREF-05"), fw.Conformance(fw.FeatureFirstAccess, fw.FeatureBlock), func(ctx context.Context) {
		f.SetPreferences(func(p *uem.Preferences) { p.AutoBlockUnregistered = true })
		d := f.NewDevice(f.NewUser(), func(c *device.Config) { c.Platform = device.Windows })
		Expect(d.Connect(ctx)).To(MatchError(device.ErrBlocked))
		Expect(fw.Answer(d.Last())).To(Equal(fw.BlockedAnswer(d.Config().Version)))
		a, err := f.Association(d)
		Expect(err).NotTo(HaveOccurred())
		Expect(a.Reason).To(Equal(uemapi.ReasonUnregistered))
		Expect(f.ReachedExchange(d)).To(BeFalse())
	})

	fw.It("an account auto-block kept out is let in by a manual Allow", fw.IDs("ACT-17", "PREF-03"), fw.Conformance(fw.FeatureManual, fw.FeatureBlock), func(ctx context.Context) {
		f.SetPreferences(func(p *uem.Preferences) { p.AutoBlockUnregistered = true })
		d := f.NewDevice(f.NewUser())
		Expect(d.Connect(ctx)).To(MatchError(device.ErrBlocked))
		f.Act(d, uem.ActAllow, "added by hand")
		Eventually(func() error { d.Reset(); return d.Connect(ctx) }).Should(Succeed())
		Expect(f.ReachedExchange(d)).To(BeTrue())
	})

	fw.It("without strict linking a record is linked by the user's name; with it, only by the ActiveSync id", fw.IDs("PREF-06", "ASA-09"), fw.Conformance(fw.FeatureFirstAccess), func(ctx context.Context) {
		loose, strict := f.NewUser(), f.NewUser()
		for _, u := range []string{loose, strict} {
			_, err := f.UEM.AddDevice(ctx, uem.Device{UUID: "uuid-" + u + "-" + f.FreshDeviceID(), UserID: u, Platform: "iOS"})
			Expect(err).NotTo(HaveOccurred())
		}
		d := f.NewDevice(loose)
		Expect(d.Connect(ctx)).To(Succeed())
		Expect(f.Association(d)).To(HaveField("Status", uem.StatusRegistered), "matched on the user name")

		f.SetPreferences(func(p *uem.Preferences) { p.StrictLinking = true })
		s := f.NewDevice(strict)
		Expect(s.Connect(ctx)).To(Succeed())
		Expect(f.Association(s)).To(HaveField("Status", uem.StatusUnregistered), "strict: the ActiveSync id does not match")
	})

	fw.It("a change of the Default ActiveSync Policy behaviour reaches a known device at its next Provision", fw.IDs("PREF-10", "PREF-09", "DEF-02"), fw.Conformance(fw.FeaturePolicy), func(ctx context.Context) {
		d := f.NewDevice(f.NewUser())
		Expect(d.Connect(ctx)).To(Succeed())
		Expect(d.Policy().MinDevicePasswordLength).To(HaveValue(Equal("4")), "Apply AS server policy by default")
		f.SetPreferences(func(p *uem.Preferences) { p.DefaultPolicyBehavior = uemapi.PolicyRemoveServer })
		Eventually(func() bool {
			d.Reset()
			if d.Connect(ctx) != nil {
				return false
			}
			pol := d.Policy()
			return pol.MinDevicePasswordLength == nil && pol.DevicePasswordEnabled != nil && !*pol.DevicePasswordEnabled
		}).Should(BeTrue(), "the next Provision has no restrictions")
	})
})

var _ = Describe("Gateway start", func() {
	f := fw.New()

	fw.It("a restarted gateway pulls the registered allowed devices with their policies; an unregistered one is a first access again", fw.IDs("FLOW-10", "FLOW-11"),
		fw.Disruptive(fw.FeaturePolicy, fw.FeatureFirstAccess), func(ctx context.Context) {
			registered, unregistered := f.NewDevice(f.NewUser()), f.NewDevice(f.NewUser())
			f.Register(registered)
			p := uemapi.NewPolicy("At init " + registered.ID())
			p.PasswordRequired, p.MinPasswordLength = true, 11
			p = f.CreatePolicy(p)
			for _, d := range []*device.Device{registered, unregistered} {
				Expect(d.Connect(ctx)).To(Succeed())
				assignAndProvision(f, d, p, minLength("11"))
			}

			f.RestartGateway()
			// From here the gateway cannot ask the UEM: what it knows of a
			// device came with its start.
			f.CutGatewayCalls(true)
			registered.Reset()
			Expect(registered.Connect(ctx)).To(Succeed())
			Expect(registered.Policy().MinDevicePasswordLength).To(HaveValue(Equal("11")), "the assigned policy came with the init list")
			unregistered.Reset()
			Expect(unregistered.Connect(ctx)).To(Succeed(), "not in the init list: a first access, let in by fail-open")
			Expect(unregistered.Policy().MinDevicePasswordLength).To(HaveValue(Equal("4")), "fail-open: the server's own policy")

			f.CutGatewayCalls(false)
			awaitPolicy(f, unregistered, minLength("11"))
		})
})

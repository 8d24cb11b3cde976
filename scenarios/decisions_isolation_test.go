package scenarios_test

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

// One mechanism at a time. "By notification": the gateway's own calls to
// the UEM are cut (fw.CutGatewayCalls), so neither a resync nor a new
// report can carry the change; a gateway that ignores notifications fails.
// "By resync": the UEM loses its notifications (fw.DropNotifications), so
// only the gateway's periodic resync can; a gateway without one fails.

// dropAndAwait loses the UEM's notifications from now on and returns a
// function that waits until one of typ was dropped (the change was not
// pushed).
func dropAndAwait(f *fw.Framework, typ uemapi.NotificationType) func() {
	seen := f.DeliveryIDs()
	f.DropNotifications(true)
	return func() {
		GinkgoHelper()
		Eventually(func() bool {
			for _, d := range f.DeliveredSince(string(typ), seen) {
				if d.Status == uem.DeliveryDropped {
					return true
				}
			}
			return false
		}).Should(BeTrue(), "the UEM lost the %s notification", typ)
	}
}

var _ = Describe("Changes by notification alone", func() {
	f := fw.New()

	fw.It("an Allow lets a blocked device in, despite its violation, with the gateway's UEM calls cut", fw.IDs("ACT-02", "ACT-04"), fw.Conformance(fw.FeatureManual, fw.FeatureBlock), func(ctx context.Context) {
		d := f.NewDevice(f.NewUser())
		md := f.Register(d)
		_, err := f.UEM.SetSecurityViolation(ctx, md.UUID, true)
		Expect(err).NotTo(HaveOccurred())
		Expect(d.Connect(ctx)).To(MatchError(device.ErrBlocked))

		f.CutGatewayCalls(true)
		seen := f.DeliveryIDs()
		f.Act(d, uem.ActAllow, "exec override")
		awaitDelivery(f, uemapi.NotifyDeviceState, seen)
		Eventually(func() error { d.Reset(); return d.Connect(ctx) }).Should(Succeed(), "the Allow arrived by notification")
		Expect(f.ReachedExchange(d)).To(BeTrue())
		a, _ := f.Association(d)
		Expect(a.ManualOverride).To(BeTrue())
	})

	fw.It("a security-policy violation found at check-in blocks a connected device, with the gateway's UEM calls cut", fw.IDs("FLOW-08"), fw.Conformance(fw.FeatureBlock), func(ctx context.Context) {
		d := f.NewDevice(f.NewUser())
		md := f.Register(d)
		Expect(d.Connect(ctx)).To(Succeed())

		f.CutGatewayCalls(true)
		seen := f.DeliveryIDs()
		_, err := f.UEM.SetSecurityViolation(ctx, md.UUID, true)
		Expect(err).NotTo(HaveOccurred())
		awaitDelivery(f, uemapi.NotifyDeviceState, seen)
		syncUntil(f, d, device.ErrBlocked)
		Expect(fw.Answer(d.Last())).To(Equal(fw.BlockedAnswer(d.Config().Version)))
	})

	fw.It("a policy edit reaches every device it is assigned to, with the gateway's UEM calls cut", fw.IDs("FLOW-09", "ASA-14"), fw.Conformance(fw.FeaturePolicy), func(ctx context.Context) {
		user := f.NewUser()
		d := f.NewDevice(user)
		Expect(d.Connect(ctx)).To(Succeed())
		p := uemapi.NewPolicy("Edited " + d.ID())
		p.PasswordRequired, p.MinPasswordLength = true, 10
		p = f.CreatePolicy(p)
		assignAndProvision(f, d, p, minLength("10"))

		f.CutGatewayCalls(true)
		seen := f.DeliveryIDs()
		p.MinPasswordLength = 16
		_, err := f.UEM.UpdatePolicy(ctx, p.ID, p)
		Expect(err).NotTo(HaveOccurred())
		awaitDelivery(f, uemapi.NotifyPolicy, seen)
		awaitPolicy(f, d, minLength("16"))
	})

	fw.It("Remove reaches the gateway by notification: the blocked device's next access is a first access", fw.IDs("ACT-10", "ACT-11", "DC-22", "FO-01"), fw.Conformance(fw.FeatureManual, fw.FeatureFirstAccess, fw.FeatureFailOpen), func(ctx context.Context) {
		d := f.NewDevice(f.NewUser())
		Expect(d.Connect(ctx)).To(Succeed())
		first, err := f.Association(d)
		Expect(err).NotTo(HaveOccurred())
		f.Act(d, uem.ActBlock, "keep out")
		syncUntil(f, d, device.ErrBlocked)

		f.CutGatewayCalls(true)
		seen := f.DeliveryIDs()
		f.Act(d, uem.ActRemove, "re-establish management")
		awaitDelivery(f, uemapi.NotifyPurge, seen)
		// The entry is gone, so the next request is a first access; the
		// gateway cannot report it now and fail-open (default Allow) lets
		// it in. A gateway that kept the entry keeps the device blocked.
		Eventually(func() error { d.Reset(); return d.Connect(ctx) }).Should(Succeed(), "a first access, let in by fail-open")

		f.CutGatewayCalls(false)
		Eventually(func() string { a, _ := f.Association(d); return a.ID }).ShouldNot(Or(BeEmpty(), Equal(first.ID)),
			"reported as new once the UEM can be asked: a new association")
		a, _ := f.Association(d)
		Expect(a.ManualOverride).To(BeFalse(), "managed by policy again")
		Expect(a.SyncStatus).To(Equal("Allowed"))
		_, err = d.Sync(ctx)
		Expect(err).NotTo(HaveOccurred())
	})
})

var _ = Describe("Changes by resync alone", func() {
	f := fw.New()

	fw.It("an Allow whose notification was lost reaches the device with the periodic resync", fw.IDs("FLOW-13", "ACT-02"), fw.Conformance(fw.FeatureResync, fw.FeatureManual), func(ctx context.Context) {
		d := f.NewDevice(f.NewUser())
		md := f.Register(d)
		_, err := f.UEM.SetSecurityViolation(ctx, md.UUID, true)
		Expect(err).NotTo(HaveOccurred())
		Expect(d.Connect(ctx)).To(MatchError(device.ErrBlocked))

		dropped := dropAndAwait(f, uemapi.NotifyDeviceState)
		f.Act(d, uem.ActAllow, "notification lost")
		dropped()
		Eventually(func() error { d.Reset(); return d.Connect(ctx) }).Should(Succeed())
	})

	fw.It("a Wipe whose notification was lost is delivered after the periodic resync, as RemoteWipe", fw.IDs("FLOW-13", "ACT-05"), fw.Conformance(fw.FeatureResync, fw.FeatureWipe), func(ctx context.Context) {
		d := f.NewDevice(f.NewUser(), fw.Versioned(eas.V161))
		f.Register(d)
		Expect(d.Connect(ctx)).To(Succeed())

		dropped := dropAndAwait(f, uemapi.NotifyDeviceState)
		f.Act(d, uem.ActWipe, "notification lost")
		dropped()
		Eventually(func() device.State { _, _ = d.Sync(ctx); return d.State() }).Should(Equal(device.Wiped))
		Expect(d.Wipes()).To(Equal([]device.WipeKind{device.FullWipe}))
		Eventually(func() bool { a, _ := f.Association(d); return !a.WipeAcked.IsZero() }).Should(BeTrue(), "the UEM got the acknowledgement")
	})

	fw.It("a policy edit whose notification was lost is pushed after the periodic resync", fw.IDs("FLOW-13", "FLOW-09"), fw.Conformance(fw.FeatureResync, fw.FeaturePolicy), func(ctx context.Context) {
		d := f.NewDevice(f.NewUser())
		Expect(d.Connect(ctx)).To(Succeed())
		p := uemapi.NewPolicy("Resynced " + d.ID())
		p.PasswordRequired, p.MinPasswordLength = true, 10
		p = f.CreatePolicy(p)
		assignAndProvision(f, d, p, minLength("10"))

		dropped := dropAndAwait(f, uemapi.NotifyPolicy)
		p.MinPasswordLength = 15
		_, err := f.UEM.UpdatePolicy(ctx, p.ID, p)
		Expect(err).NotTo(HaveOccurred())
		dropped()
		awaitPolicy(f, d, minLength("15"))
	})

	fw.It("an assigned policy whose notification was lost reaches a device that was off, at its next sync after the resync", fw.IDs("FLOW-13", "ACT-13"), fw.Conformance(fw.FeatureResync, fw.FeaturePolicy), func(ctx context.Context) {
		d := f.NewDevice(f.NewUser())
		Expect(d.Connect(ctx)).To(Succeed())
		p := uemapi.NewPolicy("While off " + d.ID())
		p.PasswordRequired, p.MinPasswordLength = true, 12
		p = f.CreatePolicy(p)
		dropped := dropAndAwait(f, uemapi.NotifyDeviceState)
		a, err := f.Association(d)
		Expect(err).NotTo(HaveOccurred())
		_, err = f.UEM.Act(ctx, a.ID, uem.Action{Action: uem.ActAssignPolicy, PolicyID: p.ID, Note: "while off"})
		Expect(err).NotTo(HaveOccurred())
		dropped()
		awaitPolicy(f, d, minLength("12"))
	})

	fw.It("a Remove whose notification was lost: the resync drops the entry and the next access is a first access", fw.IDs("FLOW-13", "ACT-11", "FLOW-11"), fw.Conformance(fw.FeatureResync, fw.FeatureFirstAccess), func(ctx context.Context) {
		d := f.NewDevice(f.NewUser())
		md := f.Register(d)
		Expect(d.Connect(ctx)).To(Succeed())
		first, err := f.Association(d)
		Expect(err).NotTo(HaveOccurred())
		// Manually allowed despite a violation: only a first access brings the violation back.
		f.Act(d, uem.ActAllow, "override")
		_, err = f.UEM.SetSecurityViolation(ctx, md.UUID, true)
		Expect(err).NotTo(HaveOccurred())

		dropped := dropAndAwait(f, uemapi.NotifyPurge)
		f.Act(d, uem.ActRemove, "notification lost")
		dropped()
		Eventually(func() error { _, err := d.Sync(ctx); return err }).Should(MatchError(device.ErrBlocked), "reported again after the resync dropped it")
		a, err := f.Association(d)
		Expect(err).NotTo(HaveOccurred())
		Expect(a.ID).NotTo(Equal(first.ID))
		Expect(a.Reason).To(Equal(uemapi.ReasonSecurityViolation))
	})
})

var _ = Describe("Wipes Exchange orders", func() {
	f := fw.New()

	// A transparency property: the gateway relays Exchange's own wipe orders
	// unchanged, so a relay that makes no decisions passes it too.
	fw.It("an account-only wipe Exchange orders reaches a 16.1 device as AccountOnlyRemoteWipe and a full one as RemoteWipe", fw.Conformance(fw.FeatureWipe), Label("transparency"), func(ctx context.Context) {
		user := f.NewUser()
		account, full := f.NewDevice(user, fw.Versioned(eas.V161)), f.NewDevice(user, fw.Versioned(eas.V161))
		Expect(account.Connect(ctx)).To(Succeed())
		Expect(full.Connect(ctx)).To(Succeed())

		f.ExchangeWipe(account, true)
		f.ExchangeWipe(full, false)
		Eventually(func() device.State { _, _ = account.Sync(ctx); return account.State() }).Should(Equal(device.Wiped))
		Eventually(func() device.State { _, _ = full.Sync(ctx); return full.State() }).Should(Equal(device.Wiped))
		Expect(account.Wipes()).To(Equal([]device.WipeKind{device.AccountOnlyWipe}), "the account-only wipe arrives as such")
		Expect(full.Wipes()).To(Equal([]device.WipeKind{device.FullWipe}))
		p, _ := f.Partnership(account)
		Expect(p.WipeAcked.IsZero()).To(BeFalse(), "Exchange got the account-only acknowledgement")
	})
})

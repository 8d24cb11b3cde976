package scenarios_test

import (
	"context"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

// What the UEM's views show of the devices the gateway reported: the
// details pane, the list filters, the policy list's "# Phones" and the
// gateway entry. Nothing here exists unless the gateway reported the
// devices and keeps the UEM informed.

func ids(as []uem.Association) []string {
	out := make([]string, 0, len(as))
	for _, a := range as {
		out = append(out, a.DeviceID)
	}
	return out
}

var _ = Describe("UEM views of reported devices", func() {
	f := fw.New()

	fw.It("a record's details carry the policy applied to it and the last action's note", fw.IDs("ASA-07"), fw.Conformance(fw.FeaturePolicy, fw.FeatureManual), func(ctx context.Context) {
		d := f.NewDevice(f.NewUser())
		md := f.Register(d)
		Expect(d.Connect(ctx)).To(Succeed())
		p := uemapi.NewPolicy("Details " + d.ID())
		p.PasswordRequired, p.MinPasswordLength = true, 9
		p = f.CreatePolicy(p)
		a, err := f.Association(d)
		Expect(err).NotTo(HaveOccurred())
		_, err = f.UEM.Act(ctx, a.ID, uem.Action{Action: uem.ActAssignPolicy, PolicyID: p.ID, Note: "travelling"})
		Expect(err).NotTo(HaveOccurred())
		awaitPolicy(f, d, minLength("9"))
		a, err = f.Association(d)
		Expect(err).NotTo(HaveOccurred())
		Expect(a.PolicyName).To(Equal(p.Name), "Mailbox Details: the ActiveSync policy applied")
		Expect(a.Comment).To(Equal("travelling"))
		Expect(a.Phone).To(Equal(md.Model), "the phone's model")
		Expect(a.DeviceUUID).To(Equal(md.UUID))
	})

	fw.It("the list filters find reported records by registration, assigned policy and this year's actions", fw.IDs("ASA-08"), fw.Conformance(fw.FeatureManual), func(ctx context.Context) {
		user := f.NewUser()
		registered, loose, acted := f.NewDevice(user), f.NewDevice(f.NewUser()), f.NewDevice(f.NewUser())
		f.Register(registered)
		for _, d := range []*device.Device{registered, loose, acted} {
			Expect(d.Connect(ctx)).To(Succeed())
		}
		p := f.CreatePolicy(uemapi.NewPolicy("Filtered " + acted.ID()))
		a, err := f.Association(acted)
		Expect(err).NotTo(HaveOccurred())
		_, err = f.UEM.Act(ctx, a.ID, uem.Action{Action: uem.ActAssignPolicy, PolicyID: p.ID})
		Expect(err).NotTo(HaveOccurred())

		yes, no := true, false
		Expect(ids(f.AssociationsWhere(uem.AssociationFilter{Registered: &yes}))).To(ContainElement(registered.ID()))
		Expect(ids(f.AssociationsWhere(uem.AssociationFilter{Registered: &yes}))).NotTo(ContainElement(loose.ID()))
		Expect(ids(f.AssociationsWhere(uem.AssociationFilter{Registered: &no}))).To(ContainElement(loose.ID()))
		Expect(ids(f.AssociationsWhere(uem.AssociationFilter{PolicyAssigned: true}))).To(ContainElement(acted.ID()))
		Expect(ids(f.AssociationsWhere(uem.AssociationFilter{PolicyAssigned: true}))).NotTo(ContainElement(loose.ID()))
		Expect(ids(f.AssociationsWhere(uem.AssociationFilter{ActionThisYear: true}))).To(ContainElement(acted.ID()))
		Expect(ids(f.AssociationsWhere(uem.AssociationFilter{ActionThisYear: true}))).NotTo(ContainElement(loose.ID()))
	})

	fw.It("a registered device that never reached ActiveSync has no record until its first access", fw.IDs("ASA-10", "ASA-11"), fw.Conformance(fw.FeatureFirstAccess), func(ctx context.Context) {
		d := f.NewDevice(f.NewUser())
		md := f.Register(d)
		Expect(f.Association(d)).Error().To(HaveOccurred(), "registered only: not an ActiveSync device")
		Expect(d.Connect(ctx)).To(Succeed())
		a, err := f.Association(d)
		Expect(err).NotTo(HaveOccurred(), "the gateway reported the first access")
		Expect(a.Status).To(Equal(uem.StatusRegistered))
		Expect(a.DeviceUUID).To(Equal(md.UUID))
	})

	fw.It("a policy's \"# Phones\" counts the devices it is applied to", fw.IDs("ASP-16"), fw.Conformance(fw.FeaturePolicy), func(ctx context.Context) {
		one, two := f.NewDevice(f.NewUser()), f.NewDevice(f.NewUser())
		p := f.CreatePolicy(uemapi.NewPolicy("Counted " + one.ID()))
		Expect(f.PolicyPhones(p.ID)).To(Equal(0))
		for i, d := range []*device.Device{one, two} {
			Expect(d.Connect(ctx)).To(Succeed())
			a, err := f.Association(d)
			Expect(err).NotTo(HaveOccurred())
			_, err = f.UEM.Act(ctx, a.ID, uem.Action{Action: uem.ActAssignPolicy, PolicyID: p.ID})
			Expect(err).NotTo(HaveOccurred())
			Expect(f.PolicyPhones(p.ID)).To(Equal(i + 1))
		}
	})

	fw.It("the UEM shows the gateway's software version, learned from its calls", fw.IDs("FLOW-15"), fw.Conformance(fw.FeatureFirstAccess), func(ctx context.Context) {
		d := f.NewDevice(f.NewUser())
		Expect(d.Connect(ctx)).To(Succeed()) // a first access: the gateway called the UEM
		g, err := f.UEM.Gateway(ctx, f.GatewayID())
		Expect(err).NotTo(HaveOccurred())
		Expect(strings.TrimSpace(g.Version)).NotTo(BeEmpty(), "the version the gateway reported")
		Expect(g.LastContact.IsZero()).To(BeFalse())
	})

	fw.It("Wipe, Assign Policy and Revert Policy are carried out on iOS and Android devices too", fw.IDs("ACT-15"), fw.Conformance(fw.FeatureManual, fw.FeatureWipe, fw.FeaturePolicy), func(ctx context.Context) {
		ios := f.NewDevice(f.NewUser(), func(c *device.Config) { c.Platform = device.IOS })
		android := f.NewDevice(f.NewUser(), func(c *device.Config) { c.Platform = device.Android })
		Expect(ios.Connect(ctx)).To(Succeed())
		Expect(android.Connect(ctx)).To(Succeed())
		p := uemapi.NewPolicy("Not recommended " + ios.ID())
		p.PasswordRequired, p.MinPasswordLength = true, 8
		p = f.CreatePolicy(p)
		assignAndProvision(f, ios, p, minLength("8"))
		f.Act(ios, uem.ActRevertPolicy, "")
		awaitPolicy(f, ios, minLength("4"))
		f.Act(android, uem.ActWipe, "")
		Eventually(func() device.State { _, _ = android.Sync(ctx); return android.State() }).Should(Equal(device.Wiped))
	})
})

var _ = Describe("Device cache reports", func() {
	f := fw.New()

	fw.It("the cache lists entries by kind, partial device id, partial user, tunnel id and minimum connections", fw.IDs("DC-10", "DC-11", "DC-12", "DC-13", "DC-14"),
		fw.Introspection(fw.FeatureFirstAccess), func(ctx context.Context) {
			busy, quiet := f.NewDevice(f.NewUser()), f.NewDevice(f.NewUser())
			Expect(busy.Connect(ctx)).To(Succeed())
			Expect(quiet.Connect(ctx)).To(Succeed())
			for range 5 {
				f.HTTPClient().CloseIdleConnections() // Cn counts connections, not requests (issue 22): a new one each
				_, err := busy.Sync(ctx)
				Expect(err).NotTo(HaveOccurred())
			}
			gw := f.Gateway()
			all, err := gw.Dump(ctx, "all")
			Expect(err).NotTo(HaveOccurred())
			as, err := gw.Dump(ctx, "active-sync")
			Expect(err).NotTo(HaveOccurred())
			Expect(len(as)).To(BeNumerically(">=", 2))
			Expect(len(all)).To(BeNumerically(">=", len(as)))

			partial := busy.ID()[len(busy.ID())-4:]
			byDev, err := gw.ByDevice(ctx, partial)
			Expect(err).NotTo(HaveOccurred())
			Expect(byDev).To(ContainElement(HaveField("DeviceID", busy.ID())))
			byUser, err := gw.ByUser(ctx, busy.User()[:3])
			Expect(err).NotTo(HaveOccurred())
			Expect(byUser).To(ContainElement(HaveField("User", busy.User())))
			one, err := gw.Entry(ctx, strings.ToLower(busy.ID()), busy.User())
			Expect(err).NotTo(HaveOccurred())
			Expect(one).To(HaveLen(1))
			Expect(one[0].DeviceID).To(Equal(busy.ID()))

			min := one[0].Connections
			Expect(min).To(BeNumerically(">", 3))
			many, err := gw.MinConnection(ctx, int(min))
			Expect(err).NotTo(HaveOccurred())
			Expect(many).To(ContainElement(HaveField("DeviceID", busy.ID())))
			Expect(many).NotTo(ContainElement(HaveField("DeviceID", quiet.ID())))
		})
})

var _ = Describe("A wiped phone that comes back", func() {
	f := fw.New()

	fw.It("with a new ActiveSync id is a new record; the old one stays wiped and keeps the old id out", fw.IDs("ASA-12", "ACT-06"), fw.Conformance(fw.FeatureWipe, fw.FeatureFirstAccess), func(ctx context.Context) {
		user := f.NewUser()
		old := f.NewDevice(user)
		f.Register(old)
		Expect(old.Connect(ctx)).To(Succeed())
		f.Act(old, uem.ActWipe, "lost")
		Eventually(func() device.State { _, _ = old.Sync(ctx); return old.State() }).Should(Equal(device.Wiped))
		before, err := f.Association(old)
		Expect(err).NotTo(HaveOccurred())

		renewed := f.NewDevice(user) // iOS 8: the wipe gave the phone a new DeviceID
		f.Register(renewed)
		Expect(renewed.Connect(ctx)).To(Succeed())
		a, err := f.Association(renewed)
		Expect(err).NotTo(HaveOccurred())
		Expect(a.ID).NotTo(Equal(before.ID), "a new record")
		Expect(a.SyncStatus).To(Equal("Allowed"))
		Expect(f.SyncStatus(old)()).To(Equal("Wiped"))
		old.Reset()
		Expect(old.Provision(ctx)).To(MatchError(device.ErrBlocked), "the old id stays out")
	})
})

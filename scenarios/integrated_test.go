package scenarios_test

import (
	"errors"
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/gateway/integrated"
	"github.com/gatehouse-lab/gatehouse/lab"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/exmgmt"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

var _ = Describe("Integrated mode", func() {
	f := fw.New(fw.WithIntegrated())

	connector := func() *integrated.Connector {
		c := f.Lab.Connector()
		Eventually(func() time.Time { return c.State().LastFull }).ShouldNot(BeZero(), "the full sync after set-up")
		return c
	}

	fw.It("learns a partnership through Exchange, and Exchange enforces the UEM's block, allow and wipe", fw.IDs("INT-05", "INT-07", "INT-11", "INT-14"), Label(fw.FeatureIntegrated), func() {
		c := connector()
		d := f.NewDirectDevice(f.NewUser())
		Expect(d.Connect(f.Ctx())).To(Succeed(), "the device syncs with Exchange itself")
		Expect(c.Sync(f.Ctx(), integrated.Differential)).To(Succeed())
		Expect(c.State().LastDifferential).NotTo(BeZero(), "timestamped")
		a, err := f.Association(d)
		Expect(err).NotTo(HaveOccurred(), "the UEM learnt the association through the connector")
		Expect(a.Domain).To(Equal(lab.IntegratedGatewayID))
		md, _ := f.Lab.Exchange.Management().Device(d.User(), d.ID())
		Expect(md.AccessStateReason).To(Equal(exmgmt.ReasonIndividual), "the UEM's Allow is in the mailbox's allowed ids")

		f.Act(d, uem.ActBlock, "lost")
		Eventually(func() error { _, err := d.Sync(f.Ctx()); return err }).Should(MatchError(device.ErrBlocked), "Exchange refuses the device")
		f.Act(d, uem.ActAllow, "found")
		Eventually(func() error { d.Reset(); return d.Connect(f.Ctx()) }).Should(Succeed(), "allowed again")

		f.Act(d, uem.ActWipe, "stolen")
		Eventually(func() device.State { _, _ = d.Sync(f.Ctx()); return d.State() }).Should(Equal(device.Wiped), "Exchange delivers the wipe")
		Expect(c.Sync(f.Ctx(), integrated.Differential)).To(Succeed())
		Eventually(func() time.Time { a, _ := f.Association(d); return a.WipeAcked }).ShouldNot(BeZero(), "the connector acknowledged the wipe Exchange delivered")
	})

	fw.It("resumes a full sync at the failed batch, escalates to full on a rule change and refuses a differential on clock skew", fw.IDs("INT-05", "INT-06", "INT-08", "INT-10"), Label(fw.FeatureIntegrated), func() {
		c := connector()
		x := f.Lab.Exchange.Management()
		x.Populate("bulk", 30, 1, nil, time.Now())
		Expect(x.SetFaults(exchange.MgmtFaults{Page: &exchange.PageFault{Kind: exchange.PageError, After: 1}})).To(Succeed())
		Expect(c.Sync(f.Ctx(), integrated.Full)).To(MatchError(ContainSubstring("batch 2")))
		Expect(c.State().Phase).NotTo(BeEmpty(), "a full sync to resume")
		Expect(c.Sync(f.Ctx(), integrated.Differential)).To(Succeed(), "a differential resumes the full sync")
		Expect(c.State().Devices).To(BeNumerically(">=", 30))

		full := c.State().LastFull
		Expect(x.AddRule(exmgmt.Rule{Name: "no android", Characteristic: exmgmt.ByType, QueryString: "Android", AccessLevel: exmgmt.LevelBlock})).To(Succeed())
		Expect(c.Sync(f.Ctx(), integrated.Differential)).To(Succeed())
		Expect(c.State().LastFull).To(BeTemporally(">", full), "new access rules make it a full sync")

		Expect(x.SetFaults(exchange.MgmtFaults{ClockSkewSeconds: 3600})).To(Succeed())
		Expect(c.Sync(f.Ctx(), integrated.Differential)).To(MatchError(ContainSubstring("clock skew")))
		Expect(c.State().NeedFull).NotTo(BeEmpty(), "a failed differential asks for a full sync")
		Expect(c.Resync(integrated.Full)).To(Succeed())
		Eventually(func() string { return c.State().NeedFull }).Should(BeEmpty(), "the full sync ran")
	})
})

var _ = Describe("Several mailboxes on one device", func() {
	f := fw.New()

	fw.It("a security violation blocks every account on the device; the same user's compliant device stays allowed", fw.IDs("MMB-01", "MMB-03"), Label(fw.FeatureMultiMailbox), func() {
		alice, bob := f.NewUser(), f.NewUser()
		phone := f.NewDevice(alice)
		f.Register(phone)
		bobOnPhone := f.NewDevice(bob, func(c *device.Config) { c.ID = phone.ID() })
		tablet := f.NewDevice(alice)
		f.Register(tablet)
		for _, d := range []*device.Device{phone, bobOnPhone, tablet} {
			Expect(d.Connect(f.Ctx())).To(Succeed())
		}
		_, err := f.UEM.SetSecurityViolation(f.Ctx(), "uuid-"+phone.ID(), true)
		Expect(err).NotTo(HaveOccurred())
		for _, d := range []*device.Device{phone, bobOnPhone} {
			Eventually(func() error { _, err := d.Sync(f.Ctx()); return err }).Should(MatchError(device.ErrBlocked), "%s on the violating device", d.User())
		}
		_, err = tablet.Sync(f.Ctx())
		Expect(err).NotTo(HaveOccurred(), "alice's compliant tablet")
	})

	fw.It("a manually added account uses the gateway as its server and needs the account's own password", fw.IDs("MMB-01", "MMB-08"), Label(fw.FeatureMultiMailbox), func() {
		alice, bob := f.NewUser(), f.NewUser()
		phone := f.NewDevice(alice)
		f.Register(phone)
		Expect(phone.Connect(f.Ctx())).To(Succeed())
		wrong := f.NewDevice(bob, func(c *device.Config) { c.ID, c.Password = phone.ID(), "not-"+bob+"-password" })
		var se *device.StatusError
		Expect(errors.As(wrong.Connect(f.Ctx()), &se)).To(BeTrue(), "bob's account added with a wrong password")
		Expect(se.HTTPStatus).To(Equal(http.StatusUnauthorized))
		Expect(f.ReachedExchange(wrong)).To(BeFalse(), "a refused account never reaches Exchange")

		bobOnPhone := f.NewDevice(bob, func(c *device.Config) { c.ID = phone.ID() })
		Expect(bobOnPhone.Connect(f.Ctx())).To(Succeed(), "bob's account with bob's password, through the gateway's address")
		Expect(f.ReachedExchange(bobOnPhone)).To(BeTrue())
		a, err := f.Association(bobOnPhone)
		Expect(err).NotTo(HaveOccurred())
		Expect(a.User).To(Equal(bob), "the added account is its own record")
		Expect(a.Registered).To(BeTrue(), "linked to alice's registered phone by its EAS id")
	})
})

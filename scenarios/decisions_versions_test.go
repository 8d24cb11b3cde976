package scenarios_test

import (
	"context"
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

// The decision tables: what a device of each protocol version is told
// when it is blocked (DEF-08), must provision again (DEF-09) or is to be
// wiped. The answers differ by version, so each version is its own spec.
// The changes after first access reach the gateway with its own calls to
// the UEM cut (fw.CutGatewayCalls): they can only come by notification.

// syncUntil syncs the device until it reports err (or no error for nil),
// and returns the index of the first record made while waiting.
func syncUntil(f *fw.Framework, d *device.Device, want error) int {
	GinkgoHelper()
	mark := len(d.Records())
	Eventually(func() error { _, err := d.Sync(f.Ctx()); return err }).Should(matchErr(want))
	return mark
}

func matchErr(want error) OmegaMatcher {
	if want == nil {
		return Succeed()
	}
	return MatchError(want)
}

// awaitDelivery waits until the UEM delivered a notification of typ that
// is not in seen: the change was pushed, whatever the gateway makes of it.
func awaitDelivery(f *fw.Framework, typ uemapi.NotificationType, seen []string) {
	GinkgoHelper()
	Eventually(func() []string {
		var ok []string
		for _, d := range f.DeliveredSince(string(typ), seen) {
			if d.Status == uem.DeliveryDelivered {
				ok = append(ok, d.ID)
			}
		}
		return ok
	}).ShouldNot(BeEmpty(), "the UEM delivered the %s notification", typ)
}

var _ = Describe("Decisions per protocol version", func() {
	f := fw.New()

	for _, v := range eas.Versions() {
		fw.It(fmt.Sprintf("a %s device the UEM blocks at first access gets %s on every command and never reaches Exchange", v, fw.BlockedAnswer(v)),
			fw.IDs("FLOW-01", "FLOW-03", "DEF-08"), fw.Conformance(fw.FeatureFirstAccess, fw.FeatureBlock), func(ctx context.Context) {
				d := f.NewDevice(f.NewUser(), fw.Versioned(v))
				md := f.Register(d)
				_, err := f.UEM.SetSecurityViolation(ctx, md.UUID, true)
				Expect(err).NotTo(HaveOccurred())

				Expect(d.Provision(ctx)).To(MatchError(device.ErrBlocked))
				Expect(fw.Answer(d.Last())).To(Equal(fw.BlockedAnswer(v)), "Provision")
				Expect(d.FolderSync(ctx)).To(MatchError(device.ErrBlocked))
				Expect(fw.Answer(d.Last())).To(Equal(fw.BlockedAnswer(v)), "FolderSync")
				Expect(d.Policy()).To(BeNil(), "a blocked device gets no policy")

				a, err := f.Association(d)
				Expect(err).NotTo(HaveOccurred(), "the gateway reported the device")
				Expect(a.SyncStatus).To(Equal("Blocked"))
				Expect(a.Reason).To(Equal(uemapi.ReasonSecurityViolation))
				Expect(f.ReachedExchange(d)).To(BeFalse(), "Exchange never saw the blocked device")
			})

		fw.It(fmt.Sprintf("a Block reaches a connected %s device by notification alone and it gets %s", v, fw.BlockedAnswer(v)),
			fw.IDs("ACT-03", "FLOW-04", "DEF-08"), fw.Conformance(fw.FeatureBlock, fw.FeatureManual), func(ctx context.Context) {
				d := f.NewDevice(f.NewUser(), fw.Versioned(v))
				Expect(d.Connect(ctx)).To(Succeed())

				f.CutGatewayCalls(true)
				seen := f.DeliveryIDs()
				f.Act(d, uem.ActBlock, "lost")
				awaitDelivery(f, uemapi.NotifyDeviceState, seen)
				syncUntil(f, d, device.ErrBlocked)
				Expect(fw.Answer(d.Last())).To(Equal(fw.BlockedAnswer(v)))

				// The blocked requests stop at the gateway.
				after, ok := f.Partnership(d)
				Expect(ok).To(BeTrue())
				last := after.LastSync
				_, err := d.Sync(ctx)
				Expect(err).To(MatchError(device.ErrBlocked))
				again, _ := f.Partnership(d)
				Expect(again.LastSync).To(Equal(last), "a blocked request reached Exchange")
			})

		fw.It(fmt.Sprintf("an assigned policy reaches a %s device by notification alone: it is sent to Provision and gets the policy", v),
			fw.IDs("ACT-13", "FLOW-09", "DEF-09"), fw.Conformance(fw.FeaturePolicy), func(ctx context.Context) {
				d := f.NewDevice(f.NewUser(), fw.Versioned(v))
				Expect(d.Connect(ctx)).To(Succeed())
				p := uemapi.NewPolicy("Per version " + d.ID())
				p.PasswordRequired, p.MinPasswordLength = true, 13
				p = f.CreatePolicy(p)
				provs := d.Provisionings()

				f.CutGatewayCalls(true)
				seen := f.DeliveryIDs()
				a, err := f.Association(d)
				Expect(err).NotTo(HaveOccurred())
				_, err = f.UEM.Act(ctx, a.ID, uem.Action{Action: uem.ActAssignPolicy, PolicyID: p.ID, Note: "per version"})
				Expect(err).NotTo(HaveOccurred())
				awaitDelivery(f, uemapi.NotifyDeviceState, seen)
				mark := len(d.Records())
				Eventually(func() int { _, _ = d.Sync(ctx); return d.Provisionings() }).Should(BeNumerically(">", provs), "told to provision again")
				answers := fw.Answers(d, mark, eas.CmdSync)
				Expect(fw.AnyOf(answers, fw.ProvisionAnswers(v, false))).To(BeTrue(),
					"a %s device is sent to Provision with one of %v; it got %v", v, fw.ProvisionAnswers(v, false), answers)
				Expect(d.Policy().MinDevicePasswordLength).To(HaveValue(Equal("13")))
				_, err = d.Sync(ctx)
				Expect(err).NotTo(HaveOccurred(), "the provisioned device syncs")
			})

		fw.It(fmt.Sprintf("a Wipe reaches a %s device by notification alone as RemoteWipe, exactly once, and the acknowledgement reaches the UEM", v),
			fw.IDs("ACT-05", "ACT-07", "ASA-04", "DEF-09"), fw.Conformance(fw.FeatureWipe), func(ctx context.Context) {
				d := f.NewDevice(f.NewUser(), fw.Versioned(v))
				f.Register(d)
				Expect(d.Connect(ctx)).To(Succeed())

				f.CutGatewayCalls(true)
				seen := f.DeliveryIDs()
				f.Act(d, uem.ActWipe, "stolen")
				awaitDelivery(f, uemapi.NotifyDeviceState, seen)
				mark := len(d.Records())
				Eventually(func() device.State { _, _ = d.Sync(ctx); return d.State() }).Should(Equal(device.Wiped))
				answers := fw.Answers(d, mark, eas.CmdSync)
				Expect(fw.AnyOf(answers, fw.ProvisionAnswers(v, true))).To(BeTrue(),
					"a %s device is sent to Provision with one of %v; it got %v", v, fw.ProvisionAnswers(v, true), answers)
				Expect(d.Wipes()).To(Equal([]device.WipeKind{device.FullWipe}), "a full wipe, not an account-only one")
				Expect(d.Messages()).To(BeEmpty())

				// The acknowledgement could not reach the UEM yet; it does once the gateway can call it.
				f.CutGatewayCalls(false)
				Eventually(func() bool { a, _ := f.Association(d); return !a.WipeAcked.IsZero() }).Should(BeTrue(), "the UEM got the acknowledgement")
				Expect(f.SyncStatus(d)()).To(Equal("Wiped"))

				// Delivered once: the device, set up again with the same id, is kept out, not wiped again.
				d.Reset()
				Expect(d.Provision(ctx)).To(MatchError(device.ErrBlocked))
				Expect(fw.Answer(d.Last())).To(Equal(fw.BlockedAnswer(v)))
				Expect(d.Wipes()).To(HaveLen(1), "the wipe was delivered once")
			})
	}
})

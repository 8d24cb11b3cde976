package scenarios_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

var _ = Describe("UEM unreachable", func() {
	f := fw.New()

	fw.It("lets new devices in with the server's policy; their real state arrives when the UEM is back", fw.IDs("FLOW-05", "FO-02", "DC-06"), fw.Conformance(fw.FeatureFailOpen, fw.FeatureResync), func() {
		user := f.NewUser()
		clean, violating := f.NewDevice(user), f.NewDevice(user)
		f.Register(clean)
		md := f.Register(violating)
		_, err := f.UEM.SetSecurityViolation(f.Ctx(), md.UUID, true)
		Expect(err).NotTo(HaveOccurred())

		f.UEMDown(true)
		for _, d := range []*device.Device{clean, violating} {
			Expect(d.Connect(f.Ctx())).To(Succeed(), "fail-open: allowed while the UEM is down")
			Expect(d.Policy().MinDevicePasswordLength).To(HaveValue(Equal("4")), "FO-02: the ActiveSync server's own policy")
			Expect(f.ReachedExchange(d)).To(BeTrue())
			Expect(f.Association(d)).Error().To(HaveOccurred(), "the UEM has not heard of it yet")
		}

		f.UEMDown(false)
		Eventually(f.SyncStatus(clean)).Should(Equal("Allowed"), "reported once the UEM is back")
		Eventually(f.SyncStatus(violating)).Should(Equal("Blocked"))
		Eventually(func() error { _, err := violating.Sync(f.Ctx()); return err }).Should(MatchError(device.ErrBlocked))
		_, err = clean.Sync(f.Ctx())
		Expect(err).NotTo(HaveOccurred())
	})

	fw.It("fail-closed blocks new devices while the UEM is down and caches nothing", fw.IDs("FO-04"), fw.Introspection(fw.FeatureFailOpen), func() {
		_, err := f.Gateway().SetFailOpen(f.Ctx(), false)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { // the switch survives restarts: put it back
			_, err := f.Gateway().SetFailOpen(ctx, true)
			Expect(err).NotTo(HaveOccurred())
		})
		known := f.NewDevice(f.NewUser())
		Expect(known.Connect(f.Ctx())).To(Succeed())

		f.UEMDown(true)
		d := f.NewDevice(f.NewUser())
		Expect(d.Connect(f.Ctx())).To(MatchError(device.ErrBlocked))
		Expect(f.ReachedExchange(d)).To(BeFalse())
		Expect(f.Gateway().ByDevice(f.Ctx(), d.ID())).To(BeEmpty())
		_, err = known.Sync(f.Ctx())
		Expect(err).NotTo(HaveOccurred(), "a known allowed device keeps working")

		f.UEMDown(false)
		Eventually(func() error { return d.Connect(f.Ctx()) }).Should(Succeed(), "decided by the UEM once it is back")
		Expect(f.SyncStatus(d)()).To(Equal("Allowed"))
	})

	fw.It("a dropped block notification is repaired by the periodic resync", fw.IDs("FLOW-13"), fw.Conformance(fw.FeatureResync, fw.FeatureBlock), func() {
		d := f.NewDevice(f.NewUser())
		Expect(d.Connect(f.Ctx())).To(Succeed())
		f.DropNotifications(true)
		f.Act(d, uem.ActBlock, "notification lost")
		Eventually(func() string {
			ds, err := f.UEM.Deliveries(f.Ctx())
			if err != nil || len(ds) == 0 {
				return ""
			}
			return ds[len(ds)-1].Status
		}).Should(Equal(uem.DeliveryDropped), "the UEM lost the block notification")

		Eventually(func() error { _, err := d.Sync(f.Ctx()); return err }).Should(MatchError(device.ErrBlocked))
		Expect(d.Last().Status).To(Equal(int(eas.StatusDeviceIsBlockedForThisUser)))
	})
})

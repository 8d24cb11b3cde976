package scenarios_test

import (
	"context"
	"net/http"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

// The gateway's entry in the UEM (ENT-01, ENT-03, ENT-04) and its
// records (SCOPE-10): what the gateway fetches and applies when
// the UEM saves its entry, enables or disables it. The change each spec
// makes is one a device sees at once (the HSTS header of its answers),
// so that only the delivered configuration can explain it.
var _ = Describe("The gateway's entry in the UEM", func() {
	f := fw.New()

	hstsOf := func(ctx context.Context, d *device.Device) string {
		r, err := f.DeviceRequest(ctx, d, http.MethodOptions, "", "", nil)
		Expect(err).NotTo(HaveOccurred())
		return r.Header.Get("Strict-Transport-Security")
	}
	entry := func() uem.GatewayEntry {
		e, err := f.UEM.Gateway(f.Ctx(), f.GatewayID())
		Expect(err).NotTo(HaveOccurred())
		return e
	}
	// save stores the configuration at the UEM as an administrator's Save
	// does, without waiting for anything.
	save := func(edit func(*uemapi.GatewayConfig)) {
		c := entry().Config
		edit(&c)
		_, err := f.UEM.SetGatewayConfig(f.Ctx(), f.GatewayID(), c)
		Expect(err).NotTo(HaveOccurred())
	}
	hstsOn := func(c *uemapi.GatewayConfig) { c.TLS.HSTS = true }
	hstsOff := func(c *uemapi.GatewayConfig) { c.TLS.HSTS, c.TLS.HSTSPreload = false, false }
	// restoreHSTS turns HSTS off again after the spec and waits until d
	// sees it off, so that the next spec starts from the default.
	restoreHSTS := func(d *device.Device) {
		DeferCleanup(func(ctx context.Context) {
			Expect(f.UEM.SetFaults(ctx, uem.Faults{})).To(Succeed())
			save(hstsOff)
			Eventually(func() string { return hstsOf(ctx, d) }).Should(BeEmpty())
		})
	}
	// setEnabled enables or disables the entry, enabling it again after
	// the spec.
	setEnabled := func(on bool) {
		_, err := f.UEM.SetGatewayEnabled(f.Ctx(), f.GatewayID(), on)
		Expect(err).NotTo(HaveOccurred())
		if !on {
			DeferCleanup(func(ctx context.Context) {
				if e, err := f.UEM.Gateway(ctx, f.GatewayID()); err == nil && !e.Enabled {
					_, _ = f.UEM.SetGatewayEnabled(ctx, f.GatewayID(), true)
				}
			})
		}
	}

	fw.It("applies the configuration the UEM pushes on Save, and the entry shows Success", fw.IDs("ENT-01"), fw.Conformance(fw.FeatureEntry), func(ctx context.Context) {
		d := f.NewDevice(f.NewUser())
		Expect(hstsOf(ctx, d)).To(BeEmpty())
		restoreHSTS(d)
		save(hstsOn)
		Eventually(func() string { return hstsOf(ctx, d) }).ShouldNot(BeEmpty(), "the saved configuration is in force")
		Eventually(func() string { return entry().Status }).Should(Equal("Success"))
	})

	fw.It("gets a configuration saved while it was unreachable once it is saved again, the entry showing the errors meanwhile", fw.IDs("ENT-01"), fw.Conformance(fw.FeatureEntry, fw.LabelSlow), func(ctx context.Context) {
		d := f.NewDevice(f.NewUser())
		Expect(f.UEM.SetFaults(ctx, uem.Faults{PartitionUEMToGateway: true})).To(Succeed())
		restoreHSTS(d)
		save(hstsOn)
		Eventually(func() string { return entry().Status }).Should(Equal("Error"), "the push failed")
		Expect(entry().Errors).NotTo(BeEmpty(), "View Errors lists why")

		Expect(f.UEM.SetFaults(ctx, uem.Faults{})).To(Succeed())
		save(hstsOn) // the administrator saves again
		Eventually(func() string { return hstsOf(ctx, d) }).ShouldNot(BeEmpty(), "the re-sent configuration is in force")
		Eventually(func() string { return entry().Status }).Should(Equal("Success"))
	})

	fw.It("keeps serving and talking to the UEM while its entry is disabled: new devices are reported and blocks arrive by resync", fw.IDs("ENT-03"), fw.Conformance(fw.FeatureEntry, fw.FeatureResync), func(ctx context.Context) {
		known := f.NewDevice(f.NewUser())
		Expect(known.Connect(ctx)).To(Succeed())
		setEnabled(false)

		fresh := f.NewDevice(f.NewUser())
		Expect(fresh.Connect(ctx)).To(Succeed(), "a new device is let in")
		Eventually(func() error { _, err := f.Association(fresh); return err }).Should(Succeed(), "and reported to the UEM")
		_, err := known.Sync(ctx)
		Expect(err).NotTo(HaveOccurred(), "known devices keep syncing")

		f.Act(known, uem.ActBlock, "blocked while the entry is disabled")
		Eventually(func() error { _, err := known.Sync(ctx); return err }).Should(MatchError(device.ErrBlocked), "the resync brings the block")
		ds, err := f.UEM.Deliveries(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(slices.ContainsFunc(ds, func(d uem.Delivery) bool {
			return d.GatewayID == f.GatewayID() && d.Status == uem.DeliveryDisabled
		})).To(BeTrue(), "the UEM sent no notification to a disabled entry")
	})

	fw.It("gets the changes saved while its entry was disabled when the entry is enabled again", fw.IDs("ENT-04"), fw.Conformance(fw.FeatureEntry), func(ctx context.Context) {
		d := f.NewDevice(f.NewUser())
		restoreHSTS(d) // after the entry is enabled again (cleanups run last first)
		setEnabled(false)
		save(hstsOn)
		Expect(entry().Status).To(Equal("Pending"))
		Expect(entry().PendingChanges).To(BeTrue())

		setEnabled(true)
		Eventually(func() string { return hstsOf(ctx, d) }).ShouldNot(BeEmpty(), "Enable pushed the pending change")
		Eventually(func() string { return entry().Status }).Should(Equal("Success"))
	})

	fw.It("keeps letting known devices in, violating ones too, once its entry is deleted from the UEM", fw.IDs("ENT-06"), fw.Conformance(fw.FeatureEntry, fw.FeatureBlock, fw.LabelSlow), func(ctx context.Context) {
		if fw.ConformanceMode() {
			// The shared gateway's entry cannot be deleted without breaking
			// every spec after this one.
			Skip("deletes the gateway's entry in the UEM: runs only in a world of its own")
		}
		d := f.NewDevice(f.NewUser())
		md := f.Register(d)
		Expect(d.Connect(ctx)).To(Succeed())
		_, err := f.UEM.SetSecurityViolation(ctx, md.UUID, true)
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() error { _, err := d.Sync(ctx); return err }).Should(MatchError(device.ErrBlocked), "the UEM controls the gateway")
		_, err = f.UEM.SetSecurityViolation(ctx, md.UUID, false)
		Expect(err).NotTo(HaveOccurred())
		d.Reset()
		Eventually(func() error { return d.Connect(ctx) }).Should(Succeed())

		Expect(f.Lab.UEM.DeleteGateway(f.GatewayID())).To(Succeed())
		_, err = f.UEM.SetSecurityViolation(ctx, md.UUID, true)
		Expect(err).NotTo(HaveOccurred())
		Consistently(func() error { _, err := d.Sync(ctx); return err }, 3*fw.ResyncInterval, 200*time.Millisecond).Should(Succeed(),
			"the UEM no longer controls the gateway: the violation never reaches it")
	})

	fw.It("keeps one record per user and device: two users on one device are two associations", fw.IDs("SCOPE-10"), fw.Conformance(fw.FeatureEntry, fw.FeatureFirstAccess), func(ctx context.Context) {
		first := f.NewDevice(f.NewUser())
		Expect(first.Connect(ctx)).To(Succeed())
		second := f.NewDevice(f.NewUser(), func(c *device.Config) { c.ID = first.ID() })
		Expect(second.Connect(ctx)).To(Succeed())
		a1, err := f.Association(first)
		Expect(err).NotTo(HaveOccurred())
		a2, err := f.Association(second)
		Expect(err).NotTo(HaveOccurred())
		Expect(a1.ID).NotTo(Equal(a2.ID))
		Expect(a1.User).NotTo(Equal(a2.User))
	})
})

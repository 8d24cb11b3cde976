package scenarios_test

import (
	"context"
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/gateway/admin"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

// UEM outages without a restart: what the gateway knows keeps deciding,
// what it cannot know gets the default, and the UEM's state is merged
// back when it returns. "Down" here is a real outage in both directions:
// the gateway's calls are refused and the UEM's notifications are lost.

// uemOutage takes the UEM away in both directions (true) or brings it back.
func uemOutage(f *fw.Framework, down bool) {
	f.SetUEMFaults(uem.Faults{Down: down, DropNotifications: down})
}

var _ = Describe("UEM outage", func() {
	f := fw.New()

	fw.It("known devices keep their decisions while the UEM is down: blocked stays blocked, allowed keeps syncing, a pending wipe is delivered", fw.IDs("DC-01", "DC-04", "FLOW-04"),
		fw.Conformance(fw.FeatureFailOpen, fw.FeatureBlock, fw.FeatureWipe), func(ctx context.Context) {
			allowed, blocked, wiped := f.NewDevice(f.NewUser()), f.NewDevice(f.NewUser()), f.NewDevice(f.NewUser())
			for _, d := range []*device.Device{allowed, blocked, wiped} {
				f.Register(d)
				Expect(d.Connect(ctx)).To(Succeed())
			}
			f.Act(blocked, uem.ActBlock, "keep out")
			syncUntil(f, blocked, device.ErrBlocked)
			seen := f.DeliveryIDs()
			f.Act(wiped, uem.ActWipe, "stolen")
			// The wipe is pending in the gateway (its notification was delivered) before the outage.
			awaitDelivery(f, uemapi.NotifyDeviceState, seen)

			uemOutage(f, true)
			for range 3 {
				_, err := blocked.Sync(ctx)
				Expect(err).To(MatchError(device.ErrBlocked), "a known-blocked device is not let in while the UEM is down")
				_, err = allowed.Sync(ctx)
				Expect(err).NotTo(HaveOccurred(), "a known-allowed device keeps working")
			}
			Eventually(func() device.State { _, _ = wiped.Sync(ctx); return wiped.State() }).Should(Equal(device.Wiped), "the pending wipe is delivered from the cache")
			Expect(wiped.Wipes()).To(Equal([]device.WipeKind{device.FullWipe}))

			uemOutage(f, false)
			Eventually(func() bool { a, _ := f.Association(wiped); return !a.WipeAcked.IsZero() }).Should(BeTrue(), "the acknowledgement reaches the UEM once it is back")
		})

	fw.It("changes made at the UEM while it is unreachable are not learned, and are merged in when it is back", fw.IDs("DC-05", "DC-06"),
		fw.Conformance(fw.FeatureFailOpen, fw.FeatureResync), func(ctx context.Context) {
			toBlock, toAllow := f.NewDevice(f.NewUser()), f.NewDevice(f.NewUser())
			f.Register(toBlock)
			f.Register(toAllow)
			Expect(toBlock.Connect(ctx)).To(Succeed())
			Expect(toAllow.Connect(ctx)).To(Succeed())
			f.Act(toAllow, uem.ActBlock, "for now")
			syncUntil(f, toAllow, device.ErrBlocked)

			uemOutage(f, true)
			f.Act(toBlock, uem.ActBlock, "while down")
			f.Act(toAllow, uem.ActAllow, "while down")
			for range 3 {
				_, err := toBlock.Sync(ctx)
				Expect(err).NotTo(HaveOccurred(), "the gateway cannot know of the block")
				_, err = toAllow.Sync(ctx)
				Expect(err).To(MatchError(device.ErrBlocked), "nor of the allow")
			}

			uemOutage(f, false)
			syncUntil(f, toBlock, device.ErrBlocked)
			Eventually(func() error { toAllow.Reset(); return toAllow.Connect(ctx) }).Should(Succeed(), "the allowed device is merged back in")
		})

	for _, v := range eas.Versions() {
		fw.It(fmt.Sprintf("a new %s device is let in with the server's policy while the UEM is down, and gets its real decision when the UEM is back", v),
			fw.IDs("FO-01", "FO-02", "FLOW-05", "DC-06", "INC-01"), fw.Conformance(fw.FeatureFailOpen, fw.FeatureResync), func(ctx context.Context) {
				d := f.NewDevice(f.NewUser(), fw.Versioned(v))
				md := f.Register(d)
				_, err := f.UEM.SetSecurityViolation(ctx, md.UUID, true)
				Expect(err).NotTo(HaveOccurred())

				uemOutage(f, true)
				Expect(d.Connect(ctx)).To(Succeed(), "fail-open (Allow, the default) lets the new device in")
				Expect(d.Policy().MinDevicePasswordLength).To(HaveValue(Equal("4")), "the ActiveSync server's own policy (INC-01)")
				Expect(f.Association(d)).Error().To(HaveOccurred(), "the UEM has not heard of it")

				uemOutage(f, false)
				Eventually(f.SyncStatus(d)).Should(Equal("Blocked"), "reported once the UEM is back")
				syncUntil(f, d, device.ErrBlocked)
				Expect(fw.Answer(d.Last())).To(Equal(fw.BlockedAnswer(v)))
			})
	}
})

var _ = Describe("Device cache and fail-open switch", func() {
	f := fw.New()

	row := func(d *device.Device) admin.Entry {
		GinkgoHelper()
		rows, err := f.Gateway().ByDevice(f.Ctx(), d.ID())
		Expect(err).NotTo(HaveOccurred())
		Expect(rows).To(HaveLen(1), "one cache row for %s", d.ID())
		return rows[0]
	}

	fw.It("the cache holds each device's state as decided: A allowed, B blocked, P policy pending, W wipe pending, and N for a device let in by fail-open", fw.IDs("DC-01", "DC-07", "DC-08", "DC-15"),
		fw.Introspection(fw.FeatureBlock, fw.FeatureWipe, fw.FeaturePolicy), func(ctx context.Context) {
			a, b, p, w := f.NewDevice(f.NewUser()), f.NewDevice(f.NewUser()), f.NewDevice(f.NewUser()), f.NewDevice(f.NewUser())
			for _, d := range []*device.Device{a, b, p, w} {
				Expect(d.Connect(ctx)).To(Succeed())
			}
			pol := uemapi.NewPolicy("Pending " + p.ID())
			pol = f.CreatePolicy(pol)
			assoc, err := f.Association(p)
			Expect(err).NotTo(HaveOccurred())
			_, err = f.UEM.Act(ctx, assoc.ID, uem.Action{Action: uem.ActAssignPolicy, PolicyID: pol.ID})
			Expect(err).NotTo(HaveOccurred())
			f.Act(b, uem.ActBlock, "")
			f.Act(w, uem.ActWipe, "")
			Eventually(func() string { return row(b).State + row(p).State + row(w).State }).Should(Equal("BPW"))
			r := row(a)
			Expect(r.State + r.Validated).To(Equal("AY"))
			Expect(r.User).To(Equal(a.User()))
			Expect(r.Version).To(Equal("14.1"))
			Expect(r.Application).To(Equal("ActiveSync/" + a.ID()))
			Expect(r.TunnelID).To(Equal(strings.ToLower(a.ID())))
			Expect(r.Connections).To(BeNumerically(">=", 1))
			Expect(r.Time.IsZero()).To(BeFalse())

			f.UEMDown(true)
			n := f.NewDevice(f.NewUser())
			Expect(n.Connect(ctx)).To(Succeed())
			Expect(row(n).State + row(n).Validated).To(Equal("AN"))
			pending, err := f.Gateway().ValidationPending(ctx, true)
			Expect(err).NotTo(HaveOccurred())
			Expect(pending).To(ContainElement(HaveField("DeviceID", n.ID())))
			f.UEMDown(false)
			Eventually(func() string { return row(n).Validated }).Should(Equal("Y"), "validated once the UEM is back")
		})

	fw.It("to-disk writes only devices of known state, from-disk counts none already in memory, from-uem loads the registered allowed devices", fw.IDs("DC-02", "DC-17", "DC-18", "DC-19"),
		fw.Introspection(fw.FeaturePersistence), func(ctx context.Context) {
			known, registered := f.NewDevice(f.NewUser()), f.NewDevice(f.NewUser())
			f.Register(registered)
			Expect(known.Connect(ctx)).To(Succeed())
			Expect(registered.Connect(ctx)).To(Succeed())
			f.UEMDown(true)
			unknown := f.NewDevice(f.NewUser())
			Expect(unknown.Connect(ctx)).To(Succeed(), "let in by fail-open: state unknown")
			f.UEMDown(false)
			st, err := f.Gateway().CacheStatus(ctx)
			Expect(err).NotTo(HaveOccurred())

			wrote, err := f.Gateway().ToDisk(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(wrote.Message).To(HavePrefix("Wrote device-cache to disk. Number of devices written: "))
			Expect(wrote.Count).To(BeNumerically("<=", st.InMemory))
			restored, err := f.Gateway().FromDisk(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(restored.Message).To(HavePrefix("Restored device-cache from disk. Number of devices restored: "))
			Expect(restored.Count).To(Equal(0), "every written device is already in memory")
			loaded, err := f.Gateway().FromUEM(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(loaded.Message).To(HavePrefix("Loaded and updated device-cache from Ivanti EPMM. Number of devices loaded: "))
			Expect(loaded.Count).To(BeNumerically(">=", 1))
			Expect(loaded.Count).To(BeNumerically("<=", st.InMemory))
		})

	fw.It("switching fail-open to Block and back applies at once, to new devices only, without a restart", fw.IDs("FO-01", "FO-03", "FO-04", "FO-05"),
		fw.Introspection(fw.FeatureFailOpen), func(ctx context.Context) {
			known := f.NewDevice(f.NewUser())
			Expect(known.Connect(ctx)).To(Succeed())
			before := row(known).Connections
			f.UEMDown(true)

			st, err := f.Gateway().SetFailOpen(ctx, false)
			Expect(err).NotTo(HaveOccurred())
			Expect(st.FailOpen).To(BeFalse())
			Expect(st.FailOpenChangedBy).To(Equal("CLI"))
			blocked := f.NewDevice(f.NewUser())
			Expect(blocked.Connect(ctx)).To(MatchError(device.ErrBlocked), "Block: a new device is kept out while the UEM is down")
			Expect(f.ReachedExchange(blocked)).To(BeFalse())
			f.HTTPClient().CloseIdleConnections() // Cn counts connections (issue 22): the Sync opens one
			_, err = known.Sync(ctx)
			Expect(err).NotTo(HaveOccurred(), "a known device is not affected")

			_, err = f.Gateway().SetFailOpen(ctx, true)
			Expect(err).NotTo(HaveOccurred())
			Expect(blocked.Connect(ctx)).To(Succeed(), "Allow again: let in")
			Expect(row(known).Connections).To(BeNumerically(">", before), "the cache survived the switch: no restart")
			f.UEMDown(false)
		})

	fw.It("status tells how connectivity changes were detected: initialisation, the periodic check and Verify", fw.IDs("FO-05", "FO-06"), fw.Introspection(fw.FeatureFailOpen), func(ctx context.Context) {
		st, err := f.Gateway().Status(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(st.EMMServerType).To(Equal("Ivanti EPMM"))
		Expect(st.Connected).To(BeTrue())
		Expect(st.FailOpen).To(BeTrue(), "Allow by default")
		f.UEMDown(true)
		Eventually(func() string { s, _ := f.Gateway().Status(ctx); return fmt.Sprint(s.Connected, " ", s.LastChangeBy) }).
			Should(Equal("false Periodic connectivity check"))
		f.UEMDown(false)
		st, err = f.Gateway().Verify(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(st.Connected).To(BeTrue())
		Expect(st.LastChangeBy).To(Equal("Service diagnosis verify"))
		Expect(st.LastFailed.IsZero()).To(BeFalse())
	})

	fw.It("the cache status counts the in-memory and ActiveSync entries and keeps the peak with its date", fw.IDs("DC-16"), fw.Introspection(fw.FeatureFirstAccess), func(ctx context.Context) {
		for range 3 {
			Expect(f.NewDevice(f.NewUser()).Connect(ctx)).To(Succeed())
		}
		st, err := f.Gateway().CacheStatus(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(st.ActiveSync).To(BeNumerically(">=", 3))
		Expect(st.InMemory).To(BeNumerically(">=", st.ActiveSync))
		Expect(st.Peak).To(BeNumerically(">=", st.InMemory))
		Expect(st.PeakTime.IsZero()).To(BeFalse())
	})
})

var _ = Describe("Device cache and status as the CLI prints them", func() {
	f := fw.New()

	fw.It("the cache table starts with the seeds' legend and the status prints its times in the Java date format", fw.IDs("DC-09", "FO-05", "FO-08"), fw.Introspection(fw.FeatureFirstAccess), func(ctx context.Context) {
		d := f.NewDevice(f.NewUser())
		Expect(d.Connect(ctx)).To(Succeed())
		rows, err := f.Gateway().ByDevice(ctx, d.ID())
		Expect(err).NotTo(HaveOccurred())
		var table strings.Builder
		Expect(admin.RenderEntries(&table, rows)).To(Succeed())
		Expect(table.String()).To(HavePrefix("S: Tunnel State {A:Allowed, B:Blocked, P:Policy Pending, W:Wipe Pending}\n"))
		Expect(table.String()).To(ContainSubstring("ActiveSync/" + d.ID()))
		Expect(table.String()).To(MatchRegexp(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d GMT`), "DC-08's time column")

		st, err := f.Gateway().Status(ctx)
		Expect(err).NotTo(HaveOccurred())
		var out strings.Builder
		Expect(admin.RenderStatus(&out, st)).To(Succeed())
		Expect(out.String()).To(ContainSubstring("EMM server type : Ivanti EPMM"))
		Expect(out.String()).To(ContainSubstring("EMM server fail-open status : Allow"))
		Expect(out.String()).To(MatchRegexp(`(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d\d \d\d:\d\d:\d\d UTC \d{4}`),
			"FO-08: Fri Aug 03 18:55:16 UTC 2012")
	})
})

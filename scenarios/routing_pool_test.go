package scenarios_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/faults"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

// Server pools (ASC-04, ASC-14 to ASC-18, DEF-01): each spec points a
// service of its own, through the UEM, at taps (fw.Tap) in front of one
// extra Exchange, and breaks them with the fakes' fault layer. The device
// uses the service's name as its Host, so the gateway's default service,
// which other specs share in conformance mode, is left alone. They run
// wherever the suite runs the fakes (locally and in conformance mode);
// with remote fakes the gateway cannot reach the taps and they are
// skipped.
var _ = Describe("ActiveSync server pools", func() {
	f := fw.New(fw.WithExtraExchanges(1))

	// poolDevice is a device of a fresh user on the service name.
	poolDevice := func(service string) *device.Device {
		return f.NewDevice(f.NewUser(), func(c *device.Config) { c.Host = service })
	}
	// work runs n Syncs after Connect, all of which must succeed.
	work := func(ctx context.Context, d *device.Device, n int) {
		Expect(d.Connect(ctx)).To(Succeed())
		for range n {
			_, err := d.Sync(ctx)
			Expect(err).NotTo(HaveOccurred())
		}
	}
	// management edits the global server configuration.
	management := func(m uemapi.ServerManagement) func(*uemapi.GatewayConfig, *uemapi.ActiveSyncService) {
		return func(c *uemapi.GatewayConfig, _ *uemapi.ActiveSyncService) { c.Servers = m }
	}
	reset := faults.Spec{Name: "reset", Direction: faults.Upstream, Toxic: faults.Reset{}}

	fw.It("sends every request to the first server of a Priority list while it never fails", fw.IDs("ASC-04", "ASC-15"), fw.Conformance(fw.FeatureRouting), func(ctx context.Context) {
		a, b := f.NewTap("a"), f.NewTap("b")
		name := f.ServiceName("prio")
		f.AddService(name, fw.ServersList(a, b), nil) // Priority is the default
		d := poolDevice(name)
		work(ctx, d, 3)
		Expect(a.DeviceRequests(d.ID())).To(Equal(len(d.Records())), "the first server got every command")
		Expect(b.DeviceRequests(d.ID())).To(BeZero(), "the second server is never used while the first is live")
	})

	fw.It("spreads the requests of a Round Robin list over every server in turn", fw.IDs("ASC-15"), fw.Conformance(fw.FeatureRouting), func(ctx context.Context) {
		a, b, c := f.NewTap("a"), f.NewTap("b"), f.NewTap("c")
		name := f.ServiceName("rr")
		m := uemapi.DefaultGatewayConfig().Servers
		m.Scheduling = uemapi.ScheduleRoundRobin
		f.AddService(name, fw.ServersList(a, b, c), management(m))
		d := poolDevice(name)
		work(ctx, d, 6) // 9 commands and more over three servers
		for _, t := range []*fw.Tap{a, b, c} {
			Expect(t.DeviceRequests(d.ID())).To(BeNumerically(">=", 2), "each server takes its turn")
		}
		Expect(a.DeviceRequests(d.ID()) + b.DeviceRequests(d.ID()) + c.DeviceRequests(d.ID())).To(Equal(len(d.Records())))
	})

	fw.It("fails a request over to the next server when the first resets it, without the device noticing", fw.IDs("ASC-04", "ASC-14"), fw.Conformance(fw.FeatureRouting), func(ctx context.Context) {
		a, b := f.NewTap("a"), f.NewTap("b")
		a.SetFaults(reset)
		name := f.ServiceName("failover")
		m := uemapi.DefaultGatewayConfig().Servers
		m.DeadThreshold = uemapi.DeadThresholdMax // never dead: every request tries the first server
		f.AddService(name, fw.ServersList(a, b), management(m))
		d := poolDevice(name)
		work(ctx, d, 3)
		n := len(d.Records())
		for _, r := range d.Records() {
			Expect(r.HTTPStatus).To(Equal(200), "%s answered", r.Cmd)
		}
		Expect(a.DeviceRequests(d.ID())).To(Equal(n), "each command was tried on the first server")
		Expect(b.DeviceRequests(d.ID())).To(Equal(n), "and sent again, once, to the second")
		Expect(a.Faults().Counters()["reset"]).To(BeNumerically(">=", n))
	})

	fw.It("holds a Ping on the next server when the first drops it, the device getting the heartbeat's answer", fw.IDs("ASC-04", "ASC-14"), fw.Conformance(fw.FeatureRouting), func(ctx context.Context) {
		a, b := f.NewTap("a"), f.NewTap("b")
		name := f.ServiceName("pingover")
		m := uemapi.DefaultGatewayConfig().Servers
		m.DeadThreshold = uemapi.DeadThresholdMax
		f.AddService(name, fw.ServersList(a, b), management(m))
		d := poolDevice(name)
		Expect(d.Connect(ctx)).To(Succeed())

		a.SetFaults(reset)
		st, _, err := d.Ping(ctx, 1)
		Expect(err).NotTo(HaveOccurred())
		Expect(st).To(Equal(1), "the heartbeat expired on the second server: the Ping was not lost")
		Expect(a.Requests()).To(ContainElement(HaveField("Cmd", "Ping")), "the first server took it and dropped it")
		Expect(b.Requests()).To(ContainElement(HaveField("Cmd", "Ping")), "the second held it")
	})

	fw.It("skips a dead server in a Round Robin list and shares the work among the live ones", fw.IDs("ASC-14", "ASC-15"), fw.Conformance(fw.FeatureRouting), func(ctx context.Context) {
		a, b, c := f.NewTap("a"), f.NewTap("b"), f.NewTap("c")
		a.SetFaults(faults.Spec{Toxic: faults.Down{}})
		name := f.ServiceName("rrdead")
		m := uemapi.DefaultGatewayConfig().Servers
		m.Scheduling = uemapi.ScheduleRoundRobin
		f.AddService(name, fw.ServersList(a, b, c), management(m))
		d := poolDevice(name)
		work(ctx, d, 6)
		Expect(b.DeviceRequests(d.ID())).To(BeNumerically(">=", 2))
		Expect(c.DeviceRequests(d.ID())).To(BeNumerically(">=", 2))
		Expect(b.DeviceRequests(d.ID())+c.DeviceRequests(d.ID())).To(Equal(len(d.Records())), "nothing was lost")
	})

	fw.It("fails over from a server that refuses connections", fw.IDs("ASC-04", "ASC-14"), fw.Conformance(fw.FeatureRouting), func(ctx context.Context) {
		a, b := f.NewTap("a"), f.NewTap("b")
		a.SetFaults(faults.Spec{Toxic: faults.Down{}})
		name := f.ServiceName("refused")
		f.AddService(name, fw.ServersList(a, b), nil)
		d := poolDevice(name)
		work(ctx, d, 2)
		Expect(b.DeviceRequests(d.ID())).To(Equal(len(d.Records())), "the second server served every command")
		Expect(a.Requests()).To(BeEmpty())
	})

	fw.It("declares a server dead after Dead Threshold failures and sends it nothing more", fw.IDs("ASC-14", "ASC-16"), fw.Conformance(fw.FeatureRouting), func(ctx context.Context) {
		a, b := f.NewTap("a"), f.NewTap("b")
		a.SetFaults(reset)
		name := f.ServiceName("dead")
		m := uemapi.ServerManagement{Scheduling: uemapi.SchedulePriority, DeadThreshold: 3, FailureWindowMs: 600000, DeadTimeMs: 600000}
		f.AddService(name, fw.ServersList(a, b), management(m))
		d := poolDevice(name)
		work(ctx, d, 4)
		Expect(a.Requests()).To(HaveLen(3), "three failures, then dead: no fourth attempt")
		Expect(b.DeviceRequests(d.ID())).To(Equal(len(d.Records())), "nothing was lost")
	})

	fw.It("uses the default Dead Threshold of 5 failures within 30 s when the UEM leaves it", fw.IDs("ASC-16", "DEF-01"), fw.Conformance(fw.FeatureRouting), func(ctx context.Context) {
		a, b := f.NewTap("a"), f.NewTap("b")
		a.SetFaults(reset)
		name := f.ServiceName("deflt")
		f.AddService(name, fw.ServersList(a, b), management(uemapi.DefaultGatewayConfig().Servers))
		d := poolDevice(name)
		work(ctx, d, 6)
		Expect(a.Requests()).To(HaveLen(5))
	})

	fw.It("never declares a server dead whose failures are further apart than the Failure Window", fw.IDs("ASC-17"), fw.Conformance(fw.FeatureRouting), func(ctx context.Context) {
		a, b := f.NewTap("a"), f.NewTap("b")
		a.SetFaults(reset)
		name := f.ServiceName("window")
		m := uemapi.ServerManagement{Scheduling: uemapi.SchedulePriority, DeadThreshold: 2, FailureWindowMs: 1, DeadTimeMs: 600000}
		f.AddService(name, fw.ServersList(a, b), management(m))
		d := poolDevice(name)
		work(ctx, d, 4)
		Expect(a.DeviceRequests(d.ID())).To(Equal(len(d.Records())), "each request still tried the first server")
	})

	fw.It("gives a dead server traffic again once Dead Time has passed (health check off)", fw.IDs("ASC-14", "ASC-18"), fw.Conformance(fw.FeatureRouting, fw.LabelSlow), func(ctx context.Context) {
		a, b := f.NewTap("a"), f.NewTap("b")
		a.SetFaults(reset)
		name := f.ServiceName("deadtime")
		m := uemapi.ServerManagement{Scheduling: uemapi.SchedulePriority, DeadThreshold: 1, FailureWindowMs: 600000, DeadTimeMs: 3000}
		f.AddService(name, fw.ServersList(a, b), management(m))
		d := poolDevice(name)
		Expect(d.Connect(ctx)).To(Succeed())
		Expect(a.Requests()).To(HaveLen(1), "dead at its first failure")
		_, err := d.Sync(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(a.Requests()).To(HaveLen(1), "no traffic while dead")

		a.SetFaults() // repaired
		Eventually(func() int {
			_, err := d.Sync(ctx)
			Expect(err).NotTo(HaveOccurred())
			return a.DeviceRequests(d.ID())
		}).WithPolling(200*time.Millisecond).Should(BeNumerically(">=", 1), "back in service after Dead Time")
	})

	fw.It("answers the device with an error, and holds nothing, when every server of the service is dead", fw.IDs("ASC-14"), fw.Conformance(fw.FeatureRouting), func(ctx context.Context) {
		a, b := f.NewTap("a"), f.NewTap("b")
		a.SetFaults(reset)
		b.SetFaults(reset)
		name := f.ServiceName("alldead")
		f.AddService(name, fw.ServersList(a, b), nil)
		d := poolDevice(name)
		err := d.Provision(ctx)
		var se *device.StatusError
		Expect(err).To(BeAssignableToTypeOf(se), "an HTTP answer, not a hang or a dropped connection")
		Expect(err.(*device.StatusError).HTTPStatus).To(BeNumerically(">=", 500))
		Expect(a.Requests()).NotTo(BeEmpty())
		Expect(b.Requests()).NotTo(BeEmpty(), "both servers were tried")
	})
})

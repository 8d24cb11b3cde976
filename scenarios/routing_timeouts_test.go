package scenarios_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/faults"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

// The advanced timeouts (ASC-20 to ASC-23) and the background health
// check (ASC-11 to ASC-14, ASC-26), set through the UEM and observed on
// the taps and from the device side. A timeout cannot be observed
// without a clock: the specs set it far below what a gateway ignoring it
// would take (the defaults are 10 s and 60 s) and wait with a bound
// between the two, never asserting on a measured duration.
var _ = Describe("ActiveSync timeouts and health checks", func() {
	f := fw.New(fw.WithExtraExchanges(1))

	// cut is how long a spec waits for what a timeout of a few hundred
	// milliseconds must have done; a gateway on the 10 s defaults does
	// not do it by then.
	const cut = 5 * time.Second

	poolDevice := func(service string) *device.Device {
		return f.NewDevice(f.NewUser(), func(c *device.Config) { c.Host = service })
	}
	withTimeouts := func(t uemapi.Timeouts, m uemapi.ServerManagement) func(*uemapi.GatewayConfig, *uemapi.ActiveSyncService) {
		return func(c *uemapi.GatewayConfig, _ *uemapi.ActiveSyncService) { c.Timeouts, c.Servers = t, m }
	}
	neverDead := func() uemapi.ServerManagement {
		m := uemapi.DefaultGatewayConfig().Servers
		m.DeadThreshold = uemapi.DeadThresholdMax
		return m
	}

	fw.It("abandons a server that does not complete its handshake within the Server connection timeout", fw.IDs("ASC-21"), fw.Conformance(fw.FeatureRouting), func(ctx context.Context) {
		a, b := f.NewTap("a"), f.NewTap("b")
		// The server reads the ClientHello a byte a second: connected,
		// never shaking hands in time.
		a.SetFaults(faults.Spec{Direction: faults.Upstream, Toxic: faults.Bandwidth{BytesPerSec: 1}})
		t := uemapi.DefaultGatewayConfig().Timeouts
		t.ServerConnectMs = 300
		m := uemapi.DefaultGatewayConfig().Servers
		m.DeadThreshold = 2 // then dead: the rest of the device's commands go straight to b
		name := f.ServiceName("connect")
		f.AddService(name, fw.ServersList(a, b), withTimeouts(t, m))
		d := poolDevice(name)
		done := make(chan error, 1)
		go func() { defer GinkgoRecover(); done <- d.Connect(ctx) }()
		Eventually(done, cut).Should(Receive(BeNil()), "served by the second server well before a 10 s connection timeout")
		Expect(b.DeviceRequests(d.ID())).To(Equal(len(d.Records())))
		Expect(a.Handshakes()).To(BeZero())
		Expect(a.Requests()).To(BeEmpty())
	})

	fw.It("answers the device with an error after the Server response timeout and does not send the command again elsewhere", fw.IDs("ASC-22"), fw.Conformance(fw.FeatureRouting), func(ctx context.Context) {
		a, b := f.NewTap("a"), f.NewTap("b")
		t := uemapi.DefaultGatewayConfig().Timeouts
		t.ServerResponseMs = 400
		name := f.ServiceName("response")
		f.AddService(name, fw.ServersList(a, b), withTimeouts(t, neverDead()))
		d := poolDevice(name)
		Expect(d.Connect(ctx)).To(Succeed())

		a.SetFaults(faults.Spec{Direction: faults.Upstream, Toxic: faults.Hang{}}) // the server takes the command and never answers
		done := make(chan error, 1)
		go func() { defer GinkgoRecover(); _, err := d.Sync(ctx); done <- err }()
		var err error
		Eventually(done, cut).Should(Receive(&err), "answered well before the 60 s default")
		var se *device.StatusError
		Expect(err).To(BeAssignableToTypeOf(se))
		Expect(err.(*device.StatusError).HTTPStatus).To(BeNumerically(">=", 500))
		Expect(b.DeviceRequests(d.ID())).To(BeZero(), "a command the server may have acted on is not replayed")
	})

	fw.It("lets a Ping wait for its heartbeat however short the Server response timeout", fw.IDs("ASC-22"), fw.Conformance(fw.FeatureRouting), func(ctx context.Context) {
		a := f.NewTap("a")
		t := uemapi.DefaultGatewayConfig().Timeouts
		t.ServerResponseMs = 300
		name := f.ServiceName("ping")
		f.AddService(name, fw.ServersList(a), withTimeouts(t, neverDead()))
		d := poolDevice(name)
		Expect(d.Connect(ctx)).To(Succeed())
		st, _, err := d.Ping(ctx, 1) // held by the server for 1 s
		Expect(err).NotTo(HaveOccurred())
		Expect(st).To(Equal(1), "the heartbeat expired without changes: the server's own answer")
		Expect(d.Last().HTTPStatus).To(Equal(200))
		Expect(a.Requests()).To(ContainElement(HaveField("Cmd", "Ping")), "the service's server held it")
	})

	fw.It("cuts a server's answer whose body stalls longer than the Socket read/write timeout", fw.IDs("ASC-20"), fw.Conformance(fw.FeatureRouting), func(ctx context.Context) {
		a := f.NewTap("a")
		t := uemapi.DefaultGatewayConfig().Timeouts
		t.SocketReadWriteMs = 300
		name := f.ServiceName("socket")
		f.AddService(name, fw.ServersList(a), withTimeouts(t, neverDead()))
		d := poolDevice(name)
		Expect(d.Connect(ctx)).To(Succeed())

		a.SetFaults(faults.Spec{Toxic: faults.SlowBody{BytesPerSec: 1}}) // a byte a second, each read waits a second
		done := make(chan error, 1)
		go func() { defer GinkgoRecover(); done <- d.FolderSync(ctx) }()
		var err error
		Eventually(done, cut).Should(Receive(&err), "cut well before the body could arrive")
		Expect(err).To(HaveOccurred(), "the device never gets a whole answer from a stalled body")
	})

	fw.It("closes a device connection that sends no request within the Device request timeout", fw.IDs("ASC-23"), fw.Conformance(fw.FeatureRouting), func() {
		f.EditGatewayConfig(func(c *uemapi.GatewayConfig) { c.Timeouts.DeviceRequestMs = 300 })
		Eventually(fw.Hangup(f.DialDevice()), cut).Should(Receive(), "an idle connection is closed")

		f.EditGatewayConfig(func(c *uemapi.GatewayConfig) { c.Timeouts.DeviceRequestMs = 60000 })
		Consistently(fw.Hangup(f.DialDevice()), time.Second).ShouldNot(Receive(), "kept while the timeout has not passed")
	})

	fw.It("cuts a device request whose body stalls longer than the Socket read/write timeout", fw.IDs("ASC-20"), fw.Conformance(fw.FeatureRouting), func(ctx context.Context) {
		d := f.NewDevice(f.NewUser())
		Expect(d.Connect(ctx)).To(Succeed()) // known: the next request goes straight to the relay
		stall := func() <-chan string {
			c := f.DialDevice()
			u, _ := url.Parse(f.DeviceURL())
			cfg := d.Config()
			auth := base64.StdEncoding.EncodeToString([]byte(cfg.User + ":" + cfg.Password))
			head := fmt.Sprintf("POST /Microsoft-Server-ActiveSync?Cmd=Sync&User=%s&DeviceId=%s&DeviceType=%s HTTP/1.1\r\nHost: %s\r\n"+
				"Authorization: Basic %s\r\nMS-ASProtocolVersion: %s\r\nX-MS-PolicyKey: %s\r\nContent-Type: application/vnd.ms-sync.wbxml\r\n"+
				"Content-Length: 1000\r\n\r\n", url.QueryEscape(cfg.User), cfg.ID, cfg.DeviceType(), u.Host, auth, cfg.Version, d.PolicyKey())
			_, err := c.Write([]byte(head + strings.Repeat("\x00", 10))) // 10 of the 1000 bytes, then nothing
			Expect(err).NotTo(HaveOccurred())
			return fw.Hangup(c)
		}
		f.EditGatewayConfig(func(c *uemapi.GatewayConfig) { c.Timeouts.SocketReadWriteMs = 300 })
		Eventually(stall(), cut).Should(Receive(), "the stalled request is given up")

		f.EditGatewayConfig(func(c *uemapi.GatewayConfig) { c.Timeouts.SocketReadWriteMs = 60000 })
		Consistently(stall(), time.Second).ShouldNot(Receive(), "a body that may still come is waited for")
	})

	fw.It("health-checks each server of a service with OPTIONS without credentials every Interval, and never one whose check is off", fw.IDs("ASC-11", "ASC-12"), fw.Conformance(fw.FeatureRouting, fw.LabelSlow), func() {
		a, b := f.NewTap("a"), f.NewTap("b")
		on, off := f.ServiceName("hcon"), f.ServiceName("hcoff")
		f.AddService(off, fw.ServersList(b), nil)
		f.AddService(on, fw.ServersList(a), func(_ *uemapi.GatewayConfig, s *uemapi.ActiveSyncService) {
			s.HealthCheck = uemapi.HealthCheck{Enabled: true, IntervalSeconds: uemapi.HealthIntervalMin, LiveThreshold: 1}
		})
		Eventually(a.HealthChecks, 3*uemapi.HealthIntervalMin*time.Second).Should(BeNumerically(">=", 2), "checked on its interval")
		for _, r := range a.Requests() {
			Expect(r.HealthCheck()).To(BeTrue(), "nothing but health checks reached an idle server: %+v", r)
			Expect(r.Path).To(Equal("/Microsoft-Server-ActiveSync"))
		}
		Expect(a.Handshakes()).To(BeNumerically(">=", int64(a.HealthChecks())), "each check on a new connection")
		Expect(b.Requests()).To(BeEmpty(), "no check where it is off")
	})

	fw.It("sends the health check with SNI once outgoing SNI is on, so that it can be turned off for a server that cannot take it", fw.IDs("ASC-24", "TLS-07"), fw.Conformance(fw.FeatureRouting, fw.FeatureTLS, fw.LabelSlow), func() {
		a := f.NewTap("a")
		name := f.ServiceName("hcsni")
		f.AddService(name, a.LocalhostAddr(), func(c *uemapi.GatewayConfig, s *uemapi.ActiveSyncService) {
			c.TLS.OutgoingSNI = true
			s.HealthCheck = uemapi.HealthCheck{Enabled: true, IntervalSeconds: uemapi.HealthIntervalMin, LiveThreshold: 1}
		})
		Eventually(a.HealthChecks, 2*uemapi.HealthIntervalMin*time.Second).Should(BeNumerically(">=", 1))
		for _, r := range a.Requests() {
			Expect(r.SNI).To(Equal("localhost"), "the check names the server as device traffic does")
		}
	})

	fw.It("brings a dead server back after Live Threshold successful checks, a 401 counting as alive", fw.IDs("ASC-13", "ASC-14", "ASC-26"), fw.Conformance(fw.FeatureRouting, fw.LabelSlow), func(ctx context.Context) {
		a, b := f.NewTap("a"), f.NewTap("b")
		a.SetFaults(faults.Spec{Name: "reset", Direction: faults.Upstream, Toxic: faults.Reset{}})
		name := f.ServiceName("revive")
		f.AddService(name, fw.ServersList(a, b), func(c *uemapi.GatewayConfig, s *uemapi.ActiveSyncService) {
			c.Servers = uemapi.ServerManagement{Scheduling: uemapi.SchedulePriority, DeadThreshold: 1, FailureWindowMs: 600000, DeadTimeMs: 1}
			s.HealthCheck = uemapi.HealthCheck{Enabled: true, IntervalSeconds: uemapi.HealthIntervalMin, LiveThreshold: 2}
		})
		d := poolDevice(name)
		Expect(d.Connect(ctx)).To(Succeed())
		Expect(a.DeviceRequests(d.ID())).To(BeZero(), "dead at its first failure")

		a.SetFaults() // repaired: the checks now get Exchange's 401 to an OPTIONS without credentials
		checks := a.HealthChecks()
		Eventually(a.HealthChecks, 2*uemapi.HealthIntervalMin*time.Second).Should(BeNumerically(">", checks))
		if a.HealthChecks()-checks < 2 {
			_, err := d.Sync(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(a.DeviceRequests(d.ID())).To(BeZero(), "one good check is not Live Threshold")
		}
		Eventually(func() int {
			_, err := d.Sync(ctx)
			Expect(err).NotTo(HaveOccurred())
			return a.DeviceRequests(d.ID())
		}, 3*uemapi.HealthIntervalMin*time.Second, time.Second).Should(BeNumerically(">=", 1), "live again after two good checks")
	})
})

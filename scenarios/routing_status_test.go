package scenarios_test

import (
	"context"
	"crypto/tls"
	"net/url"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/faults"
	"github.com/gatehouse-lab/gatehouse/gateway/upstream"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

// What the gateway shows of its server pools (ASC-25) and the TLS of
// the port the UEM reaches it on (TLS-11).
var _ = Describe("Server status and the UEM-facing port", func() {
	f := fw.New(fw.WithExtraExchanges(1))

	fw.It("shows each service's scheduling and health check, and each server's declared status and failures", fw.IDs("ASC-25", "ASC-14"), fw.Introspection(fw.FeatureRouting), func(ctx context.Context) {
		a, b := f.NewTap("a"), f.NewTap("b")
		a.SetFaults(faults.Spec{Direction: faults.Upstream, Toxic: faults.Reset{}})
		name := f.ServiceName("status")
		f.AddService(name, fw.ServersList(a, b), func(c *uemapi.GatewayConfig, s *uemapi.ActiveSyncService) {
			c.Servers = uemapi.ServerManagement{Scheduling: uemapi.SchedulePriority, DeadThreshold: 2, FailureWindowMs: 600000, DeadTimeMs: 600000}
			s.HealthCheck = uemapi.HealthCheck{Enabled: true, IntervalSeconds: 600, LiveThreshold: 3}
		})
		d := f.NewDevice(f.NewUser(), func(c *device.Config) { c.Host = name })
		Expect(d.Connect(ctx)).To(Succeed())

		services, err := f.Gateway().Servers(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(services[0].Name).To(Equal("default"))
		var svc *upstream.ServiceStatus
		for i := range services {
			if services[i].Name == name {
				svc = &services[i]
			}
		}
		Expect(svc).NotTo(BeNil(), "the service the UEM added is listed")
		Expect(svc.Scheduling).To(Equal(uemapi.SchedulePriority))
		Expect(svc.HealthCheck).To(BeTrue(), "Active Background Health Check: Enabled")
		Expect(svc.Servers).To(HaveLen(2))
		Expect(svc.Servers[0].Address).To(Equal(a.Addr()))
		Expect(svc.Servers[0].Declared()).To(Equal("Dead"))
		Expect(svc.Servers[0].State()).To(Equal("Unreachable"))
		Expect(svc.Servers[0].FailureCount).To(BeNumerically("==", 2))
		Expect(svc.Servers[0].LastSuccess.IsZero()).To(BeTrue(), "Last Successful: Never")
		Expect(svc.Servers[1].Declared()).To(Equal("Live"))
		Expect(svc.Servers[1].LastFailure.IsZero()).To(BeTrue(), "Last Failed: Never")
		Expect(svc.Servers[1].LastSuccess.IsZero()).To(BeFalse())
	})

	fw.It("speaks TLS 1.2 and later on the port the UEM reaches it on, refuses TLS 1.0, and takes the UEM's pushes there", fw.IDs("TLS-11"), fw.Conformance(fw.FeatureTLS), func(ctx context.Context) {
		target, _ := f.NotificationTarget()
		u, err := url.Parse(target)
		Expect(err).NotTo(HaveOccurred())
		dial := func(v uint16) error {
			c, err := (&tls.Dialer{Config: &tls.Config{InsecureSkipVerify: true, MinVersion: v, MaxVersion: v}}).DialContext(ctx, "tcp", u.Host) //nolint:gosec // the gateway's throwaway certificate
			if err == nil {
				c.Close()
			}
			return err
		}
		Expect(dial(tls.VersionTLS10)).NotTo(Succeed(), "TLSv1 is off")
		Expect(dial(tls.VersionTLS12)).To(Succeed(), "TLSv1.2 is on")
		// And it is the gateway's own port: the UEM's push of a saved
		// configuration (over TLS 1.2 or later, signed) is taken there.
		f.EditGatewayConfig(func(c *uemapi.GatewayConfig) { c.Timeouts.DeviceRequestMs++ })
	})
})

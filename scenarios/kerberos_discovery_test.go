package scenarios_test

import (
	"context"
	"log/slog"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/kdc"
	"github.com/gatehouse-lab/gatehouse/internal/loopback"
	"github.com/gatehouse-lab/gatehouse/lab"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

// KDC discovery through DNS needs the gateway to ask the lab's DNS
// server, a bootstrap setting of the gateway (its network
// configuration), not something the UEM delivers: these run locally only.
var _ = Describe("KDC discovery through DNS", func() {
	f := fw.New(fw.WithLabConfig(func(c *lab.Config) { c.Kerberos = true }))

	fw.It("with no KDC configured the gateway finds the realm's KDC through its SRV records", fw.IDs("KRB-05", "DEF-07", "KDC-03"), fw.Conformance(fw.FeatureKerberos), func() {
		f.EditGatewayConfig(func(gc *uemapi.GatewayConfig) { gc.Kerberos.KDCs, gc.Kerberos.DNSDiscovery = "", true })
		before := f.Lab.DNS.Stats()
		d := certDevice(f, f.NewUser())
		Expect(d.Connect(f.Ctx())).To(Succeed())
		Expect(f.Lab.KerberosClients()).To(ContainElement(d.User() + "@" + f.Lab.Realm()))
		Expect(f.Lab.DNS.Stats()).NotTo(Equal(before), "the KDC came from DNS")
	})

	fw.It("a configured KDC whose name does not resolve makes the gateway discover one through DNS", fw.IDs("KDC-02", "KDC-07"), fw.Conformance(fw.FeatureKerberos), func() {
		f.EditGatewayConfig(func(gc *uemapi.GatewayConfig) {
			gc.Kerberos.KDCs, gc.Kerberos.DNSDiscovery = "kdc-retired.corp.example", true
		})
		d := certDevice(f, f.NewUser())
		Expect(d.Connect(f.Ctx())).To(Succeed())
		Expect(f.Lab.KerberosClients()).To(ContainElement(d.User() + "@" + f.Lab.Realm()))
	})

	fw.It("Kerberos initialisation retries until the KDC answers, without a restart", fw.IDs("KRB-06", "DEF-06"), fw.Introspection(fw.FeatureKerberos), func() {
		// A port with nothing behind it, for now; held, so that no other
		// server or connection is given it before the KDC binds it.
		addr, release, err := loopback.Refusing()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(release)
		var password string
		f.EditGatewayConfig(func(gc *uemapi.GatewayConfig) {
			gc.Kerberos.KDCs, gc.Kerberos.DNSDiscovery, password = addr, false, gc.Kerberos.Password
		})
		Eventually(func() int {
			i, err := f.Gateway().KerberosInfo(f.Ctx())
			Expect(err).NotTo(HaveOccurred())
			Expect(i.Initialised).To(BeFalse())
			return i.InitAttempts
		}).Should(BeNumerically(">=", 2), "it tried again after a failure")

		k, err := kdc.New(kdc.Config{Realm: f.Lab.Realm(), Addr: addr, Logger: slog.New(slog.DiscardHandler)})
		Expect(err).NotTo(HaveOccurred())
		Expect(release()).To(Succeed())
		Expect(k.Start(context.Background())).To(Succeed())
		DeferCleanup(k.Shutdown)
		Expect(k.AddPrincipal(kdc.Principal{Name: lab.GatewayPrincipal, Password: password})).To(Succeed())
		Eventually(func() bool {
			i, err := f.Gateway().KerberosInfo(f.Ctx())
			Expect(err).NotTo(HaveOccurred())
			return i.Initialised
		}).Should(BeTrue(), "a retry reached the KDC once it listened")
		Expect(k.Stats().AS).To(BeNumerically(">=", 1))
	})
})

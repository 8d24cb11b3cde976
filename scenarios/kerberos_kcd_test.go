package scenarios_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/kdc"
	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/internal/loopback"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

// Kerberos constrained delegation configured through the UEM, against
// the spec's own KDC and Kerberos-only Exchange (fw.StartKerberosWorld):
// these run against another gateway. What needs the gateway's DNS server
// (KDC discovery through SRV records, KDC-01/02/07) stays in
// kerberos_test.go, local only: the DNS server a gateway uses is its own
// network setting, not something the UEM delivers.

// certDevice is a device of user with a fresh identity certificate.
func certDevice(f *fw.Framework, user string, opts ...func(*device.Config)) *device.Device {
	cert, _ := f.IssueCertificate(user, uem.CertRequest{})
	return f.NewCertDevice(user, &cert, opts...)
}

var _ = Describe("Kerberos constrained delegation configured through the UEM", func() {
	f := fw.New()

	fw.It("with realm, service principal and password, a device with only a certificate syncs; Exchange sees its user's delegated ticket", fw.IDs("KRB-04", "KRB-08", "KRB-09", "KDC-01"), fw.Conformance(fw.FeatureKerberos, fw.FeatureDeviceAuth), func() {
		user := f.NewUser()
		k := f.StartKerberosWorld(fw.KerberosOptions{Users: []string{user}})
		d := certDevice(f, user, func(c *device.Config) { c.Password = "-" }) // SSO: no password of the user's
		Expect(d.Connect(f.Ctx())).To(Succeed())
		Expect(d.Messages()).NotTo(BeEmpty(), "mail from the Kerberos-only Exchange")
		Expect(k.Clients()).To(ContainElement(user + "@" + k.Realm))
		Expect(k.Clients()).To(HaveEach(user+"@"+k.Realm), "every request as the certificate's user")
		st := k.KDC.Stats()
		Expect(st.AS).To(BeNumerically(">=", 1), "the gateway logged in as its principal at the configured KDC")
		Expect(st.S4U2Self).To(BeNumerically(">=", 1), "protocol transition for the user")
		Expect(st.S4U2Proxy).To(BeNumerically(">=", 1), "constrained delegation to the mail SPN")
	})

	fw.It("with a keytab instead of a password, delegation works the same", fw.IDs("KRB-03", "KRB-08"), fw.Conformance(fw.FeatureKerberos, fw.FeatureDeviceAuth), func() {
		user := f.NewUser()
		k := f.StartKerberosWorld(fw.KerberosOptions{Users: []string{user}, Keytab: true})
		d := certDevice(f, user)
		Expect(d.Connect(f.Ctx())).To(Succeed())
		Expect(k.Clients()).To(ContainElement(user + "@" + k.Realm))
		Expect(k.KDC.Stats().S4U2Proxy).To(BeNumerically(">=", 1))
	})

	fw.It("a service ticket near its end is replaced by a fresh one and the device keeps syncing", fw.IDs("KRB-08", "KRB-09"), fw.Conformance(fw.FeatureKerberos, fw.FeatureDeviceAuth), func() {
		user := f.NewUser()
		// Tickets live 61 s: a gateway that keeps a ticket until a minute
		// before its end may reuse it for about 1 s, then must get another.
		k := f.StartKerberosWorld(fw.KerberosOptions{Users: []string{user}, TicketLifetime: 61 * time.Second})
		d := certDevice(f, user)
		Expect(d.Connect(f.Ctx())).To(Succeed())
		first := k.KDC.Stats().S4U2Proxy
		Expect(first).To(BeNumerically(">=", 1))
		Eventually(func() int {
			_, err := d.Sync(f.Ctx())
			Expect(err).NotTo(HaveOccurred(), "every Sync is accepted by the Kerberos-only Exchange")
			return k.KDC.Stats().S4U2Proxy
		}).WithTimeout(20*time.Second).WithPolling(200*time.Millisecond).Should(BeNumerically(">", first), "a new service ticket was delegated")
		Expect(k.Clients()).To(HaveEach(user + "@" + k.Realm))
	})

	fw.It("an SPN the gateway may not delegate to fails the device with an error and nothing reaches Exchange", fw.IDs("KRB-02", "KRB-08"), fw.Conformance(fw.FeatureKerberos, fw.FeatureDeviceAuth), func() {
		user := f.NewUser()
		k := f.StartKerberosWorld(fw.KerberosOptions{Users: []string{user}})
		Expect(certDevice(f, user).Connect(f.Ctx())).To(Succeed(), "the allowed SPN works")
		seen := len(k.Clients())

		f.EditGatewayConfig(func(gc *uemapi.GatewayConfig) { gc.ActiveSync.Services[0].SPNs = "http/intranet.corp.example" })
		d := certDevice(f, user)
		Expect(d.Connect(f.Ctx())).NotTo(Succeed())
		Expect(d.Last().HTTPStatus).To(BeNumerically(">=", 500), "a server-side error, not a credentials prompt")
		Expect(k.Clients()).To(HaveLen(seen), "nothing more reached Exchange")
	})

	fw.It("Derive SPN builds http/<host> from the server list exactly as written: the case of the host matters", fw.IDs("KRB-02"), fw.Conformance(fw.FeatureKerberos, fw.FeatureDeviceAuth), func() {
		user := f.NewUser()
		var port string
		k := f.StartKerberosWorld(fw.KerberosOptions{Users: []string{user}, SPN: "http/localhost", Edit: func(gc *uemapi.GatewayConfig) {
			svc := &gc.ActiveSync.Services[0]
			_, port, _ = net.SplitHostPort(svc.Servers)
			svc.Servers, svc.DeriveSPN, svc.SPNs = "localhost:"+port, true, ""
		}})
		Expect(certDevice(f, user).Connect(f.Ctx())).To(Succeed(), "http/localhost, derived from localhost:%s", port)
		Expect(k.Clients()).To(ContainElement(user + "@" + k.Realm))
		seen := len(k.Clients())

		f.EditGatewayConfig(func(gc *uemapi.GatewayConfig) { gc.ActiveSync.Services[0].Servers = "LOCALHOST:" + port })
		d := certDevice(f, user)
		Expect(d.Connect(f.Ctx())).NotTo(Succeed(), "http/LOCALHOST is another SPN, unknown to the KDC")
		Expect(k.Clients()).To(HaveLen(seen))
	})

	fw.It("the KDC proxy is served when the UEM enables it, and relays to an additional realm's configured KDC whatever the realm's case", fw.IDs("KKD-01", "KDC-06"), fw.Conformance(fw.FeatureKerberos), func() {
		user := f.NewUser()
		const east = "EAST.EXAMPLE"
		ek, err := kdc.New(kdc.Config{Realm: east, Logger: slog.New(slog.DiscardHandler)})
		Expect(err).NotTo(HaveOccurred())
		Expect(ek.Start(context.Background())).To(Succeed())
		DeferCleanup(ek.Shutdown)
		Expect(ek.AddPrincipal(kdc.Principal{Name: "erin", Password: "erin-pw"})).To(Succeed())

		k := f.StartKerberosWorld(fw.KerberosOptions{Users: []string{user}, Edit: func(gc *uemapi.GatewayConfig) { gc.Kerberos.KDCProxy = false }})
		proxy := f.DeviceURL() + "/KdcProxy"
		pw := f.UserInfo(user).Password
		Expect(kdcProxyLogin(f.Ctx(), proxy, f.HTTPClient(), user, k.Realm, pw)).NotTo(Succeed(), "no KDC proxy while it is off")

		f.EditGatewayConfig(func(gc *uemapi.GatewayConfig) {
			gc.Kerberos.KDCProxy = true
			gc.Kerberos.DNSDiscovery = false // only the configured KDCs
			gc.Kerberos.AdditionalRealms = []uemapi.RealmKDCs{{Realm: "east.example", KDCs: ek.Addr()}}
		})
		as := k.KDC.Stats().AS
		Expect(kdcProxyLogin(f.Ctx(), proxy, f.HTTPClient(), user, k.Realm, pw)).To(Succeed(), "the gateway's own realm")
		Expect(k.KDC.Stats().AS).To(BeNumerically(">", as), "relayed to the configured KDC")
		Expect(kdcProxyLogin(f.Ctx(), proxy, f.HTTPClient(), "erin", east, "erin-pw")).To(Succeed(), "the additional realm, configured in lower case")
		Expect(ek.Stats().AS).To(BeNumerically(">=", 1), "relayed to the additional realm's KDC")
		Expect(kdcProxyLogin(f.Ctx(), proxy, f.HTTPClient(), "erin", east, "wrong")).NotTo(Succeed(), "the KDC's answer, relayed")
	})

	fw.It("with discovery off and only unreachable KDCs configured, no ticket is had and the device gets an error", fw.IDs("KDC-04", "KDC-08", "KDC-05"), fw.Conformance(fw.FeatureKerberos, fw.FeatureDeviceAuth), func() {
		user := f.NewUser()
		k := f.StartKerberosWorld(fw.KerberosOptions{Users: []string{user}})
		Expect(certDevice(f, user).Connect(f.Ctx())).To(Succeed(), "the configured KDC works")
		seen := len(k.Clients())
		var closed []string
		for range 2 { // ports with nothing behind them, held so that nothing else answers there
			addr, release, err := loopback.Refusing()
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(release)
			closed = append(closed, addr)
		}
		f.EditGatewayConfig(func(gc *uemapi.GatewayConfig) {
			gc.Kerberos.KDCs, gc.Kerberos.DNSDiscovery = strings.Join(closed, ";"), false
		})
		d := certDevice(f, user)
		Expect(d.Connect(f.Ctx())).NotTo(Succeed())
		Expect(d.Last().HTTPStatus).To(BeNumerically(">=", 500))
		Expect(k.Clients()).To(HaveLen(seen), "nothing reached Exchange")
	})

	fw.It("a Kerberos service refuses a device without an identity certificate before anything reaches Exchange", fw.IDs("DA-03", "DA-05"), fw.Conformance(fw.FeatureKerberos, fw.FeatureDeviceAuth), func() {
		user := f.NewUser()
		k := f.StartKerberosWorld(fw.KerberosOptions{Users: []string{user}})
		Expect(certDevice(f, user).Connect(f.Ctx())).To(Succeed())
		seen := len(k.Clients())
		d := f.NewDevice(user) // its password only
		Expect(d.Provision(f.Ctx())).To(MatchError(device.ErrBlocked))
		Expect(d.Last().HTTPStatus).To(Equal(http.StatusForbidden))
		Expect(k.Clients()).To(HaveLen(seen))
	})
})

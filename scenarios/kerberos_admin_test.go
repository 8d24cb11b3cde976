package scenarios_test

import (
	"net"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

// The gateway's Kerberos commands (show, cache, purge, init, KDC check)
// over its admin API, after delegation configured through the UEM
// (introspection).
var _ = Describe("Kerberos module commands", func() {
	f := fw.New()

	fw.It("show and init report the module: its principal, the ticket cache and that it is initialised", fw.IDs("KRB-11", "KRB-07"), fw.Introspection(fw.FeatureKerberos), func() {
		user := f.NewUser()
		f.StartKerberosWorld(fw.KerberosOptions{Users: []string{user}})
		Expect(certDevice(f, user).Connect(f.Ctx())).To(Succeed())
		i, err := f.Gateway().KerberosInfo(f.Ctx())
		Expect(err).NotTo(HaveOccurred())
		Expect(i.SentrySPN).To(Equal(fw.KerberosPrincipal))
		Expect(i.Realm).To(Equal("CORP.EXAMPLE"))
		Expect(i.CacheTicketIdleTimeout).To(BeNumerically(">", 0), "minutes")
		Expect(i.CacheSize).To(Equal(1), "the user's ticket for the mail SPN")
		Expect(i.Initialised).To(BeTrue())

		in, err := f.Gateway().KerberosInit(f.Ctx())
		Expect(err).NotTo(HaveOccurred())
		Expect(in.Already).To(BeTrue(), "init does nothing when already initialised")
		Expect(in.Message).To(Equal("Kerberos is already initialized."))
	})

	fw.It("the ticket cache lists tickets by user, filters by partial UPN, and a purge makes the next request get a new ticket", fw.IDs("KRB-12", "KRB-13", "KRB-14", "KRB-16"), fw.Introspection(fw.FeatureKerberos), func() {
		user := f.NewUser()
		k := f.StartKerberosWorld(fw.KerberosOptions{Users: []string{user}})
		cert, ic := f.IssueCertificate(user, uem.CertRequest{})
		d := f.NewCertDevice(user, &cert)
		Expect(d.Connect(f.Ctx())).To(Succeed())

		all, err := f.Gateway().KerberosCache(f.Ctx(), "")
		Expect(err).NotTo(HaveOccurred())
		Expect(all).To(ContainElement(HaveField("UPN", ic.UPN)))
		part, err := f.Gateway().KerberosCache(f.Ctx(), strings.ToUpper(user[:3]))
		Expect(err).NotTo(HaveOccurred())
		Expect(part).To(ContainElement(HaveField("UPN", ic.UPN)), "a partial UPN, any case")
		none, err := f.Gateway().KerberosCache(f.Ctx(), "nobody-at-all")
		Expect(err).NotTo(HaveOccurred())
		Expect(none).To(BeEmpty())
		byUPN, err := f.Gateway().KerberosCacheUPN(f.Ctx(), ic.UPN)
		Expect(err).NotTo(HaveOccurred())
		Expect(byUPN).To(HaveLen(1))
		Expect(byUPN[0].SPN).To(Equal(k.SPN))
		Expect(byUPN[0].Created).NotTo(BeZero())

		proxies := k.KDC.Stats().S4U2Proxy
		_, err = d.Sync(f.Ctx())
		Expect(err).NotTo(HaveOccurred())
		Expect(k.KDC.Stats().S4U2Proxy).To(Equal(proxies), "the cached ticket is reused")
		n, err := f.Gateway().KerberosPurge(f.Ctx(), ic.UPN)
		Expect(err).NotTo(HaveOccurred())
		Expect(n.Count).To(Equal(1))
		Expect(n.Message).To(Equal("Purged 1 entries from cache"))
		_, err = d.Sync(f.Ctx())
		Expect(err).NotTo(HaveOccurred())
		Expect(k.KDC.Stats().S4U2Proxy).To(Equal(proxies+1), "after the purge a new ticket is delegated")
	})

	fw.It("the KDC check opens a TCP connection to the KDC and reports success, or the failure with its cause", fw.IDs("KRB-15"), fw.Introspection(fw.FeatureKerberos), func() {
		user := f.NewUser()
		k := f.StartKerberosWorld(fw.KerberosOptions{Users: []string{user}})
		host, p, err := net.SplitHostPort(k.KDC.Addr())
		Expect(err).NotTo(HaveOccurred())
		port, _ := strconv.Atoi(p)
		c, err := f.Gateway().KerberosKDC(f.Ctx(), host, port)
		Expect(err).NotTo(HaveOccurred())
		Expect(c.OK).To(BeTrue())
		Expect(c.Lines).To(Equal([]string{"Connecting to KDC " + host + ", port " + p, "Connection successful.", "Address: " + host + "/" + host + ":" + p}))

		c, err = f.Gateway().KerberosKDC(f.Ctx(), "kdc.nowhere.invalid", 0)
		Expect(err).NotTo(HaveOccurred())
		Expect(c.OK).To(BeFalse())
		Expect(c.Lines[0]).To(Equal("Connecting to KDC kdc.nowhere.invalid, port 88"), "port 88 by default")
		Expect(c.Lines).To(ContainElement("Connection failed."))
		Expect(c.Error).NotTo(BeEmpty())
	})
})

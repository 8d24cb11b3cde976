package scenarios_test

import (
	"crypto/tls"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/internal/testca"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

// foreignCertificate is a client certificate for upn from a CA the
// gateway does not trust.
func foreignCertificate(upn string) tls.Certificate {
	return testca.New(GinkgoTB(), "Somebody Else's CA", time.Now(), nil).Client(GinkgoTB(), upn, upn)
}

// Device authentication is configured at the UEM (DESIGN "The gateway"),
// so these specs run against any gateway that takes its configuration
// from the fake UEM: each switches the gateway to the mode it checks and
// back. The CRL comes from the UEM's CA over HTTP, current for
// fw.CRLValidity.
var _ = Describe("Device authentication with identity certificates", func() {
	f := fw.New()

	fw.It("lets a device with the UEM's identity certificate sync, as the certificate's user", fw.IDs("DA-03", "DA-11"), fw.Conformance(fw.FeatureDeviceAuth), func() {
		f.UseIdentityCertificates()
		user := f.NewUser()
		cert, ic := f.IssueCertificate(user, uem.CertRequest{})
		d := f.NewCertDevice(user, &cert)
		Expect(d.Connect(f.Ctx())).To(Succeed())
		Expect(d.Messages()).NotTo(BeEmpty())
		// The gateway reports the certificate's user under its one
		// normalised name (docs/security.md, Identity): the UPN's user part.
		a, err := f.UEM.FindAssociation(f.Ctx(), d.ID(), user)
		Expect(err).NotTo(HaveOccurred(), "the UEM knows the device as %s, the user of the certificate's UPN %s", user, ic.UPN)
		Expect(a.SyncStatus).To(Equal("Allowed"))
	})

	fw.It("refuses a device with no certificate, one from another CA, or an expired one", fw.IDs("DA-03"), fw.Conformance(fw.FeatureDeviceAuth), func() {
		f.UseIdentityCertificates()
		user := f.NewUser()
		stranger := foreignCertificate(user + "@corp.example")
		past := time.Now().Add(-72 * time.Hour)
		expired, _ := f.IssueCertificate(user, uem.CertRequest{NotBefore: past, NotAfter: past.Add(time.Hour)})
		for name, cert := range map[string]*tls.Certificate{"no certificate": nil, "another CA": &stranger, "expired": &expired} {
			d := f.NewCertDevice(user, cert)
			Expect(d.Provision(f.Ctx())).To(MatchError(device.ErrBlocked), name)
			Expect(d.Saw("", 403, 0)).To(BeTrue(), "%s: HTTP 403", name)
			Expect(f.ReachedExchange(d)).To(BeFalse(), name)
		}
	})

	fw.It("refuses a revoked certificate once the gateway's CRL is refreshed", fw.IDs("DA-08", "DA-10"), fw.Introspection(fw.FeatureDeviceAuth), func() {
		f.UseIdentityCertificates()
		user := f.NewUser()
		cert, ic := f.IssueCertificate(user, uem.CertRequest{})
		d := f.NewCertDevice(user, &cert)
		Expect(d.Connect(f.Ctx())).To(Succeed())

		f.RevokeCertificate(ic.Serial)
		crls, err := f.Gateway().CRLs(f.Ctx())
		Expect(err).NotTo(HaveOccurred())
		Expect(crls).To(HaveLen(1))
		Expect(crls[0].URL).To(Equal(f.DeviceCA().CRLURL))
		n, err := f.Gateway().PurgeCRL(f.Ctx(), crls[0].ID)
		Expect(err).NotTo(HaveOccurred())
		Expect(n.Count).To(Equal(1))

		_, err = d.Sync(f.Ctx())
		Expect(err).To(MatchError(device.ErrBlocked))
		Expect(d.Last().HTTPStatus).To(Equal(403))
	})

	fw.It("refuses a certificate the CA revoked once its published CRL names it, and only that one", fw.IDs("DA-08", "DA-09"), fw.Conformance(fw.FeatureDeviceAuth), func() {
		fw.RequireLocalCRL()
		f.UseIdentityCertificates()
		user := f.NewUser()
		cert, ic := f.IssueCertificate(user, uem.CertRequest{})
		other, _ := f.IssueCertificate(user, uem.CertRequest{})
		d, kept := f.NewCertDevice(user, &cert), f.NewCertDevice(user, &other)
		Expect(d.Connect(f.Ctx())).To(Succeed())
		Expect(kept.Connect(f.Ctx())).To(Succeed())

		f.RevokeCertificate(ic.Serial)
		// The CRL fetched before is current for fw.CRLValidity; the next
		// one, fetched over HTTP from the CA, names the certificate.
		Eventually(func() error { _, err := d.Sync(f.Ctx()); return err }).Should(MatchError(device.ErrBlocked))
		Expect(d.Last().HTTPStatus).To(Equal(403))
		_, err := kept.Sync(f.Ctx())
		Expect(err).NotTo(HaveOccurred(), "a certificate the CRL does not name still syncs")
	})

	fw.It("without CRL checking a revoked certificate is still accepted", fw.IDs("DA-08"), fw.Conformance(fw.FeatureDeviceAuth), func() {
		da := f.IdentityCertificates()
		da.CheckCRL = false
		f.UseDeviceAuth(da)
		user := f.NewUser()
		cert, ic := f.IssueCertificate(user, uem.CertRequest{})
		f.RevokeCertificate(ic.Serial)
		d := f.NewCertDevice(user, &cert)
		Expect(d.Connect(f.Ctx())).To(Succeed(), "the revocation is not looked at")
		// and a certificate from no trusted CA is still refused: the
		// gateway checks certificates.
		stranger := foreignCertificate(user + "@corp.example")
		Expect(f.NewCertDevice(user, &stranger).Provision(f.Ctx())).To(MatchError(device.ErrBlocked))
	})

	fw.It("accepts certificates of every CA concatenated into the one trusted upload, and no other", fw.IDs("DA-06", "DA-03"), fw.Conformance(fw.FeatureDeviceAuth), func() {
		partner := testca.New(GinkgoTB(), "Partner device CA", time.Now(), nil)
		da := f.IdentityCertificates()
		da.TrustedCertsPEM = partner.PEM() + da.TrustedCertsPEM
		f.UseDeviceAuth(da)
		user := f.NewUser()
		fromUEM, _ := f.IssueCertificate(user, uem.CertRequest{})
		fromPartner := partner.Client(GinkgoTB(), user+"@corp.example", user+"@corp.example")
		stranger := foreignCertificate(user + "@corp.example")
		Expect(f.NewCertDevice(user, &fromUEM).Connect(f.Ctx())).To(Succeed(), "the UEM's CA (second PEM block)")
		Expect(f.NewCertDevice(user, &fromPartner).Connect(f.Ctx())).To(Succeed(), "the partner CA (first PEM block)")
		Expect(f.NewCertDevice(user, &stranger).Provision(f.Ctx())).To(MatchError(device.ErrBlocked), "a CA not in the upload")
	})

	fw.It("tries the Certificate Field Mapping rows in order and falls to the next when a field is absent", fw.IDs("DA-11", "DA-12"), fw.Conformance(fw.FeatureDeviceAuth), func() {
		user := f.NewUser()
		cert, _ := f.IssueCertificate(user, uem.CertRequest{})

		da := f.IdentityCertificates()
		// The UEM's certificates carry no DNS name: the UPN row decides.
		da.FieldMapping = []uemapi.FieldMapping{{Target: "user_upn", Field: "dns_name"}, {Target: "user_upn", Field: "subject_alt_name_upn"}}
		f.UseDeviceAuth(da)
		Expect(f.NewCertDevice(user, &cert).Connect(f.Ctx())).To(Succeed(), "the absent DNS name is skipped")

		// The device URI (urn:uuid:…) is present: the first row wins and
		// names no user of the device, which is refused.
		da.FieldMapping = []uemapi.FieldMapping{{Target: "user_upn", Field: "uri"}, {Target: "user_upn", Field: "subject_alt_name_upn"}}
		f.UseDeviceAuth(da)
		d := f.NewCertDevice(user, &cert)
		Expect(d.Connect(f.Ctx())).NotTo(Succeed(), "the URI row came first")
		Expect(f.ReachedExchange(d)).To(BeFalse())
	})

	fw.It("in Pass Through mode a device needs no certificate; once the UEM sets Identity Certificate it does", fw.IDs("DA-01", "DA-05"), fw.Conformance(fw.FeatureDeviceAuth), func() {
		f.UseDeviceAuth(uemapi.DeviceAuth{Mode: uemapi.DeviceAuthPassThrough})
		user := f.NewUser()
		plain := f.NewDevice(user)
		Expect(plain.Connect(f.Ctx())).To(Succeed(), "Pass Through: the password goes to Exchange")
		p, ok := f.Partnership(plain)
		Expect(ok).To(BeTrue())
		Expect(p.User).To(Equal(user))

		f.UseIdentityCertificates()
		late := f.NewDevice(user)
		Expect(late.Provision(f.Ctx())).To(MatchError(device.ErrBlocked), "no certificate")
		Expect(f.ReachedExchange(late)).To(BeFalse())
	})

	fw.It("Group Certificate: a certificate of the trusted group CA plus the user's own password; the password still decides", fw.IDs("DA-02", "DA-01"), fw.Conformance(fw.FeatureDeviceAuth), func() {
		group := testca.New(GinkgoTB(), "Group certificate CA", time.Now(), nil)
		f.UseDeviceAuth(uemapi.DeviceAuth{Mode: uemapi.DeviceAuthGroupCert, TrustedCertsPEM: group.PEM()})
		groupCert := group.Client(GinkgoTB(), "all-devices")
		user := f.NewUser()

		d := f.NewCertDevice(user, &groupCert)
		Expect(d.Connect(f.Ctx())).To(Succeed(), "group certificate and the user's password")
		Expect(d.Messages()).NotTo(BeEmpty())

		noCert := f.NewCertDevice(user, nil)
		Expect(noCert.Provision(f.Ctx())).To(MatchError(device.ErrBlocked), "no group certificate")
		Expect(f.ReachedExchange(noCert)).To(BeFalse())

		wrong := f.NewCertDevice(user, &groupCert, func(c *device.Config) { c.Password = "not-" + user + "-pw" })
		Expect(wrong.Provision(f.Ctx())).NotTo(Succeed(), "the certificate does not replace the password")
		Expect(wrong.Last().HTTPStatus).To(Equal(401))
	})
})

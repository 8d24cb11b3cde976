package scenarios_test

import (
	"crypto/tls"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/internal/testca"
	"github.com/gatehouse-lab/gatehouse/lab"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

// foreignCertificate is a client certificate for upn from a CA the
// gateway does not trust.
func foreignCertificate(upn string) tls.Certificate {
	return testca.New(GinkgoTB(), "Somebody Else's CA", time.Now(), nil).Client(GinkgoTB(), upn, upn)
}

var _ = Describe("Device authentication with identity certificates", func() {
	f := fw.New(fw.WithLabConfig(func(c *lab.Config) { c.IdentityCerts = true }))

	fw.It("lets a device with the UEM's identity certificate sync, as the certificate's user", fw.IDs("DA-03", "DA-11"), fw.Conformance(fw.FeatureDeviceAuth), func() {
		user := f.NewUser()
		cert, ic := f.IssueCertificate(user, uem.CertRequest{})
		d := f.NewCertDevice(user, &cert)
		Expect(d.Connect(f.Ctx())).To(Succeed())
		Expect(d.Messages()).NotTo(BeEmpty())
		// The gateway reports the certificate's user under its one
		// normalised name (docs/security.md, Identity): the UPN's user part.
		a, err := f.Lab.UEM.FindAssociation(d.ID(), user)
		Expect(err).NotTo(HaveOccurred(), "the UEM knows the device as %s, the user of the certificate's UPN %s", user, ic.UPN)
		Expect(a.SyncStatus).To(Equal("Allowed"))
	})

	fw.It("refuses a device with no certificate, one from another CA, or an expired one", fw.IDs("DA-03"), fw.Conformance(fw.FeatureDeviceAuth), func() {
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
		user := f.NewUser()
		cert, ic := f.IssueCertificate(user, uem.CertRequest{})
		d := f.NewCertDevice(user, &cert)
		Expect(d.Connect(f.Ctx())).To(Succeed())

		_, err := f.Lab.UEM.RevokeCertificate(ic.Serial)
		Expect(err).NotTo(HaveOccurred())
		crls, err := f.Gateway().CRLs(f.Ctx())
		Expect(err).NotTo(HaveOccurred())
		Expect(crls).To(HaveLen(1))
		Expect(crls[0].URL).To(Equal(f.Lab.UEM.CA().CRLURL))
		n, err := f.Gateway().PurgeCRL(f.Ctx(), crls[0].ID)
		Expect(err).NotTo(HaveOccurred())
		Expect(n.Count).To(Equal(1))

		_, err = d.Sync(f.Ctx())
		Expect(err).To(MatchError(device.ErrBlocked))
		Expect(d.Last().HTTPStatus).To(Equal(403))
	})
})

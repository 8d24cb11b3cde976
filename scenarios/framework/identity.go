package framework

import (
	"crypto/tls"
	"fmt"

	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/lab"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
)

// WithLabConfig edits the local world's lab configuration (device
// authentication with identity certificates, Kerberos). Against another
// gateway such specs are skipped: the suite cannot wire a KDC, a DNS or
// a device CA into the bootstrap of a gateway it does not run.
func WithLabConfig(edit func(*lab.Config)) Option { return func(f *Framework) { f.labEdit = edit } }

// IssueCertificate has the UEM's CA issue an identity certificate for a
// new managed device of user (or per req).
func (f *Framework) IssueCertificate(user string, req uem.CertRequest) (tls.Certificate, uem.IssuedCert) {
	c, ic, err := f.Lab.IssueCertificate(user, req)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	return c, ic
}

// NewCertDevice is NewDevice for a device presenting cert (nil: none)
// in its TLS handshakes.
func (f *Framework) NewCertDevice(user string, cert *tls.Certificate, opts ...func(*device.Config)) *device.Device {
	cfg := device.Config{ID: fmt.Sprintf("GH%s%04d", runNonce, deviceSeq.Add(1)), User: user}
	for _, o := range opts {
		o(&cfg)
	}
	d, err := f.Lab.NewCertDevice(cfg, cert)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	return d
}

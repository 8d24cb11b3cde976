package framework

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/lab"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// WithLabConfig edits the local world's lab configuration (Kerberos with
// the lab's own DNS, audit on). Against another gateway such specs are
// skipped: the suite cannot wire a DNS server or a bootstrap setting into
// a gateway it does not run. Device authentication and Kerberos
// delegation need no lab edit: the UEM delivers them
// (UseIdentityCertificates, package scenarios' Kerberos helpers).
func WithLabConfig(edit func(*lab.Config)) Option { return func(f *Framework) { f.labEdit = edit } }

// deviceCA is what the UEM offers for device certificates: the
// in-process server and the admin client both have it.
type deviceCA interface {
	CA(ctx context.Context) (uem.CAInfo, error)
	IssueDeviceCertificate(ctx context.Context, req uem.CertRequest) (uem.IssuedCert, error)
	RevokeCertificate(ctx context.Context, serial string) (uem.IssuedCert, error)
}

func (u inProcessUEM) CA(context.Context) (uem.CAInfo, error) { return u.s.CA(), nil }

func (u inProcessUEM) IssueDeviceCertificate(_ context.Context, req uem.CertRequest) (uem.IssuedCert, error) {
	return u.s.IssueDeviceCertificate(req)
}

func (u inProcessUEM) RevokeCertificate(_ context.Context, serial string) (uem.IssuedCert, error) {
	return u.s.RevokeCertificate(serial)
}

func (f *Framework) deviceCA() deviceCA {
	ca, ok := f.UEM.(deviceCA)
	gomega.Expect(ok).To(gomega.BeTrue(), "the UEM client offers the device CA")
	return ca
}

// DeviceCA describes the UEM's device CA: its certificate (the trusted
// certificate an administrator uploads, DA-03) and its CRL URL (DA-09).
func (f *Framework) DeviceCA() uem.CAInfo {
	info, err := f.deviceCA().CA(f.Ctx())
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "reading the UEM's device CA")
	return info
}

// IdentityCertificates is Identity Certificate device authentication
// trusting the UEM's device CA and checking its CRL (DA-03, DA-08). With
// remote fakes the CRL is not checked: a UEM in a container publishes it
// on its own loopback address, which the gateway cannot reach.
func (f *Framework) IdentityCertificates() uemapi.DeviceAuth {
	return uemapi.DeviceAuth{Mode: uemapi.DeviceAuthIdentity, TrustedCertsPEM: f.DeviceCA().CertPEM, CheckCRL: !RemoteFakes()}
}

// RequireLocalCRL skips a spec that needs the UEM's CRL: with remote fakes
// the gateway cannot reach it, and its NextUpdate is the container's.
func RequireLocalCRL() {
	if RemoteFakes() {
		ginkgo.Skip("needs the UEM's CRL, published on the container's loopback address with remote fakes")
	}
}

// UseDeviceAuth has the UEM set the gateway's device authentication for
// the spec (put back after it), waiting until the gateway took it.
func (f *Framework) UseDeviceAuth(da uemapi.DeviceAuth) {
	f.EditGatewayConfig(func(gc *uemapi.GatewayConfig) { gc.DeviceAuth = da })
}

// UseIdentityCertificates is UseDeviceAuth(IdentityCertificates()).
func (f *Framework) UseIdentityCertificates() { f.UseDeviceAuth(f.IdentityCertificates()) }

// IssueCertificate registers a managed device for user at the UEM
// (unless req names one) and has the UEM's CA issue its identity
// certificate, with the user's UPN and the device UUID in it.
func (f *Framework) IssueCertificate(user string, req uem.CertRequest) (tls.Certificate, uem.IssuedCert) {
	if req.DeviceUUID == "" {
		req.DeviceUUID = "cert-" + f.FreshDeviceID()
		_, err := f.UEM.AddDevice(f.Ctx(), uem.Device{UUID: req.DeviceUUID, UserID: user, Platform: "iOS", Model: "iPhone"})
		gomega.Expect(err).NotTo(gomega.HaveOccurred(), "registering a device for %s", user)
	}
	ic, err := f.deviceCA().IssueDeviceCertificate(f.Ctx(), req)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	c, err := tls.X509KeyPair([]byte(ic.CertPEM), []byte(ic.KeyPEM))
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	return c, ic
}

// RevokeCertificate has the UEM's CA revoke a certificate; its next CRL
// names it (within CRLValidity).
func (f *Framework) RevokeCertificate(serial string) {
	_, err := f.deviceCA().RevokeCertificate(f.Ctx(), serial)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
}

// NewCertDevice is NewDevice for a device presenting cert (nil: none)
// in its TLS handshakes, with its own connections.
func (f *Framework) NewCertDevice(user string, cert *tls.Certificate, opts ...func(*device.Config)) *device.Device {
	cfg := device.Config{ID: fmt.Sprintf("GH%s%04d", runNonce, deviceSeq.Add(1)), User: user}
	for _, o := range opts {
		o(&cfg)
	}
	for _, u := range f.w.Users() {
		if u.Name == cfg.User {
			if cfg.Password == "" {
				cfg.Password = u.Password
			}
			if cfg.Email == "" {
				cfg.Email = u.Email
			}
		}
	}
	tc := &tls.Config{InsecureSkipVerify: true} //nolint:gosec // test worlds use throwaway certificates
	if cert != nil {
		tc.Certificates = []tls.Certificate{*cert}
	}
	hc := &http.Client{Timeout: f.HTTPClient().Timeout, Transport: &http.Transport{TLSClientConfig: tc, MaxIdleConnsPerHost: 4}}
	d, err := device.New(cfg, f.DeviceURL(), hc)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	f.attachOnFailure(d)
	return d
}

package uem

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// CRLPath is where the CA's CRL is published on the CRL listener (plain
// HTTP, as CRL distribution points usually are: a CRL is signed).
const CRLPath = "/ca/device-ca.crl"

// CertRequest asks the UEM's CA for a device identity certificate, as a
// SCEP enrolment of the device would.
type CertRequest struct {
	DeviceUUID string `json:"device_uuid"`
	// ValidFor is the validity from now, 24 h when zero; NotBefore and
	// NotAfter, when set, replace it (expired certificates for tests).
	ValidFor  time.Duration `json:"valid_for,omitempty"`
	NotBefore time.Time     `json:"not_before,omitzero"`
	NotAfter  time.Time     `json:"not_after,omitzero"`
}

// IssuedCert is a device identity certificate and its key, PEM-encoded.
type IssuedCert struct {
	Serial     string    `json:"serial"`
	DeviceUUID string    `json:"device_uuid"`
	UPN        string    `json:"upn"`
	CertPEM    string    `json:"cert_pem"`
	KeyPEM     string    `json:"key_pem"`
	CAPEM      string    `json:"ca_pem"`
	NotAfter   time.Time `json:"not_after"`
	Revoked    bool      `json:"revoked"`
}

// CAInfo describes the device CA: its certificate (what an administrator
// uploads as the gateway's trusted device-authentication certificate,
// DA-03) and where its CRL is published (DA-09).
type CAInfo struct {
	CertPEM string `json:"cert_pem"`
	CRLURL  string `json:"crl_url"`
	Issued  int    `json:"issued"`
	Revoked int    `json:"revoked"`
}

// deviceCA is the UEM's local CA for device identity certificates: the
// subject alternative names carry the user's UPN (Microsoft's UPN
// other-name), e-mail and the UEM device UUID (urn:uuid:…), and every
// certificate names the CRL distribution point.
type deviceCA struct {
	now      func() time.Time
	validity time.Duration // of a published CRL (its NextUpdate)

	mu      sync.Mutex
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	next    int64
	crlNum  int64
	issued  map[string]*IssuedCert // by serial
	revoked []x509.RevocationListEntry
	crlURL  string
}

func newDeviceCA(now func() time.Time, validity time.Duration) (*deviceCA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("uem: CA key: %w", err)
	}
	t := now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "gatehouse fake UEM device CA", Organization: []string{"gatehouse"}},
		NotBefore: t.Add(-time.Hour), NotAfter: t.Add(10 * 365 * 24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("uem: CA certificate: %w", err)
	}
	c, _ := x509.ParseCertificate(der)
	return &deviceCA{now: now, validity: validity, cert: c, key: key, next: 1000, issued: map[string]*IssuedCert{}}, nil
}

func (ca *deviceCA) certPEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw}))
}

// oidUPN is Microsoft's User Principal Name other-name.
var oidUPN = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 20, 2, 3}

// subjectAltName encodes the UPN other-name, the e-mail and the device
// URI; crypto/x509 cannot write other-names itself.
func subjectAltName(upn, email string, uri *url.URL) ([]byte, error) {
	var names []byte
	add := func(v asn1.RawValue) error {
		b, err := asn1.Marshal(v)
		names = append(names, b...)
		return err
	}
	utf8, err := asn1.MarshalWithParams(upn, "utf8")
	if err != nil {
		return nil, err
	}
	val, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: utf8})
	oid, _ := asn1.Marshal(oidUPN)
	if err := add(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: append(oid, val...)}); err != nil {
		return nil, err
	}
	if email != "" {
		if err := add(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 1, Bytes: []byte(email)}); err != nil {
			return nil, err
		}
	}
	if err := add(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 6, Bytes: []byte(uri.String())}); err != nil {
		return nil, err
	}
	return asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: names})
}

func (ca *deviceCA) issue(d Device, u User, req CertRequest) (IssuedCert, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return IssuedCert{}, err
	}
	t := ca.now()
	nb, na := req.NotBefore, req.NotAfter
	if nb.IsZero() {
		nb = t.Add(-5 * time.Minute)
	}
	if na.IsZero() {
		v := req.ValidFor
		if v <= 0 {
			v = 24 * time.Hour
		}
		na = t.Add(v)
	}
	if !na.After(nb) {
		return IssuedCert{}, uemapi.Errorf(uemapi.CodeInvalidField, "not_after must be after not_before")
	}
	san, err := subjectAltName(u.UPN, u.Email, &url.URL{Scheme: "urn", Opaque: "uuid:" + d.UUID})
	if err != nil {
		return IssuedCert{}, fmt.Errorf("uem: subject alternative name: %w", err)
	}
	ca.mu.Lock()
	defer ca.mu.Unlock()
	ca.next++
	serial := big.NewInt(ca.next)
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: u.UPN, OrganizationalUnit: []string{"devices"}},
		NotBefore: nb, NotAfter: na, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, CRLDistributionPoints: []string{ca.crlURL},
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 17}, Value: san}}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return IssuedCert{}, fmt.Errorf("uem: device certificate: %w", err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return IssuedCert{}, err
	}
	ic := &IssuedCert{Serial: serial.String(), DeviceUUID: d.UUID, UPN: u.UPN, NotAfter: na, CAPEM: ca.certPEM(),
		CertPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		KeyPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}))}
	ca.issued[ic.Serial] = ic
	return *ic, nil
}

func (ca *deviceCA) revoke(serial string) (IssuedCert, error) {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	ic, ok := ca.issued[serial]
	if !ok {
		return IssuedCert{}, uemapi.Errorf(uemapi.CodeNotFound, "no certificate with serial %q", serial)
	}
	if !ic.Revoked {
		n, _ := strconv.ParseInt(serial, 10, 64)
		ca.revoked = append(ca.revoked, x509.RevocationListEntry{SerialNumber: big.NewInt(n), RevocationTime: ca.now(), ReasonCode: 1})
		ic.Revoked = true
	}
	return *ic, nil
}

// crl signs the current list; each publication has a new number.
func (ca *deviceCA) crl() ([]byte, error) {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	ca.crlNum++
	t := ca.now()
	return x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(ca.crlNum), ThisUpdate: t.Add(-time.Second),
		NextUpdate: t.Add(ca.validity), RevokedCertificateEntries: append([]x509.RevocationListEntry(nil), ca.revoked...)}, ca.cert, ca.key)
}

func (ca *deviceCA) info() CAInfo {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	return CAInfo{CertPEM: ca.certPEM(), CRLURL: ca.crlURL, Issued: len(ca.issued), Revoked: len(ca.revoked)}
}

// serveCRL publishes the CRL (DER, application/pkix-crl).
func (ca *deviceCA) serveCRL(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != CRLPath {
		http.NotFound(w, r)
		return
	}
	der, err := ca.crl()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/pkix-crl")
	w.Write(der)
}

// IssueDeviceCertificate issues an identity certificate for a registered
// device, naming its user's UPN and e-mail and the device UUID in the
// subject alternative names. The CRL listener must be started (Start)
// so the certificate can name its distribution point.
func (s *Server) IssueDeviceCertificate(req CertRequest) (IssuedCert, error) {
	d, err := s.Device(req.DeviceUUID)
	if err != nil {
		return IssuedCert{}, err
	}
	u, err := s.User(d.UserID)
	if err != nil {
		return IssuedCert{}, err
	}
	if s.ca.info().CRLURL == "" {
		return IssuedCert{}, errors.New("uem: start the server before issuing certificates (the CRL URL is not known yet)")
	}
	return s.ca.issue(d, u, req)
}

// RevokeCertificate revokes a certificate the CA issued; the next CRL
// download lists it.
func (s *Server) RevokeCertificate(serial string) (IssuedCert, error) { return s.ca.revoke(serial) }

// CA describes the device CA.
func (s *Server) CA() CAInfo { return s.ca.info() }

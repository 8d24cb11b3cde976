// Package testca makes throwaway certificate authorities, and the
// certificates they sign, for tests: P-256 keys, and each certificate
// valid for as long as its CA unless its template says otherwise.
package testca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"
)

// CA is a certificate authority: its certificate and signing key.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
}

// New makes a CA named cn, valid from an hour before now to an hour
// after, with no extended key usage (as device CAs are). parent, if not
// nil, signs it (an intermediate); otherwise it signs itself.
func New(tb testing.TB, cn string, now time.Time, parent *CA) *CA {
	tb.Helper()
	key := newKey(tb)
	tmpl := &x509.Certificate{SerialNumber: serial(tb), Subject: pkix.Name{CommonName: cn},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	signer, signKey := tmpl, key
	if parent != nil {
		signer, signKey = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signKey)
	if err != nil {
		tb.Fatalf("testca: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatalf("testca: %v", err)
	}
	return &CA{Cert: cert, Key: key}
}

// Pool returns a certificate pool holding the CA alone.
func (c *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.Cert)
	return p
}

// PEM returns the CA's certificate in PEM form, as trust bundles take it.
func (c *CA) PEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw}))
}

// Sign issues tmpl with a fresh key. A nil serial number gets a new one;
// a zero validity gets the CA's.
func (c *CA) Sign(tb testing.TB, tmpl *x509.Certificate) tls.Certificate {
	tb.Helper()
	if tmpl.SerialNumber == nil {
		tmpl.SerialNumber = serial(tb)
	}
	if tmpl.NotBefore.IsZero() && tmpl.NotAfter.IsZero() {
		tmpl.NotBefore, tmpl.NotAfter = c.Cert.NotBefore, c.Cert.NotAfter
	}
	key := newKey(tb)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.Cert, &key.PublicKey, c.Key)
	if err != nil {
		tb.Fatalf("testca: %v", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatalf("testca: %v", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// Server issues a server certificate for the DNS names (the first is
// also the common name).
func (c *CA) Server(tb testing.TB, names ...string) tls.Certificate {
	tb.Helper()
	return c.Sign(tb, &x509.Certificate{Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
}

// Client issues a client certificate named cn with the e-mail addresses
// in its subjectAltName.
func (c *CA) Client(tb testing.TB, cn string, emails ...string) tls.Certificate {
	tb.Helper()
	return c.Sign(tb, &x509.Certificate{Subject: pkix.Name{CommonName: cn}, EmailAddresses: emails,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
}

func newKey(tb testing.TB) *ecdsa.PrivateKey {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatalf("testca: %v", err)
	}
	return key
}

// serial is random, as RFC 5280 recommends, so certificates never share one.
func serial(tb testing.TB) *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		tb.Fatalf("testca: %v", err)
	}
	return n
}

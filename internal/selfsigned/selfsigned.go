// Package selfsigned makes the self-signed certificates that gatehouse's
// servers use when none is configured: valid for localhost and the
// loopback addresses, ECDSA P-256, one year.
package selfsigned

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Generate returns a new self-signed certificate named cn, valid from now.
func Generate(cn string, now time.Time) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"gatehouse"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// LoadOrCreate returns the certificate kept in dir as cert.pem and
// key.pem, generating and writing it the first time, so that a server's
// certificate stays the same across restarts.
func LoadOrCreate(dir, cn string, now time.Time) (tls.Certificate, error) {
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	c, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return tls.Certificate{}, fmt.Errorf("selfsigned: %w", err)
	}
	c, err = Generate(cn, now)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("selfsigned: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(c.PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("selfsigned: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return tls.Certificate{}, fmt.Errorf("selfsigned: %w", err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return tls.Certificate{}, fmt.Errorf("selfsigned: %w", err)
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}), 0o644); err != nil {
		return tls.Certificate{}, fmt.Errorf("selfsigned: %w", err)
	}
	return c, nil
}

// ServerCert is the certificate a server uses: the one given, else the
// pair in certFile and keyFile, else a new self-signed one named cn.
func ServerCert(given *tls.Certificate, certFile, keyFile, cn string, now time.Time) (tls.Certificate, error) {
	switch {
	case given != nil:
		return *given, nil
	case certFile != "":
		return tls.LoadX509KeyPair(certFile, keyFile)
	}
	return Generate(cn, now)
}

// Pool returns a certificate pool trusting c, for clients of a server
// that uses it.
func Pool(c tls.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	if c.Leaf != nil {
		p.AddCert(c.Leaf)
	} else if leaf, err := x509.ParseCertificate(c.Certificate[0]); err == nil {
		p.AddCert(leaf)
	}
	return p
}

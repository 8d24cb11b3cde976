package upstream

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
)

// ServerTLS is the client TLS configuration for one server at host (as
// the server list writes it), from base.
//
// crypto/tls sends the Server Name Indication whenever ServerName is a
// host name, and verifies the certificate against ServerName. With sni
// (TLS-07's Enable SNI) ServerName is the host; without it ServerName
// stays empty, so no SNI leaves the gateway, and when base verifies
// certificates, VerifyConnection does the same x509 verification against
// host that crypto/tls would have done (TLS-05 hostname verification).
// A ServerName already set in base is kept (and sent) as it is.
func ServerTLS(base *tls.Config, host string, sni bool) *tls.Config {
	cfg := base.Clone()
	if cfg.ServerName != "" {
		return cfg
	}
	if sni {
		cfg.ServerName = host
		return cfg
	}
	if cfg.InsecureSkipVerify {
		return cfg // Strict TLS off: nothing to verify
	}
	roots, next := base.RootCAs, base.VerifyConnection
	cfg.InsecureSkipVerify = true //nolint:gosec // verified in VerifyConnection below, without SNI
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if err := verifyServer(cs.PeerCertificates, roots, host); err != nil {
			return err
		}
		if next != nil {
			return next(cs)
		}
		return nil
	}
	return cfg
}

// verifyServer checks a server's chain against roots (the system's when
// nil) and host, the way crypto/tls does for a ServerName.
func verifyServer(chain []*x509.Certificate, roots *x509.CertPool, host string) error {
	if len(chain) == 0 {
		return errors.New("upstream: server sent no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: host})
	var he x509.HostnameError
	if errors.As(err, &he) {
		// The product's wording (TLS-05), naming what the certificate covers.
		names := he.Certificate.DNSNames
		if len(names) == 0 {
			names = []string{he.Certificate.Subject.CommonName}
		}
		return fmt.Errorf("server name mismatch, certificate issued to: [%s]: %w", strings.Join(names, ", "), err)
	}
	if err != nil {
		return fmt.Errorf("upstream: certificate of %s: %w", host, err)
	}
	return nil
}

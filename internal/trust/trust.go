// Package trust builds the TLS client side gatehouse uses towards its
// peers (UEM, Exchange, the admin API): TLS 1.2 or later, verified
// against the system roots or a CA file, with verification off only on
// request.
package trust

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// Pool reads the PEM certificates of file into a pool; a file with none
// is an error, so that a wrong path or format is not taken for "trust
// nothing".
func Pool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", file)
	}
	return pool, nil
}

// Client is the client TLS configuration trusting caFile's certificates
// (the system roots when caFile is empty). insecure skips verification,
// for labs that opt in.
func Client(caFile string, insecure bool) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecure} //nolint:gosec // opt-in for labs
	if caFile == "" {
		return c, nil
	}
	pool, err := Pool(caFile)
	if err != nil {
		return nil, err
	}
	c.RootCAs = pool
	return c, nil
}

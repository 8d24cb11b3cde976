package selfsigned

import (
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"
)

func TestLoadOrCreateKeepsTheCertificate(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	a, err := LoadOrCreate(dir, "gw", now)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadOrCreate(dir, "gw", now)
	if err != nil {
		t.Fatal(err)
	}
	if string(a.Certificate[0]) != string(b.Certificate[0]) {
		t.Fatal("a second start generated a new certificate")
	}
	leaf, _ := x509.ParseCertificate(a.Certificate[0])
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: Pool(b), DNSName: "localhost", CurrentTime: now}); err != nil {
		t.Fatalf("certificate does not verify for localhost: %v", err)
	}
	if err := leaf.VerifyHostname("127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	var _ tls.Certificate = b
}

// ServerCert prefers the certificate given, then the files, then makes one.
func TestServerCertOrder(t *testing.T) {
	now := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	onDisk, err := LoadOrCreate(dir, "on disk", now)
	if err != nil {
		t.Fatal(err)
	}
	given, _ := Generate("given", now)
	cn := func(c tls.Certificate, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		leaf, err := x509.ParseCertificate(c.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		return leaf.Subject.CommonName
	}
	certFile, keyFile := dir+"/cert.pem", dir+"/key.pem"
	if got := cn(ServerCert(&given, certFile, keyFile, "new", now)); got != "given" {
		t.Errorf("with a certificate given: %s", got)
	}
	if got := cn(ServerCert(nil, certFile, keyFile, "new", now)); got != "on disk" || cn(onDisk, nil) != "on disk" {
		t.Errorf("with files: %s", got)
	}
	if got := cn(ServerCert(nil, "", "", "new", now)); got != "new" {
		t.Errorf("with nothing: %s", got)
	}
	if _, err := ServerCert(nil, dir+"/missing.pem", keyFile, "new", now); err == nil {
		t.Error("a missing certificate file was not an error")
	}
}

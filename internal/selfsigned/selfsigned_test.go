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

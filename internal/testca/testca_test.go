package testca

import (
	"crypto/x509"
	"testing"
	"time"
)

func TestIssuedCertificatesVerify(t *testing.T) {
	now := time.Now()
	root := New(t, "Root", now, nil)
	inter := New(t, "Intermediate", now, root)
	inters := x509.NewCertPool()
	inters.AddCert(inter.Cert)

	srv := inter.Server(t, "localhost", "gw.example")
	if _, err := srv.Leaf.Verify(x509.VerifyOptions{Roots: root.Pool(), Intermediates: inters, DNSName: "gw.example",
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		t.Fatalf("server certificate: %v", err)
	}
	cli := root.Client(t, "alice", "alice@corp.example")
	if _, err := cli.Leaf.Verify(x509.VerifyOptions{Roots: root.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatalf("client certificate: %v", err)
	}
	if got := cli.Leaf.EmailAddresses; len(got) != 1 || got[0] != "alice@corp.example" {
		t.Fatalf("client e-mail %q", got)
	}
	if _, err := cli.Leaf.Verify(x509.VerifyOptions{Roots: New(t, "Other", now, nil).Pool(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err == nil {
		t.Fatal("a certificate verified against another CA")
	}
	if srv.Leaf.SerialNumber.Cmp(cli.Leaf.SerialNumber) == 0 {
		t.Fatal("two certificates share a serial number")
	}
}

func TestSignKeepsAnExplicitValidity(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	ca := New(t, "CA", now, nil)
	if !ca.Cert.NotBefore.Equal(now.Add(-time.Hour)) || !ca.Cert.NotAfter.Equal(now.Add(time.Hour)) {
		t.Fatalf("CA valid %v to %v", ca.Cert.NotBefore, ca.Cert.NotAfter)
	}
	expired := ca.Sign(t, &x509.Certificate{NotBefore: now.Add(-time.Hour), NotAfter: now.Add(-time.Minute)})
	if !expired.Leaf.NotAfter.Equal(now.Add(-time.Minute)) {
		t.Fatalf("explicit NotAfter lost: %v", expired.Leaf.NotAfter)
	}
	inherited := ca.Sign(t, &x509.Certificate{})
	if !inherited.Leaf.NotAfter.Equal(ca.Cert.NotAfter) {
		t.Fatalf("zero validity not the CA's: %v", inherited.Leaf.NotAfter)
	}
}

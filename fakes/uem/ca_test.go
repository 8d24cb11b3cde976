package uem

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

func caSeed() *Seed {
	return &Seed{
		Users:   []User{{ID: "alice", UPN: "alice@corp.example", Email: "alice.mail@corp.example", MailboxID: "mbx-alice"}},
		Devices: []Device{{UUID: "0f8fad5b-d9cb-469f-a165-70867728950e", UserID: "alice", Platform: "iOS"}},
	}
}

func parseCert(t *testing.T, p string) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode([]byte(p))
	if b == nil {
		t.Fatalf("no PEM in %q", p)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func fetchCRL(t *testing.T, u string, ca *x509.Certificate) *x509.RevocationList {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	der, _ := io.ReadAll(resp.Body)
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatalf("CRL at %s: %v", u, err)
	}
	if err := crl.CheckSignatureFrom(ca); err != nil {
		t.Fatalf("CRL not signed by the CA: %v", err)
	}
	return crl
}

func TestDA03_CAIssuesDeviceIdentityCertificatesNamingUserAndDevice(t *testing.T) {
	srv := startUEM(t, Config{Seed: caSeed()})
	const uuid = "0f8fad5b-d9cb-469f-a165-70867728950e"
	ic, err := srv.IssueDeviceCertificate(CertRequest{DeviceUUID: uuid})
	if err != nil {
		t.Fatal(err)
	}
	cert, ca := parseCert(t, ic.CertPEM), parseCert(t, srv.CA().CertPEM)
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatalf("the certificate does not chain to the CA: %v", err)
	}
	if len(cert.URIs) != 1 || cert.URIs[0].String() != "urn:uuid:"+uuid {
		t.Fatalf("URIs %v, want the device UUID", cert.URIs)
	}
	if len(cert.EmailAddresses) != 1 || cert.EmailAddresses[0] != "alice.mail@corp.example" {
		t.Fatalf("e-mail %v", cert.EmailAddresses)
	}
	if !bytes.Contains(cert.Raw, []byte("alice@corp.example")) || cert.Subject.CommonName != "alice@corp.example" || ic.UPN != "alice@corp.example" {
		t.Fatalf("the UPN is not in the certificate: CN %q", cert.Subject.CommonName)
	}
	if len(cert.CRLDistributionPoints) != 1 || cert.CRLDistributionPoints[0] != srv.CA().CRLURL {
		t.Fatalf("CDP %v, want %s", cert.CRLDistributionPoints, srv.CA().CRLURL)
	}
	if _, err := tls.X509KeyPair([]byte(ic.CertPEM), []byte(ic.KeyPEM)); err != nil {
		t.Fatalf("certificate and key do not pair: %v", err)
	}
	if _, err := srv.IssueDeviceCertificate(CertRequest{DeviceUUID: "nope"}); !uemapi.IsCode(err, uemapi.CodeNotFound) {
		t.Fatalf("unknown device: %v", err)
	}
	past := time.Now().Add(-48 * time.Hour)
	old, err := srv.IssueDeviceCertificate(CertRequest{DeviceUUID: uuid, NotBefore: past, NotAfter: past.Add(time.Hour)})
	if err != nil || !parseCert(t, old.CertPEM).NotAfter.Before(time.Now()) {
		t.Fatalf("expired certificate: %+v %v", old, err)
	}
}

func TestDA09_RevocationIsPublishedInTheCRL(t *testing.T) {
	srv := startUEM(t, Config{Seed: caSeed()})
	hc := trustingClient(srv)
	// Through the admin API, as scenarios do.
	post := func(path string, body any, out any) int {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, srv.AdminURL()+AdminPrefix+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+srv.AdminToken())
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		json.NewDecoder(resp.Body).Decode(out)
		return resp.StatusCode
	}
	var ic IssuedCert
	if code := post("/devices/0f8fad5b-d9cb-469f-a165-70867728950e/certificate", CertRequest{}, &ic); code != http.StatusCreated || ic.Serial == "" {
		t.Fatalf("issue: HTTP %d %+v", code, ic)
	}
	ca := parseCert(t, srv.CA().CertPEM)
	if crl := fetchCRL(t, srv.CA().CRLURL, ca); len(crl.RevokedCertificateEntries) != 0 || !crl.NextUpdate.After(time.Now().Add(50*time.Minute)) {
		t.Fatalf("fresh CRL: %d revoked, next update %v", len(crl.RevokedCertificateEntries), crl.NextUpdate)
	}
	var rv IssuedCert
	if code := post("/certificates/"+ic.Serial+"/revoke", nil, &rv); code != http.StatusOK || !rv.Revoked {
		t.Fatalf("revoke: HTTP %d %+v", code, rv)
	}
	crl := fetchCRL(t, srv.CA().CRLURL, ca)
	if len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.String() != ic.Serial {
		t.Fatalf("CRL after the revocation: %+v", crl.RevokedCertificateEntries)
	}
	if code := post("/certificates/999999/revoke", nil, &rv); code != http.StatusNotFound {
		t.Fatalf("revoking an unknown serial: HTTP %d", code)
	}
	if srv.CA().Revoked != 1 || srv.CA().Issued != 1 {
		t.Fatalf("CA info %+v", srv.CA())
	}
}

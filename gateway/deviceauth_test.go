package gateway_test

// Device authentication end to end over real TLS on loopback (issue 11):
// the fake UEM is the CA that issues device identity certificates,
// revokes them and publishes the CRL; the gateway asks devices for their
// certificate in the TLS handshake and decides on it.

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/gateway"
	"github.com/gatehouse-lab/gatehouse/internal/testca"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// deviceClient presents cert (none when empty) in the TLS handshake and
// connects from local (the system's choice when empty).
func deviceClient(cert *tls.Certificate, local string) *http.Client {
	tc := &tls.Config{InsecureSkipVerify: true} //nolint:gosec // test gateway certificate
	if cert != nil {
		tc.Certificates = []tls.Certificate{*cert}
	}
	d := &net.Dialer{Timeout: 5 * time.Second}
	if local != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(local)}
	}
	return &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: tc, DialContext: d.DialContext, DisableKeepAlives: true}}
}

// uemCert asks the world's UEM for an identity certificate of dev-alice.
func uemCert(t *testing.T, w *world, req uem.CertRequest) (*tls.Certificate, uem.IssuedCert) {
	t.Helper()
	req.DeviceUUID = "dev-alice"
	ic, err := w.uem.IssueDeviceCertificate(req)
	if err != nil {
		t.Fatal(err)
	}
	c, err := tls.X509KeyPair([]byte(ic.CertPEM), []byte(ic.KeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	return &c, ic
}

func TestDA03_IdentityCertificateModeOverTLS(t *testing.T) {
	// DA-03, DA-06 (a bundle of two roots), DA-08/09 (CRL from the UEM's
	// distribution point), DA-10 (purge), DA-11 (first row with data wins).
	other := testca.New(t, "Device CA", time.Now(), nil) // the second root of the bundle
	w := newWorld(t, func(w *world) {
		w.gwConfig = func(gc *uemapi.GatewayConfig) {
			gc.DeviceAuth = uemapi.DeviceAuth{Mode: uemapi.DeviceAuthIdentity, CheckCRL: true,
				TrustedCertsPEM: other.PEM() + w.uem.CA().CertPEM,
				FieldMapping: []uemapi.FieldMapping{{Target: "user_upn", Field: "dns_name"}, // absent: next row
					{Target: "user_upn", Field: "subject_alt_name_upn"}, {Target: "user_upn", Field: "rfc822_name"}}}
		}
	})
	ctx := context.Background()
	good, ic := uemCert(t, w, uem.CertRequest{})
	w.dev = deviceClient(good, "")
	w.provision("ALICEPHONE", "alice")
	if code, st := w.device("ALICEPHONE", "alice", eas.CmdFolderSync); code != http.StatusOK || st != "1" {
		t.Fatalf("UEM-issued certificate: HTTP %d %q", code, st)
	}
	// The UPN other-name won over the e-mail (alice@corp.example in both
	// the seed's UPN and e-mail, so check the mapping picked a row at all).
	if rows, _ := w.adm.ByUser(ctx, ic.UPN); len(rows) != 1 {
		t.Fatalf("cache rows for %s: %+v", ic.UPN, rows)
	}
	// The other root of the bundle is trusted too.
	fromOther := other.Client(t, "bob@corp.example", "bob@corp.example")
	w.dev = deviceClient(&fromOther, "")
	if code, _ := w.device("BOBPHONE", "bob", eas.CmdFolderSync); code == http.StatusForbidden {
		t.Fatal("a certificate from the bundle's other root was refused")
	}

	refused := map[string]*http.Client{"no certificate": deviceClient(nil, "")}
	stranger := testca.New(t, "Device CA", time.Now(), nil).Client(t, "alice@corp.example", "alice@corp.example")
	refused["wrong CA"] = deviceClient(&stranger, "")
	past := time.Now().Add(-72 * time.Hour)
	expired, _ := uemCert(t, w, uem.CertRequest{NotBefore: past, NotAfter: past.Add(time.Hour)})
	refused["expired"] = deviceClient(expired, "")
	for name, c := range refused {
		w.dev = c
		if code, _ := w.device("ALICEPHONE", "alice", eas.CmdFolderSync); code != http.StatusForbidden {
			t.Errorf("%s: HTTP %d, want 403", name, code)
		}
	}

	// Revoked at the UEM: the cached CRL is current until its NextUpdate
	// (an hour), so the device passes until the CRL cache is purged.
	if _, err := w.uem.RevokeCertificate(ic.Serial); err != nil {
		t.Fatal(err)
	}
	w.dev = deviceClient(good, "")
	if code, _ := w.device("ALICEPHONE", "alice", eas.CmdFolderSync); code != http.StatusOK {
		t.Fatalf("revoked but the cached CRL is current: HTTP %d, want 200", code)
	}
	crls, err := w.adm.CRLs(ctx)
	if err != nil || len(crls) != 1 || crls[0].URL != w.uem.CA().CRLURL || crls[0].Revoked != 0 {
		t.Fatalf("crl-cache list %+v %v", crls, err)
	}
	if n, err := w.adm.PurgeCRL(ctx, crls[0].ID); err != nil || n.Count != 1 {
		t.Fatalf("crl-cache purge %+v %v", n, err)
	}
	if code, _ := w.device("ALICEPHONE", "alice", eas.CmdFolderSync); code != http.StatusForbidden {
		t.Fatalf("revoked after the CRL refresh: HTTP %d, want 403", code)
	}
}

func TestDA08_CRLRefreshedWhenItsNextUpdatePasses(t *testing.T) {
	// The UEM publishes CRLs current for 2 s (CRL times have whole
	// seconds): a revocation takes effect at the gateway without any
	// purge once the cached CRL's NextUpdate has passed.
	w := newWorld(t, func(w *world) {
		w.crlValidity = 2 * time.Second
		w.gwConfig = func(gc *uemapi.GatewayConfig) {
			gc.DeviceAuth = uemapi.DeviceAuth{Mode: uemapi.DeviceAuthIdentity, CheckCRL: true, TrustedCertsPEM: w.uem.CA().CertPEM}
		}
	})
	cert, ic := uemCert(t, w, uem.CertRequest{})
	w.dev = deviceClient(cert, "")
	if code, _ := w.device("ALICEPHONE", "alice", eas.CmdFolderSync); code == http.StatusForbidden {
		t.Fatal("refused before the revocation")
	}
	if _, err := w.uem.RevokeCertificate(ic.Serial); err != nil {
		t.Fatal(err)
	}
	gomega.NewWithT(t).Eventually(func() bool {
		code, _ := w.device("ALICEPHONE", "alice", eas.CmdFolderSync)
		return code == http.StatusForbidden
	}).WithTimeout(20*time.Second).Should(gomega.BeTrue(), "the revocation to take effect")
}

func TestDA02_GroupCertificateModeOverTLS(t *testing.T) {
	group := testca.New(t, "Device CA", time.Now(), nil)
	w := newWorld(t, func(w *world) {
		w.gwConfig = func(gc *uemapi.GatewayConfig) {
			gc.DeviceAuth = uemapi.DeviceAuth{Mode: uemapi.DeviceAuthGroupCert, TrustedCertsPEM: group.PEM()}
		}
	})
	shared := group.Client(t, "all-phones@corp.example", "all-phones@corp.example")
	w.dev = deviceClient(&shared, "")
	// The group certificate admits the device; the user's own Basic
	// credentials name the user and go to the server (DA-02).
	w.provision("BOBPHONE", "bob")
	if code, st := w.device("BOBPHONE", "bob", eas.CmdFolderSync); code != http.StatusOK || st != "1" {
		t.Fatalf("group certificate: HTTP %d %q", code, st)
	}
	if rows, _ := w.adm.ByUser(context.Background(), "bob"); len(rows) != 1 {
		t.Fatalf("the user is the device's, not the certificate's: %+v", rows)
	}
	wrong := testca.New(t, "Device CA", time.Now(), nil).Client(t, "all-phones@corp.example", "all-phones@corp.example")
	for name, c := range map[string]*http.Client{"no certificate": deviceClient(nil, ""), "wrong CA": deviceClient(&wrong, "")} {
		w.dev = c
		if code, _ := w.device("BOBPHONE", "bob", eas.CmdFolderSync); code != http.StatusForbidden {
			t.Errorf("%s: HTTP %d, want 403", name, code)
		}
	}
}

func TestDA13_TrustedFrontEndOverTLS(t *testing.T) {
	// The front end (127.0.0.2) terminated the device's TLS and passes
	// the client certificate in a header; the same header from any other
	// address is refused.
	w := newWorld(t, func(w *world) {
		w.gwBoot = func(c *gateway.Config) { c.FrontEnds = []string{"127.0.0.2/32"} }
		w.gwConfig = func(gc *uemapi.GatewayConfig) {
			gc.DeviceAuth = uemapi.DeviceAuth{Mode: uemapi.DeviceAuthFrontEnd, TrustedCertsPEM: w.uem.CA().CertPEM,
				FieldMapping: []uemapi.FieldMapping{{Target: "user_upn", Field: "subject_alt_name_upn"}}}
		}
	})
	_, ic := uemCert(t, w, uem.CertRequest{})
	header := strings.ReplaceAll(ic.CertPEM, "\n", " ") // Apache's one-line form
	send := func(from string, withHeader bool) int {
		q := &eas.Query{Cmd: eas.CmdFolderSync, User: "alice", DeviceID: "ALICEPHONE", DeviceType: "iPhone"}
		req, _ := http.NewRequest(http.MethodPost, w.gw.DeviceURL()+"/Microsoft-Server-ActiveSync?"+q.Encode(false), nil)
		req.SetBasicAuth("alice", "alice-pw")
		req.Header.Set(eas.HeaderProtocolVersion, "14.1")
		if withHeader {
			req.Header.Set("SSL_CLIENT_CERT", header)
		}
		resp, err := deviceClient(nil, from).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := send("127.0.0.2", true); code == http.StatusForbidden {
		t.Fatal("the trusted front end's header was refused")
	}
	if rows, _ := w.adm.ByUser(context.Background(), "alice@corp.example"); len(rows) != 1 {
		t.Fatalf("the header's certificate did not name the user: %+v", rows)
	}
	if code := send("127.0.0.1", true); code != http.StatusForbidden {
		t.Fatalf("header from an untrusted front end: HTTP %d, want 403", code)
	}
	if code := send("127.0.0.2", false); code != http.StatusForbidden {
		t.Fatalf("front end without a certificate header: HTTP %d, want 403", code)
	}
}

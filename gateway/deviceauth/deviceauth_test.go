package deviceauth

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/internal/testca"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// upnSAN builds a subjectAltName with a UPN other-name and an e-mail.
func upnSAN(t *testing.T, upn, email string) pkix.Extension {
	t.Helper()
	utf8, _ := asn1.MarshalWithParams(upn, "utf8")
	val, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: utf8})
	oid, _ := asn1.Marshal(oidUPN)
	other, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: append(oid, val...)})
	mail, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 1, Bytes: []byte(email)})
	seq, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: append(other, mail...)})
	return pkix.Extension{Id: oidSAN, Value: seq}
}

// issueLeaf issues a client certificate from c, valid as long as c.
func issueLeaf(t *testing.T, c *testca.CA, serial int64, subject pkix.Name, san *pkix.Extension, crl []string) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: subject,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, CRLDistributionPoints: crl}
	if san != nil {
		tmpl.ExtraExtensions = []pkix.Extension{*san}
	}
	return c.Sign(t, tmpl).Leaf
}

func request(chain ...*x509.Certificate) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/Microsoft-Server-ActiveSync", nil)
	if len(chain) > 0 {
		r.TLS = &tls.ConnectionState{PeerCertificates: chain}
	}
	return r
}

func TestPassThroughTouchesNothing(t *testing.T) {
	// DA-01, DA-05.
	a, err := New(uemapi.DeviceAuth{Mode: uemapi.DeviceAuthPassThrough}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if id, err := a.Authenticate(request()); id != nil || err != nil || a.WantsClientCert() {
		t.Fatalf("pass through: %v %v", id, err)
	}
}

func TestIdentityCertificateWithSeveralRoots(t *testing.T) {
	// DA-03, DA-06: one upload, several concatenated roots, any accepted.
	rootA, rootB := testca.New(t, "Root A", now, nil), testca.New(t, "Root B", now, nil)
	inter := testca.New(t, "Issuing CA", now, rootB)
	san := upnSAN(t, "alice@corp.example", "alice.mail@corp.example")
	leaf := issueLeaf(t, inter, 10, pkix.Name{CommonName: "alice"}, &san, nil)
	a, err := New(uemapi.DeviceAuth{Mode: uemapi.DeviceAuthIdentity, TrustedCertsPEM: rootA.PEM() + rootB.PEM()}, Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if !a.WantsClientCert() {
		t.Fatal("identity mode does not ask for a client certificate")
	}
	id, err := a.Authenticate(request(leaf, inter.Cert))
	if err != nil || id.UPN != "alice@corp.example" || id.Realm != "CORP.EXAMPLE" {
		t.Fatalf("identity %+v %v", id, err)
	}
	stranger := issueLeaf(t, testca.New(t, "Other", now, nil), 11, pkix.Name{CommonName: "mallory"}, &san, nil)
	if _, err := a.Authenticate(request(stranger)); !errors.Is(err, ErrUntrusted) {
		t.Fatalf("untrusted certificate: %v", err)
	}
	if _, err := a.Authenticate(request()); !errors.Is(err, ErrNoCertificate) {
		t.Fatalf("no certificate: %v", err)
	}
}

func TestFieldMappingFirstRowWithDataWins(t *testing.T) {
	// DA-11, DA-12.
	root := testca.New(t, "Root", now, nil)
	san := upnSAN(t, "bob@corp.example", "bob@mail.example")
	subject := pkix.Name{CommonName: "bob", ExtraNames: []pkix.AttributeTypeAndValue{
		{Type: asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}, Value: "example"},
		{Type: asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}, Value: "corp"},
	}}
	leaf := issueLeaf(t, root, 20, subject, &san, nil)
	noSAN := issueLeaf(t, root, 21, pkix.Name{CommonName: "carol@corp.example"}, nil, nil)
	for _, tc := range []struct {
		name       string
		rows       []uemapi.FieldMapping
		cert       *x509.Certificate
		upn, realm string
	}{
		{"UPN other-name first", []uemapi.FieldMapping{{Target: "user_upn", Field: "subject_alt_name_upn"}, {Target: "user_upn", Field: "rfc822_name"}}, leaf, "bob@corp.example", "CORP.EXAMPLE"},
		{"RFC 822 first", []uemapi.FieldMapping{{Target: "user_upn", Field: "rfc822_name"}, {Target: "user_upn", Field: "subject_alt_name_upn"}}, leaf, "bob@mail.example", "MAIL.EXAMPLE"},
		{"absent field falls through", []uemapi.FieldMapping{{Target: "user_upn", Field: "dns_name"}, {Target: "user_upn", Field: "subject_cn"}}, noSAN, "carol@corp.example", "CORP.EXAMPLE"},
		{"DN gives the realm", []uemapi.FieldMapping{{Target: "user_upn", Field: "rfc822_name"}, {Target: "user_dn", Field: "subject"}}, leaf, "bob@mail.example", "CORP.EXAMPLE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var id Identity
			MapIdentity(tc.cert, tc.rows, &id)
			if id.UPN != tc.upn || id.Realm != tc.realm {
				t.Fatalf("got UPN %q realm %q (DN %q), want %q %q", id.UPN, id.Realm, id.DN, tc.upn, tc.realm)
			}
		})
	}
	a, _ := New(uemapi.DeviceAuth{Mode: uemapi.DeviceAuthIdentity, TrustedCertsPEM: root.PEM(),
		FieldMapping: []uemapi.FieldMapping{{Target: "user_upn", Field: "dns_name"}}}, Options{Now: func() time.Time { return now }})
	if _, err := a.Authenticate(request(noSAN)); !errors.Is(err, ErrNoIdentity) {
		t.Fatalf("no mapped field: %v", err)
	}
}

func TestGroupCertificateNeedsNoUser(t *testing.T) {
	// DA-02: the group certificate admits the device; the user's own credentials go to the server.
	root := testca.New(t, "Group", now, nil)
	leaf := issueLeaf(t, root, 30, pkix.Name{CommonName: "all-phones"}, nil, nil)
	a, _ := New(uemapi.DeviceAuth{Mode: uemapi.DeviceAuthGroupCert, TrustedCertsPEM: root.PEM()}, Options{Now: func() time.Time { return now }})
	id, err := a.Authenticate(request(leaf))
	if err != nil || id == nil || id.UPN != "" {
		t.Fatalf("group certificate: %+v %v", id, err)
	}
}

func TestCRLChecking(t *testing.T) {
	// DA-08, DA-09, DA-10.
	root := testca.New(t, "Root", now, nil)
	var fetches atomic.Int32
	var crlDER []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		w.Write(crlDER)
	}))
	defer srv.Close()
	dp := srv.URL + "/root.crl"
	good := issueLeaf(t, root, 40, pkix.Name{CommonName: "good@corp.example"}, nil, []string{dp})
	bad := issueLeaf(t, root, 41, pkix.Name{CommonName: "bad@corp.example"}, nil, []string{dp})
	ldapOnly := issueLeaf(t, root, 42, pkix.Name{CommonName: "ldap@corp.example"}, nil, []string{"ldap://dc.corp.example/CN=root,CN=CDP"})
	var err error
	crlDER, err = x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(time.Hour),
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: big.NewInt(41), RevocationTime: now.Add(-time.Minute)}}}, root.Cert, root.Key)
	if err != nil {
		t.Fatal(err)
	}
	cache := NewCRLCache(srv.Client(), func() time.Time { return now })
	a, err := New(uemapi.DeviceAuth{Mode: uemapi.DeviceAuthIdentity, TrustedCertsPEM: root.PEM(), CheckCRL: true,
		FieldMapping: []uemapi.FieldMapping{{Target: "user_upn", Field: "subject_cn"}}}, Options{CRLs: cache, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(request(good)); err != nil {
		t.Fatalf("good certificate: %v", err)
	}
	if _, err := a.Authenticate(request(bad)); !errors.Is(err, ErrRevoked) {
		t.Fatalf("revoked certificate: %v", err)
	}
	if fetches.Load() != 1 {
		t.Fatalf("CRL fetched %d times, want once (cached)", fetches.Load())
	}
	if _, err := a.Authenticate(request(ldapOnly)); !errors.Is(err, ErrLDAPDistributionPoint) {
		t.Fatalf("LDAP CDP: %v", err)
	}
	list := cache.List()
	if len(list) != 1 || list[0].Revoked != 1 || list[0].ID != CRLID(dp) {
		t.Fatalf("cache list %+v", list)
	}
	if n := cache.Purge(list[0].ID); n != 1 {
		t.Fatalf("purge removed %d", n)
	}
	a.Authenticate(request(good))
	if fetches.Load() != 2 {
		t.Fatal("purged CRL was not fetched again")
	}
	if _, err := New(uemapi.DeviceAuth{Mode: uemapi.DeviceAuthIdentity, TrustedCertsPEM: root.PEM(), CheckCRL: true}, Options{}); err == nil {
		t.Fatal("CRL checking without a cache accepted")
	}
}

func TestTrustedFrontEnd(t *testing.T) {
	// DA-13: certificate in a header, accepted only from the front end's addresses.
	root := testca.New(t, "Root", now, nil)
	leaf := issueLeaf(t, root, 50, pkix.Name{CommonName: "dave@corp.example"}, nil, nil)
	a, err := New(uemapi.DeviceAuth{Mode: uemapi.DeviceAuthFrontEnd, TrustedCertsPEM: root.PEM(), FieldMapping: []uemapi.FieldMapping{{Target: "user_upn", Field: "subject_cn"}}},
		Options{FrontEnds: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	pemText := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw}))
	for name, set := range map[string]func(*http.Request){
		"Apache PEM":         func(r *http.Request) { r.Header.Set("SSL_CLIENT_CERT", pemText) },
		"F5 URL-escaped PEM": func(r *http.Request) { r.Header.Set("X-Client-Cert", url.QueryEscape(pemText)) },
		"one-line PEM":       func(r *http.Request) { r.Header.Set("SSL_CLIENT_CERT", strings.ReplaceAll(pemText, "\n", " ")) },
		"base64 DER":         func(r *http.Request) { r.Header.Set("X-Client-Cert", base64.StdEncoding.EncodeToString(leaf.Raw)) },
	} {
		r := request()
		r.RemoteAddr = "127.0.0.2:40000"
		set(r)
		if id, err := a.Authenticate(r); err != nil || id.UPN != "dave@corp.example" {
			t.Errorf("%s: %+v %v", name, id, err)
		}
	}
	r := request()
	r.RemoteAddr = "127.0.0.3:40000"
	r.Header.Set("SSL_CLIENT_CERT", pemText)
	if _, err := a.Authenticate(r); !errors.Is(err, ErrNotFrontEnd) {
		t.Fatalf("header from a stranger: %v", err)
	}
	if _, err := New(uemapi.DeviceAuth{Mode: uemapi.DeviceAuthFrontEnd, TrustedCertsPEM: root.PEM()}, Options{}); err == nil {
		t.Fatal("front end mode without addresses accepted")
	}
}

// DA-13, issue 18: the certificate a front end passes is verified like a
// TLS client certificate; without a trust file there is nothing to verify
// it against, so the configuration is refused rather than the header
// believed.
func TestDA13_FrontEndHeaderIsVerifiedAgainstTheDeviceCA(t *testing.T) {
	root := testca.New(t, "Device CA", now, nil)
	other := testca.New(t, "Anyone's CA", now, nil)
	fronts := Options{FrontEnds: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}, Now: func() time.Time { return now }}
	mapping := []uemapi.FieldMapping{{Target: "user_upn", Field: "subject_cn"}}
	if _, err := New(uemapi.DeviceAuth{Mode: uemapi.DeviceAuthFrontEnd, FieldMapping: mapping}, fronts); err == nil || !strings.Contains(err.Error(), "trusted_certs_pem") {
		t.Fatalf("front end without a trust file: %v, want a refusal naming trusted_certs_pem", err)
	}
	a, err := New(uemapi.DeviceAuth{Mode: uemapi.DeviceAuthFrontEnd, TrustedCertsPEM: root.PEM(), FieldMapping: mapping}, fronts)
	if err != nil {
		t.Fatal(err)
	}
	forged := issueLeaf(t, other, 51, pkix.Name{CommonName: "ceo@corp.example"}, nil, nil)
	r := request()
	r.RemoteAddr = "127.0.0.2:40000"
	r.Header.Set("SSL_CLIENT_CERT", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: forged.Raw})))
	if id, err := a.Authenticate(r); !errors.Is(err, ErrUntrusted) {
		t.Fatalf("a certificate from another CA in the header: %+v %v, want ErrUntrusted", id, err)
	}
}

func TestParseRootsCountsCertificates(t *testing.T) {
	a, b := testca.New(t, "A", now, nil), testca.New(t, "B", now, nil)
	if _, n, err := ParseRoots(a.PEM() + "junk between\n" + b.PEM()); err != nil || n != 2 {
		t.Fatalf("%d roots, %v", n, err)
	}
	if _, err := New(uemapi.DeviceAuth{Mode: uemapi.DeviceAuthIdentity, TrustedCertsPEM: "no pem here"}, Options{}); err == nil {
		t.Fatal("empty trust file accepted")
	}
	_ = context.Background()
}

func TestExpiredCertificateIsRefused(t *testing.T) {
	// DA-03: a certificate outside its validity is not trusted.
	root := testca.New(t, "Root", now, nil)
	leaf := issueLeaf(t, root, 60, pkix.Name{CommonName: "old@corp.example"}, nil, nil)
	a, _ := New(uemapi.DeviceAuth{Mode: uemapi.DeviceAuthIdentity, TrustedCertsPEM: root.PEM(), FieldMapping: []uemapi.FieldMapping{{Target: "user_upn", Field: "subject_cn"}}},
		Options{Now: func() time.Time { return now.Add(2 * time.Hour) }}) // the leaf expired an hour ago
	if _, err := a.Authenticate(request(leaf)); !errors.Is(err, ErrUntrusted) {
		t.Fatalf("expired certificate: %v", err)
	}
}

func TestCRLRefreshedAfterItsNextUpdate(t *testing.T) {
	// DA-08: a revocation published in the next CRL takes effect once the
	// cached CRL's NextUpdate has passed.
	root := testca.New(t, "Root", now, nil)
	var crl atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(crl.Load().([]byte)) }))
	defer srv.Close()
	leaf := issueLeaf(t, root, 70, pkix.Name{CommonName: "eve@corp.example"}, nil, []string{srv.URL + "/root.crl"})
	mk := func(number int64, this time.Time, revoked ...int64) []byte {
		var entries []x509.RevocationListEntry
		for _, s := range revoked {
			entries = append(entries, x509.RevocationListEntry{SerialNumber: big.NewInt(s), RevocationTime: this})
		}
		der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(number), ThisUpdate: this, NextUpdate: this.Add(10 * time.Minute),
			RevokedCertificateEntries: entries}, root.Cert, root.Key)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	clock := now
	nowFn := func() time.Time { return clock }
	crl.Store(mk(1, now))
	cache := NewCRLCache(srv.Client(), nowFn)
	a, _ := New(uemapi.DeviceAuth{Mode: uemapi.DeviceAuthIdentity, TrustedCertsPEM: root.PEM(), CheckCRL: true,
		FieldMapping: []uemapi.FieldMapping{{Target: "user_upn", Field: "subject_cn"}}}, Options{CRLs: cache, Now: nowFn})
	if _, err := a.Authenticate(request(leaf)); err != nil {
		t.Fatalf("before the revocation: %v", err)
	}
	crl.Store(mk(2, now.Add(time.Minute), 70)) // revoked, but the cached CRL is still current
	if _, err := a.Authenticate(request(leaf)); err != nil {
		t.Fatalf("the cached CRL should still be used: %v", err)
	}
	clock = now.Add(11 * time.Minute) // past the cached CRL's NextUpdate
	if _, err := a.Authenticate(request(leaf)); !errors.Is(err, ErrRevoked) {
		t.Fatalf("after the refresh: %v", err)
	}
}

// BenchmarkHandshake compares TLS handshakes per second on loopback with
// and without a client certificate, in the same run:
//
//	go test -run '^$' -bench Handshake ./gateway/deviceauth/
func BenchmarkHandshake(b *testing.B) {
	// The handshake checks validity against the real clock.
	root := testca.New(b, "Bench Root", time.Now(), nil)
	serverCert := root.Server(b, "localhost")
	clientCert := root.Client(b, "alice@corp.example")
	pool := root.Pool()
	for _, tc := range []struct {
		name   string
		server *tls.Config
		client *tls.Config
	}{
		{"no-client-cert", &tls.Config{Certificates: []tls.Certificate{serverCert}, MinVersion: tls.VersionTLS12},
			&tls.Config{RootCAs: pool, ServerName: "localhost"}},
		{"client-cert", &tls.Config{Certificates: []tls.Certificate{serverCert}, MinVersion: tls.VersionTLS12, ClientAuth: tls.RequestClientCert},
			&tls.Config{RootCAs: pool, ServerName: "localhost", Certificates: []tls.Certificate{clientCert}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			ln, err := tls.Listen("tcp", "127.0.0.1:0", tc.server)
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					go func() { c.(*tls.Conn).Handshake(); c.Close() }()
				}
			}()
			for b.Loop() {
				c, err := tls.Dial("tcp", ln.Addr().String(), tc.client)
				if err != nil {
					b.Fatal(err)
				}
				c.Close()
			}
		})
	}
}

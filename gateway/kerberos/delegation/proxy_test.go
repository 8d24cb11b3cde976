package delegation_test

// The KDC proxy is not an open relay (issue 18): it relays only Kerberos
// requests, only to realms the gateway is configured for, and only
// Kerberos replies back, of bounded size. Real sockets throughout: fake
// KDCs, a fake DNS server and raw TCP "KDCs" that answer whatever a test
// wants.

import (
	"context"
	"encoding/binary"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/asn1tools"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gatehouse-lab/gatehouse/fakes/dns"
	"github.com/gatehouse-lab/gatehouse/fakes/kdc"
	"github.com/gatehouse-lab/gatehouse/gateway/kerberos/delegation"
	"github.com/gatehouse-lab/gatehouse/protocol/kerberos"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// asReq is an AS-REQ for alice@realm.
func asReq(t *testing.T, realm string) []byte {
	t.Helper()
	req, err := kerberos.NewASReq(kerberos.PrincipalFromSPN("alice"), realm, nil, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	b, err := req.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func proxyBody(t *testing.T, msg []byte, realm string) []byte {
	t.Helper()
	b, err := kerberos.ProxyMessage{Message: msg, TargetDomain: realm}.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// startRealmKDC starts a fake KDC for another realm, with alice.
func startRealmKDC(t *testing.T, name string) *kdc.Server {
	t.Helper()
	s, err := kdc.New(kdc.Config{Realm: name, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	if err := s.AddPrincipal(kdc.Principal{Name: "alice", Password: "pw"}); err != nil {
		t.Fatal(err)
	}
	return s
}

// dnsFor starts a fake DNS server publishing each realm's KDC and
// returns a resolver asking it.
func dnsFor(t *testing.T, kdcs map[string]*kdc.Server) *net.Resolver {
	t.Helper()
	ns, err := dns.New(dns.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := ns.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Shutdown(context.Background()) })
	for realmName, s := range kdcs {
		host := "kdc." + realmName
		if err := ns.AddHost(dns.Host{Name: host, Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}}); err != nil {
			t.Fatal(err)
		}
		if err := ns.AddKDC(realmName, dns.KDC{Target: host, Port: uint16(s.Port()), TCP: true}); err != nil {
			t.Fatal(err)
		}
	}
	addr := ns.Addr()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
}

// KKD-01: DNS knows where EVIL.EXAMPLE's KDC is, but the gateway is not
// configured for that realm: the proxy refuses (403) and never contacts
// it; a realm listed in kdc_proxy_realms (or an Additional Trusted
// Realm) is relayed to.
func TestKKD01_ProxyRelaysOnlyToConfiguredRealms(t *testing.T) {
	own := startKDC(t)
	evil := startRealmKDC(t, "EVIL.EXAMPLE")
	east := startRealmKDC(t, "EAST.EXAMPLE")
	emea := startRealmKDC(t, "EMEA.EXAMPLE")
	cfg := config(own)
	cfg.DNSDiscovery = true
	cfg.KDCProxyRealms = []string{"east.example"}
	cfg.AdditionalRealms = []uemapi.RealmKDCs{{Realm: "EMEA.EXAMPLE", KDCs: emea.Addr()}}
	k := newDelegator(t, cfg, delegation.Options{Resolver: dnsFor(t, map[string]*kdc.Server{"EVIL.EXAMPLE": evil, "EAST.EXAMPLE": east})})

	for _, r := range []string{"EVIL.EXAMPLE", "evil.example", "INTRANET.CORP.EXAMPLE"} {
		w := post(t, k.ServeKKDCP, http.MethodPost, delegation.ContentType, proxyBody(t, asReq(t, r), r))
		if w.Code != http.StatusForbidden {
			t.Errorf("realm %s: HTTP %d, want 403", r, w.Code)
		}
	}
	if st := evil.Stats(); st.AS != 0 || st.TCP != 0 {
		t.Fatalf("the unconfigured realm's KDC was reached: %+v", st)
	}
	for _, c := range []struct {
		realm string
		kdc   *kdc.Server
	}{{realm, own}, {"EAST.EXAMPLE", east}, {"EMEA.EXAMPLE", emea}} {
		before := c.kdc.Stats().AS
		if w := post(t, k.ServeKKDCP, http.MethodPost, delegation.ContentType, proxyBody(t, asReq(t, c.realm), c.realm)); w.Code != http.StatusOK {
			t.Errorf("configured realm %s: HTTP %d %s", c.realm, w.Code, w.Body)
		}
		if c.kdc.Stats().AS == before {
			t.Errorf("configured realm %s: its KDC was not reached", c.realm)
		}
	}
	// The list can change without a new KCD (kdc_proxy_realms edited).
	k.SetProxyRealms(nil)
	if w := post(t, k.ServeKKDCP, http.MethodPost, delegation.ContentType, proxyBody(t, asReq(t, "EAST.EXAMPLE"), "EAST.EXAMPLE")); w.Code != http.StatusForbidden {
		t.Fatalf("realm removed from kdc_proxy_realms: HTTP %d", w.Code)
	}
}

// KKD-01: a KDC-PROXY-MESSAGE carrying anything but an AS-REQ, a TGS-REQ
// or a KPASSWD request is refused (400) and nothing reaches the KDC.
func TestKKD01_ProxyRelaysOnlyKerberosRequests(t *testing.T) {
	s := startKDC(t)
	k := newDelegator(t, config(s), delegation.Options{})
	as := asReq(t, realm)
	for name, msg := range map[string][]byte{
		"HTTP request":     []byte("GET /admin HTTP/1.1\r\nHost: intranet\r\n\r\n"),
		"SMTP":             []byte("EHLO relay\r\nMAIL FROM:<a@b>\r\n"),
		"truncated AS-REQ": as[:len(as)-3],
		"AS-REQ + junk":    append(append([]byte(nil), as...), "GET / HTTP/1.1\r\n\r\n"...),
	} {
		if w := post(t, k.ServeKKDCP, http.MethodPost, delegation.ContentType, proxyBody(t, msg, realm)); w.Code != http.StatusBadRequest {
			t.Errorf("%s: HTTP %d, want 400", name, w.Code)
		}
	}
	if st := s.Stats(); st.TCP != 0 || st.AS != 0 {
		t.Fatalf("the KDC received non-Kerberos bytes: %+v", st)
	}
}

// rawKDC listens on loopback TCP and answers every framed request with
// answer(request) framed, counting requests.
func rawKDC(t *testing.T, answer func([]byte) []byte) (addr string, requests <-chan []byte) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	got := make(chan []byte, 16)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				req, err := kerberos.ReadFrame(c, 1<<20)
				if err != nil {
					return
				}
				select {
				case got <- req:
				default:
				}
				rep := answer(req)
				hdr := binary.BigEndian.AppendUint32(nil, uint32(len(rep)))
				_, _ = c.Write(append(hdr, rep...))
			}()
		}
	}()
	return l.Addr().String(), got
}

// KKD-01: a "KDC" answering with anything but a Kerberos reply to the
// request, or with a reply too large for a KDC-PROXY-MESSAGE, gets 502:
// its bytes never reach the client.
func TestKKD01_ProxyRelaysOnlyKerberosReplies(t *testing.T) {
	krbErr := messages.NewKRBError(kerberos.TGSName(realm), realm, 25, "")
	errBytes, err := krbErr.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		answer []byte
		want   int
	}{
		"HTTP page":            {[]byte("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<h1>intranet</h1>"), http.StatusBadGateway},
		"AS-REQ echoed":        {asReq(t, realm), http.StatusBadGateway},
		"KRB-ERROR + trailing": {append(append([]byte(nil), errBytes...), "secret"...), http.StatusBadGateway},
		"oversize":             {append(append([]byte(nil), errBytes...), make([]byte, kerberos.MaxProxyMessageSize)...), http.StatusBadGateway},
		"KRB-ERROR":            {errBytes, http.StatusOK},
	} {
		addr, _ := rawKDC(t, func([]byte) []byte { return c.answer })
		cfg := uemapi.KerberosConfig{Realm: realm, ServicePrincipal: sentrySPN, Password: sentryPass, KDCs: addr}
		k := newDelegator(t, cfg, delegation.Options{PerKDC: 2 * time.Second})
		w := post(t, k.ServeKKDCP, http.MethodPost, delegation.ContentType, proxyBody(t, asReq(t, realm), realm))
		if w.Code != c.want {
			t.Errorf("%s: HTTP %d, want %d", name, w.Code, c.want)
		}
		if c.want == http.StatusOK {
			rep, err := kerberos.DecodeProxyMessage(w.Body.Bytes(), 0)
			if err != nil || string(rep.Message) != string(errBytes) {
				t.Errorf("%s: relayed %x, %v", name, rep.Message, err)
			}
		}
	}
}

// KKD-01: a KPASSWD request (RFC 3244) goes to the realm's password-change
// server (port 464), not to its KDC, and its reply comes back.
func TestKKD01_ProxyRelaysKpasswdToThePasswordServer(t *testing.T) {
	s := startKDC(t)
	apReq, krbPriv, apRep := kpasswdParts(t)
	req := kpasswdFrame(kerberos.KpasswdVersionSet, apReq, krbPriv)
	rep := kpasswdFrame(kerberos.KpasswdVersionChange, apRep, krbPriv)
	addr, got := rawKDC(t, func([]byte) []byte { return rep })
	cfg := config(s)
	cfg.KDCs = "127.0.0.1:" + itoa(s.Port())
	// The password server is 127.0.0.1:464; tests cannot bind it, so the
	// dialer sends that address to the raw server and the rest as asked.
	dial := func(ctx context.Context, network, a string) (net.Conn, error) {
		if a == "127.0.0.1:464" {
			if network != "tcp" {
				return nil, &net.OpError{Op: "dial", Net: network, Err: net.UnknownNetworkError(network)}
			}
			a = addr
		}
		var d net.Dialer
		return d.DialContext(ctx, network, a)
	}
	k := newDelegator(t, cfg, delegation.Options{Dialer: dial})
	w := post(t, k.ServeKKDCP, http.MethodPost, delegation.ContentType, proxyBody(t, req, realm))
	if w.Code != http.StatusOK {
		t.Fatalf("KPASSWD: HTTP %d %s", w.Code, w.Body)
	}
	out, err := kerberos.DecodeProxyMessage(w.Body.Bytes(), 0)
	if err != nil || string(out.Message) != string(rep) {
		t.Fatalf("KPASSWD reply %x, %v", out.Message, err)
	}
	select {
	case r := <-got:
		if string(r) != string(req) {
			t.Fatalf("the password server got %x", r)
		}
	default:
		t.Fatal("the password server got nothing")
	}
	if st := s.Stats(); st.TCP != 0 {
		t.Fatalf("the KPASSWD request went to the KDC: %+v", st)
	}
}

// kpasswdParts builds an AP-REQ, a KRB-PRIV and an AP-REP (their
// contents do not matter to the proxy, their shape does).
func kpasswdParts(t *testing.T) (apReq, krbPriv, apRep []byte) {
	t.Helper()
	key := types.EncryptionKey{KeyType: 18, KeyValue: make([]byte, 32)}
	tkt := messages.Ticket{TktVNO: 5, Realm: realm, SName: kerberos.PrincipalFromSPN("kadmin/changepw"),
		EncPart: types.EncryptedData{EType: 18, Cipher: []byte{1, 2, 3}}}
	ap, err := messages.NewAPReq(tkt, key, types.Authenticator{AVNO: 5, CRealm: realm, CName: kerberos.PrincipalFromSPN("alice"), CTime: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if apReq, err = ap.Marshal(); err != nil {
		t.Fatal(err)
	}
	priv := messages.KRBPriv{PVNO: 5, MsgType: msgtype.KRB_PRIV, EncPart: types.EncryptedData{EType: 18, Cipher: []byte{6, 7}}}
	if krbPriv, err = priv.Marshal(); err != nil {
		t.Fatal(err)
	}
	b, err := asn1.Marshal(messages.APRep{PVNO: 5, MsgType: msgtype.KRB_AP_REP, EncPart: types.EncryptedData{EType: 18, Cipher: []byte{4, 5}}})
	if err != nil {
		t.Fatal(err)
	}
	return apReq, krbPriv, asn1tools.AddASNAppTag(b, 15)
}

func kpasswdFrame(version uint16, ap, rest []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(6+len(ap)+len(rest)))
	b = binary.BigEndian.AppendUint16(b, version)
	b = binary.BigEndian.AppendUint16(b, uint16(len(ap)))
	return append(append(b, ap...), rest...)
}

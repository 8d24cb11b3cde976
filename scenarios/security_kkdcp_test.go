package scenarios_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/dns"
	"github.com/gatehouse-lab/gatehouse/fakes/kdc"
	"github.com/gatehouse-lab/gatehouse/lab"
	"github.com/gatehouse-lab/gatehouse/protocol/kerberos"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

// postKKDCP posts a KDC-PROXY-MESSAGE carrying msg for realm to the
// gateway's KDC proxy and returns the HTTP status and body.
func postKKDCP(f *fw.Framework, realm string, msg []byte) (int, []byte) {
	body, err := kerberos.ProxyMessage{Message: msg, TargetDomain: realm}.Marshal()
	Expect(err).NotTo(HaveOccurred())
	req, err := http.NewRequest(http.MethodPost, f.DeviceURL()+"/KdcProxy", bytes.NewReader(body))
	Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Content-Type", "application/kerberos")
	resp, err := f.HTTPClient().Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, kerberos.MaxProxyMessageSize))
	return resp.StatusCode, b
}

// asReq is an AS-REQ for a TGT of name@realm.
func asReq(name, realm string) []byte {
	req, err := kerberos.NewASReq(types.NewPrincipalName(nametype.KRB_NT_PRINCIPAL, name), realm, nil, time.Now().Add(time.Hour))
	Expect(err).NotTo(HaveOccurred())
	b, err := req.Marshal()
	Expect(err).NotTo(HaveOccurred())
	return b
}

// krbError is a KRB-ERROR: a Kerberos message, but not a request to a KDC.
func krbError(realm string) []byte {
	now := time.Now().UTC()
	ke := messages.KRBError{PVNO: 5, MsgType: msgtype.KRB_ERROR, STime: now.Truncate(time.Second),
		ErrorCode: errorcode.KRB_ERR_GENERIC, Realm: realm, SName: kerberos.TGSName(realm), EText: "not a request"}
	b, err := ke.Marshal()
	Expect(err).NotTo(HaveOccurred())
	return b
}

// kdcSeen counts the messages a fake KDC received, over TCP and UDP.
func kdcSeen(k *kdc.Server) int { s := k.Stats(); return s.TCP + s.UDP }

// kdcNonRequests counts the messages a KDC got that were neither an AS-REQ
// nor a TGS-REQ: unlike kdcSeen, the gateway's own Kerberos traffic (its
// initialisation, which may still run when a spec starts) leaves it alone.
func kdcNonRequests(k *kdc.Server) int { s := k.Stats(); return s.TCP + s.UDP - s.AS - s.TGS }

// startRealmKDC starts a fake KDC for realm that only DNS knows about
// (SRV records in the world's DNS), with one principal.
func startRealmKDC(f *fw.Framework, realm, host, user, password string) *kdc.Server {
	k, err := kdc.New(kdc.Config{Realm: realm, Logger: slog.New(slog.DiscardHandler)})
	Expect(err).NotTo(HaveOccurred())
	Expect(k.Start(context.Background())).To(Succeed())
	DeferCleanup(k.Shutdown)
	Expect(k.AddPrincipal(kdc.Principal{Name: user, Password: password})).To(Succeed())
	Expect(f.Lab.DNS.AddKDC(realm, dns.KDC{Target: host, Port: uint16(k.Port()), TCP: true})).To(Succeed())
	Expect(f.Lab.DNS.AddHost(dns.Host{Name: host, Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}})).To(Succeed())
	return k
}

// junkKDC listens on 127.0.0.1 as a KDC over TCP that answers every
// framed request with a framed reply that is not Kerberos at all; it
// returns its address and a count of the requests it got.
func junkKDC(reply []byte) (string, func() int) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(ln.Close)
	got := make(chan struct{}, 64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				if _, err := kerberos.ReadFrame(c, kerberos.MaxMessageSize); err != nil {
					return
				}
				select {
				case got <- struct{}{}:
				default:
				}
				_, _ = c.Write(kerberos.FrameTCP(reply))
			}()
		}
	}()
	return ln.Addr().String(), func() int { return len(got) }
}

var _ = Describe("Security: KDC proxy relay limits", func() {
	f := fw.New(fw.WithLabConfig(func(c *lab.Config) { c.Kerberos = true }))

	fw.It("relays KDC requests of the gateway's realm, and refuses with 400 anything that is not a KDC request; the KDC never sees it", fw.IDs("KKD-01"), fw.Security(fw.FeatureKerberos), func() {
		u := f.UserInfo(f.NewUser())
		Expect(kdcProxyLogin(f.Ctx(), f.DeviceURL()+"/KdcProxy", f.HTTPClient(), u.Name, f.Lab.Realm(), u.Password)).To(Succeed(),
			"an AS and TGS exchange of the gateway's realm goes through")

		// Counted as non-requests: the gateway's own AS and TGS exchanges
		// with this KDC (counted by kdcSeen) made the spec fail 1 parallel
		// run in 12 once worlds started in 10 ms. A message counted (TCP
		// or UDP) but not yet classified is transient: hence Eventually.
		before := kdcNonRequests(f.Lab.KDC)
		for name, msg := range map[string][]byte{
			"a KRB-ERROR":          krbError(f.Lab.Realm()),
			"an HTTP request line": []byte("GET / HTTP/1.0\r\nHost: kdc\r\n\r\n"),
			"random bytes":         bytes.Repeat([]byte{0x30, 0x82, 0xff}, 40),
		} {
			code, _ := postKKDCP(f, f.Lab.Realm(), msg)
			Expect(code).To(Equal(http.StatusBadRequest), "%s wrapped in a KDC-PROXY-MESSAGE", name)
		}
		Eventually(func() int { return kdcNonRequests(f.Lab.KDC) - before }).Should(BeNumerically("<=", 0), "none of them reached the KDC")
	})

	fw.It("relays only to the gateway's configured realms: a realm found only in DNS is refused (400 or 403) and its KDC sees nothing", fw.IDs("KKD-01"), fw.Security(fw.FeatureKerberos), func() {
		const rogue = "ROGUE.EXAMPLE"
		k := startRealmKDC(f, rogue, "kdc1.rogue.example", "mallory", "mallory-pw")
		code, _ := postKKDCP(f, rogue, asReq("mallory", rogue))
		Expect(code).To(BeElementOf(http.StatusBadRequest, http.StatusForbidden), "an AS-REQ for %s, a realm the gateway is not configured for", rogue)
		Expect(kdcSeen(k)).To(BeZero(), "the gateway did not talk to %s's KDC", rogue)
	})

	fw.It("relays back only Kerberos replies: a KDC answering something else gives the device an error, not the bytes", fw.IDs("KKD-01"), fw.Security(fw.FeatureKerberos), func() {
		const realm = "JUNK.EXAMPLE"
		junk := []byte("<html><body>this is not Kerberos</body></html>")
		addr, requests := junkKDC(junk)
		f.EditGatewayConfig(func(gc *uemapi.GatewayConfig) {
			gc.Kerberos.AdditionalRealms = append(gc.Kerberos.AdditionalRealms, uemapi.RealmKDCs{Realm: realm, KDCs: addr})
		})
		code, body := postKKDCP(f, realm, asReq("erin", realm))
		GinkgoWriter.Printf("KDC answering junk (%d requests): HTTP %d\n", requests(), code)
		Expect(code).NotTo(Equal(http.StatusOK), "a KDC reply that is not Kerberos")
		Expect(body).NotTo(ContainSubstring(string(junk)), "the junk is not relayed")
	})
})

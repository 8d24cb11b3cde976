package gateway_test

// Kerberos constrained delegation end to end (issue 12): a device with an
// identity certificate syncs through the gateway, which authenticates to
// the fake Exchange with Negotiate for the certificate's UPN, with tickets
// from the fake KDC; and MIT kinit reaches the KDC through /KdcProxy.

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/dns"
	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/fakes/kdc"
	"github.com/gatehouse-lab/gatehouse/gateway"
	"github.com/gatehouse-lab/gatehouse/gateway/admin"
	"github.com/gatehouse-lab/gatehouse/internal/peers"
	"github.com/gatehouse-lab/gatehouse/internal/testca"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

const (
	krbRealm   = "CORP.EXAMPLE"
	sentrySPN  = "HTTP/sentry1_eas_kcd"
	sentryPass = "sentry-secret"
	mailSPN    = "http/mail.corp.example"
)

// startCorpKDC starts a fake KDC for CORP.EXAMPLE with the gateway's
// principal allowed to delegate to the mail server, and alice.
func startCorpKDC(t *testing.T) *kdc.Server {
	t.Helper()
	s, err := kdc.New(kdc.Config{Realm: krbRealm, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	for _, p := range []kdc.Principal{{Name: sentrySPN, Password: sentryPass}, {Name: mailSPN, Password: "mail-secret"}, {Name: "alice", Password: "alice-pw"}} {
		if err := s.AddPrincipal(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AllowDelegation(sentrySPN, mailSPN); err != nil {
		t.Fatal(err)
	}
	return s
}

// kcdWorld is a world whose only service uses Kerberos server
// authentication with the given SPN list, devices authenticating with
// identity certificates, and an Exchange accepting only Negotiate.
func kcdWorld(t *testing.T, k *kdc.Server, spns string, edits ...func(*uemapi.KerberosConfig)) (*world, *exchange.NegotiateAuthenticator) {
	t.Helper()
	kt, err := k.Keytab(mailSPN)
	if err != nil {
		t.Fatal(err)
	}
	neg := &exchange.NegotiateAuthenticator{Keytab: kt, Realm: krbRealm}
	caCert := testca.New(t, "Device CA", time.Now(), nil)
	caPEM := caCert.PEM()
	w := newWorld(t, func(w *world) {
		w.newExchange = func(t *testing.T) *exchange.Server { return startExchangeWith(t, neg) }
		w.gwBoot = func(c *gateway.Config) { c.KerberosRetry = 20 * time.Millisecond }
		w.gwConfig = func(gc *uemapi.GatewayConfig) {
			gc.DeviceAuth = uemapi.DeviceAuth{Mode: uemapi.DeviceAuthIdentity, TrustedCertsPEM: caPEM,
				FieldMapping: []uemapi.FieldMapping{{Target: "user_upn", Field: "rfc822_name"}}}
			gc.ActiveSync.Services[0].ServerAuth = uemapi.AuthKerberos
			gc.ActiveSync.Services[0].SPNs = spns
			gc.Kerberos = &uemapi.KerberosConfig{Realm: krbRealm, ServicePrincipal: sentrySPN, Password: sentryPass, KDCs: k.Addr(), KDCProxy: true}
			for _, edit := range edits {
				edit(gc.Kerberos)
			}
		}
	})
	w.dev = &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		InsecureSkipVerify: true, //nolint:gosec // test gateway certificate
		Certificates:       []tls.Certificate{caCert.Client(t, "alice@corp.example", "alice@corp.example")},
	}}}
	return w, neg
}

func TestKRB09_IdentityCertificateSyncsThroughKerberosDelegation(t *testing.T) {
	k := startCorpKDC(t)
	w, neg := kcdWorld(t, k, mailSPN)
	ctx := context.Background()
	gomega.NewWithT(t).Eventually(func() bool {
		i, err := w.adm.KerberosInfo(ctx)
		return err == nil && i.Initialised
	}).WithTimeout(20*time.Second).Should(gomega.BeTrue(), "Kerberos initialised at start (KRB-06)")
	// The device sends Basic credentials; Exchange accepts only Negotiate,
	// so it syncs only if the gateway replaced them (KRB-09).
	w.provision("ALICEPHONE", "alice")
	if code, st := w.device("ALICEPHONE", "alice", eas.CmdFolderSync); code != 200 || st != "1" {
		t.Fatalf("FolderSync through KCD: %d %q", code, st)
	}
	if !partnered(w.exch, "ALICEPHONE") {
		t.Fatal("Exchange has no partnership for the device")
	}
	seen := neg.Seen()
	if len(seen) < 3 || slices.ContainsFunc(seen, func(s string) bool { return s != "alice@"+krbRealm }) {
		t.Fatalf("Exchange saw Kerberos clients %v, want alice@%s for every request", seen, krbRealm)
	}
	if st := k.Stats(); st.S4U2Proxy != 1 {
		t.Fatalf("KDC stats %+v: want one S4U2Proxy for several requests (ticket cache, KRB-16)", st)
	}

	// Admin: show kerberos, cache dump and upn, purge, KDC check, init.
	i, err := w.adm.KerberosInfo(ctx)
	if err != nil || i.SentrySPN != sentrySPN || i.CacheSize != 1 || i.CacheTicketIdleTimeout != 48 {
		t.Fatalf("show kerberos %+v %v", i, err)
	}
	if rows, err := w.adm.KerberosCache(ctx, "alice"); err != nil || len(rows) != 1 || rows[0].UPN != "alice@corp.example" || rows[0].SPN != mailSPN {
		t.Fatalf("cache dump %+v %v", rows, err)
	}
	if rows, err := w.adm.KerberosCacheUPN(ctx, "alice@corp.example"); err != nil || len(rows) != 1 {
		t.Fatalf("cache upn %+v %v", rows, err)
	}
	if n, err := w.adm.KerberosPurge(ctx, "alice@corp.example"); err != nil || n.Message != "Purged 1 entries from cache" {
		t.Fatalf("purge %+v %v", n, err)
	}
	if c, err := w.adm.KerberosKDC(ctx, "127.0.0.1", k.Port()); err != nil || !c.OK || c.Lines[1] != "Connection successful." {
		t.Fatalf("kdc check %+v %v", c, err)
	}
	if r, err := w.adm.KerberosInit(ctx); err != nil || !r.Already {
		t.Fatalf("init when initialised %+v %v", r, err)
	}
	// After the purge the next request gets a new ticket.
	if code, _ := w.device("ALICEPHONE", "alice", eas.CmdFolderSync); code != 200 || k.Stats().S4U2Proxy != 2 {
		t.Fatalf("after purge: HTTP %d, %d S4U2Proxy", code, k.Stats().S4U2Proxy)
	}
}

func TestKRB02_SPNOutsideTheDelegationListFails(t *testing.T) {
	// SPNs are case-sensitive: the KDC allows http/mail.corp.example only.
	k := startCorpKDC(t)
	w, neg := kcdWorld(t, k, "http/MAIL.corp.example")
	code, _ := w.post("ALICEPHONE", "alice", eas.CmdProvision, nil)
	if code != http.StatusBadGateway {
		t.Fatalf("Provision with an SPN the gateway may not delegate to: HTTP %d, want 502", code)
	}
	if len(neg.Seen()) != 0 {
		t.Fatalf("Exchange saw %v", neg.Seen())
	}
	cs, err := w.adm.StatsEntry(context.Background(), "ALICEPHONE", "alice@corp.example", "kerberos")
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(cs, func(c admin.Counter) bool { return c.Name == "kerberos-auth-error" })
	if i < 0 || cs[i].Value != 1 {
		t.Fatalf("kerberos-auth-error counter: %+v", cs)
	}
}

// KKD-01, real peer: MIT kinit gets a TGT from the fake KDC through the
// gateway's KDC proxy (MS-KKDCP over HTTPS), trusting the gateway's
// certificate. Without kinit or its HTTPS plugin it skips loudly, or fails
// under GATEHOUSE_REQUIRE_PEERS=1 (.ci/run).
func TestKKD01_MITKinitThroughKdcProxy(t *testing.T) {
	kinit, klistBin := mitKinitOverHTTPS(t)
	k := startCorpKDC(t)
	w, _ := kcdWorld(t, k, mailSPN)
	dir := t.TempDir()
	anchor := filepath.Join(dir, "gateway.pem")
	cert := w.gw.Certificate()
	if err := os.WriteFile(anchor, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	proxy := strings.TrimPrefix(w.gw.DeviceURL(), "https://") + "/KdcProxy"
	conf := "[libdefaults]\n  default_realm = " + krbRealm + "\n  dns_lookup_kdc = false\n  dns_lookup_realm = false\n  rdns = false\n" +
		"\n[realms]\n  " + krbRealm + " = {\n    kdc = https://" + proxy + "\n    http_anchors = FILE:" + anchor + "\n  }\n"
	if err := os.WriteFile(filepath.Join(dir, "krb5.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	before := k.Stats()
	cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(cctx, kinit, "alice@"+krbRealm)
	cmd.Env = append(os.Environ(), "KRB5_CONFIG="+filepath.Join(dir, "krb5.conf"), "KRB5CCNAME=FILE:"+filepath.Join(dir, "ccache"), "KRB5_TRACE=/dev/stderr")
	cmd.Stdin = strings.NewReader("alice-pw\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kinit through the KDC proxy: %v\n%s", err, out)
	}
	klist := exec.CommandContext(cctx, klistBin)
	klist.Env = cmd.Env
	kout, err := klist.CombinedOutput()
	if err != nil || !strings.Contains(string(kout), "krbtgt/"+krbRealm+"@"+krbRealm) {
		t.Fatalf("klist: %v\n%s", err, kout)
	}
	if !strings.Contains(string(out), "Sending HTTPS request") {
		t.Fatalf("kinit trace shows no HTTPS request to the proxy:\n%s", out)
	}
	if after := k.Stats(); after.AS-before.AS < 2 || after.TCP == before.TCP {
		t.Fatalf("KDC stats before %+v after %+v: want the AS exchange over TCP from the proxy", before, after)
	}
}

// KDC-01, KDC-07, DEF-07: a realm other than the gateway's has no
// configured KDC; the gateway finds one through DNS SRV records (the fake
// DNS) and MIT kinit for a user of that realm goes through /KdcProxy to it.
func TestKDC01_DiscoveryFindsASecondRealmKDCThroughDNS(t *testing.T) {
	kinit, _ := mitKinitOverHTTPS(t)
	const east = "EAST.EXAMPLE"
	ek, err := kdc.New(kdc.Config{Realm: east, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := ek.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ek.Shutdown(context.Background()) })
	if err := ek.AddPrincipal(kdc.Principal{Name: "erin", Password: "erin-pw"}); err != nil {
		t.Fatal(err)
	}
	ns, err := dns.New(dns.Config{Zones: []string{"east.example"}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := ns.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Shutdown(context.Background()) })
	if err := ns.AddHost(dns.Host{Name: "kdc1.east.example", Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}}); err != nil {
		t.Fatal(err)
	}
	if err := ns.AddKDC(east, dns.KDC{Target: "kdc1.east.example", Port: uint16(ek.Port()), TCP: true}); err != nil {
		t.Fatal(err)
	}

	k := startCorpKDC(t)
	caCert := testca.New(t, "Device CA", time.Now(), nil)
	caPEM := caCert.PEM()
	w := newWorld(t, func(w *world) {
		w.gwBoot = func(c *gateway.Config) { c.DNSServer = ns.Addr() }
		w.gwConfig = func(gc *uemapi.GatewayConfig) {
			gc.DeviceAuth = uemapi.DeviceAuth{Mode: uemapi.DeviceAuthIdentity, TrustedCertsPEM: caPEM,
				FieldMapping: []uemapi.FieldMapping{{Target: "user_upn", Field: "rfc822_name"}}}
			gc.Kerberos = &uemapi.KerberosConfig{Realm: krbRealm, ServicePrincipal: sentrySPN, Password: sentryPass, KDCs: k.Addr(), DNSDiscovery: true, KDCProxy: true,
				KDCProxyRealms: []string{east}} // the proxy relays only to realms it is configured for
		}
	})
	dir := t.TempDir()
	anchor := filepath.Join(dir, "gateway.pem")
	cert := w.gw.Certificate()
	if err := os.WriteFile(anchor, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	proxy := strings.TrimPrefix(w.gw.DeviceURL(), "https://") + "/KdcProxy"
	conf := "[libdefaults]\n  default_realm = " + east + "\n  dns_lookup_kdc = false\n  dns_lookup_realm = false\n  rdns = false\n" +
		"\n[realms]\n  " + east + " = {\n    kdc = https://" + proxy + "\n    http_anchors = FILE:" + anchor + "\n  }\n"
	if err := os.WriteFile(filepath.Join(dir, "krb5.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(cctx, kinit, "erin@"+east)
	cmd.Env = append(os.Environ(), "KRB5_CONFIG="+filepath.Join(dir, "krb5.conf"), "KRB5CCNAME=FILE:"+filepath.Join(dir, "ccache"))
	cmd.Stdin = strings.NewReader("erin-pw\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kinit erin@%s through the KDC proxy: %v\n%s", east, err, out)
	}
	if st := ek.Stats(); st.AS < 2 {
		t.Fatalf("EAST KDC stats %+v: not reached", st)
	}
	if st := ns.Stats(); st == (dns.Stats{}) {
		t.Fatal("the fake DNS was not asked")
	}
}

// KRB-02: the SPN follows the server actually chosen. Two Exchange
// servers, each with its own SPN (the Server SPN List pairs with the
// server list by position); the first goes down and the device's
// requests fail over to the second, which gets a ticket for its own SPN.
func TestKRB02_FailoverUsesTheChosenServersSPN(t *testing.T) {
	const mail2SPN = "http/mail2.corp.example"
	k := startCorpKDC(t)
	if err := k.AddPrincipal(kdc.Principal{Name: mail2SPN, Password: "mail2-secret"}); err != nil {
		t.Fatal(err)
	}
	if err := k.AllowDelegation(sentrySPN, mailSPN, mail2SPN); err != nil {
		t.Fatal(err)
	}
	kt1, _ := k.Keytab(mailSPN)
	kt2, _ := k.Keytab(mail2SPN)
	neg1 := &exchange.NegotiateAuthenticator{Keytab: kt1, Realm: krbRealm}
	neg2 := &exchange.NegotiateAuthenticator{Keytab: kt2, Realm: krbRealm}
	second := startExchangeWith(t, neg2)
	caCert := testca.New(t, "Device CA", time.Now(), nil)
	caPEM := caCert.PEM()
	w := newWorld(t, func(w *world) {
		w.newExchange = func(t *testing.T) *exchange.Server { return startExchangeWith(t, neg1) }
		w.gwConfig = func(gc *uemapi.GatewayConfig) {
			gc.DeviceAuth = uemapi.DeviceAuth{Mode: uemapi.DeviceAuthIdentity, TrustedCertsPEM: caPEM,
				FieldMapping: []uemapi.FieldMapping{{Target: "user_upn", Field: "rfc822_name"}}}
			svc := &gc.ActiveSync.Services[0]
			svc.Servers = w.exch.Addr() + ";" + second.Addr()
			svc.HealthCheck.Enabled = false
			svc.ServerAuth, svc.SPNs = uemapi.AuthKerberos, mailSPN+";"+mail2SPN
			gc.Servers = uemapi.ServerManagement{Scheduling: uemapi.SchedulePriority, DeadThreshold: 1, FailureWindowMs: 60000, DeadTimeMs: 600000}
			gc.Kerberos = &uemapi.KerberosConfig{Realm: krbRealm, ServicePrincipal: sentrySPN, Password: sentryPass, KDCs: k.Addr()}
		}
	})
	w.dev = &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		InsecureSkipVerify: true, //nolint:gosec // test gateway certificate
		Certificates:       []tls.Certificate{caCert.Client(t, "alice@corp.example", "alice@corp.example")},
	}}}
	w.provision("ALICEPHONE", "alice")
	if len(neg1.Seen()) == 0 || len(neg2.Seen()) != 0 {
		t.Fatalf("before the failover: first saw %v, second %v", neg1.Seen(), neg2.Seen())
	}
	if err := w.exch.SetFaults(exchange.Faults{Down: true}); err != nil {
		t.Fatal(err)
	}
	w.keys["ALICEPHONE"] = "" // the second server has its own policy key
	w.provision("ALICEPHONE", "alice")
	if code, st := w.device("ALICEPHONE", "alice", eas.CmdFolderSync); code != http.StatusOK || st != "1" {
		t.Fatalf("FolderSync after the failover: HTTP %d status %q", code, st)
	}
	if seen := neg2.Seen(); len(seen) < 3 || slices.ContainsFunc(seen, func(s string) bool { return s != "alice@"+krbRealm }) {
		t.Fatalf("the second server saw %v, want alice with a ticket for %s", seen, mail2SPN)
	}
	rows, err := w.adm.KerberosCache(context.Background(), "alice")
	if err != nil || len(rows) != 2 || rows[0].SPN != mailSPN || rows[1].SPN != mail2SPN {
		t.Fatalf("ticket cache %+v %v: want one ticket per server's SPN", rows, err)
	}
}

// KRB-16: a server that refuses a cached ticket (here its service key
// changed, as a password change of the Exchange service account does)
// makes the gateway purge that (UPN, SPN) ticket and retry once with a
// fresh one: the device never sees the 401.
func TestKRB16_A401PurgesTheTicketAndRetriesOnce(t *testing.T) {
	k := startCorpKDC(t)
	w, neg := kcdWorld(t, k, mailSPN)
	w.provision("ALICEPHONE", "alice")
	before := k.Stats().S4U2Proxy
	if err := k.AddPrincipal(kdc.Principal{Name: mailSPN, Password: "mail-secret-2", KVNO: 2}); err != nil {
		t.Fatal(err)
	}
	kt, err := k.Keytab(mailSPN)
	if err != nil {
		t.Fatal(err)
	}
	neg.SetKeytab(kt)
	seen := len(neg.Seen())
	if code, st := w.device("ALICEPHONE", "alice", eas.CmdFolderSync); code != http.StatusOK || st != "1" {
		t.Fatalf("FolderSync after the key change: HTTP %d status %q, want the retry to pass", code, st)
	}
	if got := k.Stats().S4U2Proxy - before; got != 1 {
		t.Fatalf("%d new S4U2Proxy exchanges, want 1 (the stale ticket purged, one fresh ticket)", got)
	}
	if len(neg.Seen()) != seen+1 {
		t.Fatalf("Exchange accepted %d more tickets, want 1", len(neg.Seen())-seen)
	}
	// The fresh ticket is cached again: the next request needs no KDC.
	if code, _ := w.device("ALICEPHONE", "alice", eas.CmdFolderSync); code != http.StatusOK || k.Stats().S4U2Proxy-before != 1 {
		t.Fatalf("next request: HTTP %d, %d S4U2Proxy", code, k.Stats().S4U2Proxy-before)
	}
	// A server that refuses every ticket: one retry, then the 401 and the counter.
	neg.SetKeytab(mustKeytab(t, "http/mail.corp.example", "nobody-knows"))
	if code, _ := w.device("ALICEPHONE", "alice", eas.CmdFolderSync); code != http.StatusUnauthorized {
		t.Fatalf("every ticket refused: HTTP %d, want the server's 401", code)
	}
	if got := k.Stats().S4U2Proxy - before; got != 2 {
		t.Fatalf("%d S4U2Proxy in all, want 2 (one retry only)", got)
	}
	cs, err := w.adm.StatsEntry(context.Background(), "ALICEPHONE", "alice@corp.example", "kerberos")
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(cs, func(c admin.Counter) bool { return c.Name == "kerberos-auth-error" }); i < 0 || cs[i].Value != 1 {
		t.Fatalf("kerberos-auth-error counter: %+v", cs)
	}
}

// mustKeytab is a keytab for spn with keys from password, kvno 9: keys
// no KDC issued tickets for.
func mustKeytab(t *testing.T, spn, password string) *keytab.Keytab {
	t.Helper()
	kt := keytab.New()
	for _, et := range []int32{kdc.AES256, kdc.AES128} {
		if err := kt.AddEntry(spn, krbRealm, password, time.Now(), 9, et); err != nil {
			t.Fatal(err)
		}
	}
	return kt
}

// KDC-08, KDC-05: with DNS discovery disabled and no KDC configured for
// the realm, no ticket can be had: Kerberos initialisation keeps failing
// (and says why), and a device's request fails with 502, the reason and
// kerberos-auth-error, never reaching Exchange.
func TestKDC08_DiscoveryDisabledWithoutAKDCFails(t *testing.T) {
	k := startCorpKDC(t)
	w, neg := kcdWorld(t, k, mailSPN, func(kc *uemapi.KerberosConfig) {
		kc.KDCs, kc.DNSDiscovery, kc.KDCProxy = "", false, false
	})
	ctx := context.Background()
	gomega.NewWithT(t).Eventually(func() bool {
		i, err := w.adm.KerberosInfo(ctx)
		return err == nil && i.InitAttempts >= 2 && !i.Initialised && strings.Contains(i.LastError, "DNS discovery is disabled")
	}).WithTimeout(20*time.Second).Should(gomega.BeTrue(), "a failed Kerberos initialisation")
	code, _ := w.post("ALICEPHONE", "alice", eas.CmdProvision, nil)
	if code != http.StatusBadGateway {
		t.Fatalf("Provision without a KDC: HTTP %d, want 502", code)
	}
	if len(neg.Seen()) != 0 || k.Stats().AS != 0 {
		t.Fatalf("Exchange saw %v, the KDC %+v: nothing should reach them", neg.Seen(), k.Stats())
	}
	cs, err := w.adm.StatsEntry(ctx, "ALICEPHONE", "alice@corp.example", "kerberos")
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(cs, func(c admin.Counter) bool { return c.Name == "kerberos-auth-error" }); i < 0 || cs[i].Value != 1 {
		t.Fatalf("kerberos-auth-error counter: %+v", cs)
	}
}

// KKD-01: the KDC proxy answers only with Enable Kerberos Proxy on; the
// switch changes nothing else (delegation keeps its TGT and tickets).
func TestKKD01_KDCProxyNeedsItsSwitch(t *testing.T) {
	k := startCorpKDC(t)
	w, _ := kcdWorld(t, k, mailSPN)
	ctx := context.Background()
	gomega.NewWithT(t).Eventually(func() bool {
		i, err := w.adm.KerberosInfo(ctx)
		return err == nil && i.Initialised
	}).WithTimeout(20*time.Second).Should(gomega.BeTrue(), "Kerberos initialised")
	w.provision("ALICEPHONE", "alice")
	if code, st := w.device("ALICEPHONE", "alice", eas.CmdFolderSync); code != 200 || st != "1" {
		t.Fatalf("FolderSync through KCD: %d %q", code, st)
	}
	kkdcp := func() int { // a malformed message: 400 when the proxy is on
		resp, err := w.dev.Post(w.gw.DeviceURL()+"/KdcProxy", "application/kerberos", strings.NewReader("not a KDC-PROXY-MESSAGE"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := kkdcp(); code != http.StatusBadRequest {
		t.Fatalf("proxy on, malformed message: HTTP %d, want 400", code)
	}
	setProxy := func(on bool) {
		gc := uemapi.DefaultGatewayConfig()
		gc.ActiveSync.Services = []uemapi.ActiveSyncService{uemapi.DefaultActiveSyncService(w.exch.Addr())}
		gc.ActiveSync.Services[0].ServerTLS = true
		w.gwConfig(&gc)
		gc.Kerberos.KDCProxy = on
		w.uemAdmin(http.MethodPut, "/gateways/gw1/config", gc, nil)
	}
	before := k.Stats()
	setProxy(false)
	gomega.NewWithT(t).Eventually(kkdcp).WithTimeout(20*time.Second).Should(gomega.Equal(http.StatusNotFound), "the KDC proxy switched off")
	if code, st := w.device("ALICEPHONE", "alice", eas.CmdFolderSync); code != 200 || st != "1" {
		t.Fatalf("FolderSync with the proxy off: %d %q", code, st)
	}
	if st := k.Stats(); st.AS != before.AS {
		t.Fatalf("KDC stats %+v, before the switch %+v: it re-initialised Kerberos", st, before)
	}
	setProxy(true)
	gomega.NewWithT(t).Eventually(kkdcp).WithTimeout(20*time.Second).Should(gomega.Equal(http.StatusBadRequest), "the KDC proxy switched on")
}

// mitKinitOverHTTPS returns MIT kinit and klist, after checking for the
// k5tls plugin kinit needs to reach a KDC proxy over HTTPS.
func mitKinitOverHTTPS(t *testing.T) (kinit, klist string) {
	t.Helper()
	kinit = peers.Require(t, "kinit", "krb5-user")
	klist = peers.Require(t, "klist", "krb5-user")
	peers.RequireFile(t, "/usr/lib/*/krb5/plugins/tls/k5tls.so", "krb5-k5tls")
	return kinit, klist
}

package delegation_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/fakes/kdc"
	"github.com/gatehouse-lab/gatehouse/gateway/kerberos/delegation"
	"github.com/gatehouse-lab/gatehouse/protocol/kerberos"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

const (
	realm      = "CORP.EXAMPLE"
	sentrySPN  = "HTTP/sentry1_eas_kcd"
	sentryPass = "sentry-secret"
	mailSPN    = "http/mail.corp.example"
)

func startKDC(t testing.TB) *kdc.Server {
	t.Helper()
	s, err := kdc.New(kdc.Config{Realm: realm, Logger: slog.New(slog.DiscardHandler)})
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

func config(s *kdc.Server) uemapi.KerberosConfig {
	return uemapi.KerberosConfig{Realm: realm, ServicePrincipal: sentrySPN, Password: sentryPass, KDCs: s.Addr(), DNSDiscovery: false}
}

func newDelegator(t testing.TB, cfg uemapi.KerberosConfig, opts delegation.Options) *delegation.Delegator {
	t.Helper()
	opts.Log = slog.New(slog.DiscardHandler)
	k, err := delegation.New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestDEF06_BackoffDoublesToAnHourWithJitter(t *testing.T) {
	schedule := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour, time.Hour}
	exact := delegation.DefaultBackoff
	exact.Jitter = 0
	b := exact.BackOff()
	for n, want := range schedule {
		if got := b.NextBackOff(); got != want {
			t.Fatalf("delay %d = %v, want %v", n, got, want)
		}
	}
	// ±20 % around each step, the cap applying before the jitter: a
	// capped delay is at most 72 minutes. 200 schedules, bounded.
	if j := delegation.DefaultBackoff; j.Initial != time.Minute || j.Max != time.Hour || j.Jitter != 0.2 {
		t.Fatalf("DefaultBackoff %+v, want 1m doubling to 1h with 20%% jitter", j)
	}
	var spread [2]time.Duration // the lowest and highest first delay seen
	for range 200 {
		b := delegation.DefaultBackoff.BackOff()
		for n, want := range schedule {
			got := b.NextBackOff()
			if lo, hi := want*8/10, want*12/10+time.Nanosecond; got < lo || got > hi {
				t.Fatalf("jittered delay %d = %v, want within [%v, %v]", n, got, lo, hi)
			}
			if n == 0 && (spread[0] == 0 || got < spread[0]) {
				spread[0] = got
			}
			if n == 0 && got > spread[1] {
				spread[1] = got
			}
		}
	}
	if spread[0] == spread[1] {
		t.Fatalf("first delay always %v: no jitter", spread[0])
	}
}

func TestKRB06_InitRetriesUntilTheKDCKnowsTheGateway(t *testing.T) {
	s := startKDC(t)
	cfg := config(s)
	cfg.ServicePrincipal = "HTTP/late"
	var mu sync.Mutex
	var delays []time.Duration
	noJitter := delegation.DefaultBackoff
	noJitter.Jitter = 0
	k := newDelegator(t, cfg, delegation.Options{Retry: noJitter, After: func(d time.Duration) <-chan time.Time {
		mu.Lock()
		delays = append(delays, d)
		if len(delays) == 3 { // the administrator fixes the KDC
			_ = s.AddPrincipal(kdc.Principal{Name: "HTTP/late", Password: sentryPass})
		}
		mu.Unlock()
		c := make(chan time.Time, 1)
		c <- time.Now()
		return c
	}})
	if err := k.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute}
	if len(delays) != 3 || delays[0] != want[0] || delays[1] != want[1] || delays[2] != want[2] {
		t.Fatalf("retry delays %v, want %v", delays, want)
	}
	if i := k.Info(); !i.Initialised || i.InitAttempts != 4 {
		t.Fatalf("info %+v", i)
	}
	// KRB-07: initialising by hand does nothing when already initialised.
	before := s.Stats().AS
	if already, err := k.Init(context.Background()); !already || err != nil || s.Stats().AS != before {
		t.Fatalf("Init when initialised: %v %v, AS %d -> %d", already, err, before, s.Stats().AS)
	}
}

func TestKRB06_RunStopsWithItsContext(t *testing.T) {
	k := newDelegator(t, uemapi.KerberosConfig{Realm: realm, ServicePrincipal: sentrySPN, Password: "x", KDCs: "127.0.0.1:1"}, delegation.Options{PerKDC: 200 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- k.Run(ctx) }()
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Run succeeded without a KDC")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop")
	}
	if k.Info().Initialised {
		t.Fatal("initialised without a KDC")
	}
}

// KRB-09, KRB-16: the header is accepted by a Negotiate service holding the
// target's keytab; the ticket is cached per (UPN, SPN) until idle too long.
func TestKRB16_NegotiateHeaderAndTicketCache(t *testing.T) {
	now := time.Now()
	var clock sync.Mutex
	tick := func() time.Time {
		clock.Lock()
		defer clock.Unlock()
		now = now.Add(time.Millisecond) // authenticators differ, as real time makes them
		return now
	}
	s := startKDC(t)
	// Idle timeout and clock jump stay within the 5-minute Kerberos skew.
	k := newDelegator(t, config(s), delegation.Options{IdleTimeout: 2 * time.Minute, Now: tick})
	kt, err := s.Keytab(mailSPN)
	if err != nil {
		t.Fatal(err)
	}
	auth := &exchange.NegotiateAuthenticator{Keytab: kt, Realm: realm}
	check := func() {
		t.Helper()
		h, err := k.NegotiateHeader(context.Background(), "alice@corp.example", mailSPN)
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.Header.Set("Authorization", h)
		if user, err := auth.Authenticate(r); err != nil || user != "alice" {
			t.Fatalf("service saw %q, %v", user, err)
		}
	}
	check()
	check()
	if st := s.Stats(); st.S4U2Proxy != 1 {
		t.Fatalf("two headers took %d S4U2Proxy, want 1 (cached)", st.S4U2Proxy)
	}
	rows := k.Cache("ALICE")
	if len(rows) != 1 || rows[0].UPN != "alice@corp.example" || rows[0].SPN != mailSPN || k.Info().CacheSize != 1 {
		t.Fatalf("cache %+v", rows)
	}
	clock.Lock()
	now = now.Add(3 * time.Minute)
	clock.Unlock()
	check()
	if st := s.Stats(); st.S4U2Proxy != 2 {
		t.Fatalf("after the idle timeout %d S4U2Proxy, want 2", st.S4U2Proxy)
	}
	// Devices of one user reconnecting together share one S4U exchange.
	k.Purge("alice@corp.example")
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if _, err := k.Ticket(context.Background(), "alice@corp.example", mailSPN); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if st := s.Stats(); st.S4U2Proxy != 3 {
		t.Fatalf("16 concurrent misses took %d S4U2Proxy in all, want 3", st.S4U2Proxy)
	}
	if n := k.Purge("Alice@corp.example"); n != 1 || len(k.Cache("")) != 0 {
		t.Fatalf("purged %d, left %+v", n, k.Cache(""))
	}
	// An idle ticket leaves the cache and its size (KRB-11 cache-size).
	check()
	clock.Lock()
	now = now.Add(3 * time.Minute)
	clock.Unlock()
	if i := k.Info(); i.CacheSize != 0 {
		t.Fatalf("cache size after the idle timeout: %d", i.CacheSize)
	}
	clock.Lock()
	now = time.Now() // back within the KDC's skew
	clock.Unlock()
	// KRB-02: SPNs are case-sensitive; the KDC refuses one not in the list.
	if _, err := k.NegotiateHeader(context.Background(), "alice@corp.example", "http/MAIL.corp.example"); err == nil || !strings.Contains(err.Error(), "S4U2Proxy") {
		t.Fatalf("SPN outside the delegation list: %v", err)
	}
}

func TestKRB02_SPNFor(t *testing.T) {
	for _, tc := range []struct {
		svc  uemapi.ActiveSyncService
		host string
		want string
	}{
		{uemapi.ActiveSyncService{DeriveSPN: true}, "CAS.ironmobile.com", "http/CAS.ironmobile.com"},
		{uemapi.ActiveSyncService{SPNs: "http/cas1.corp.example; http/cas2.corp.example"}, "cas2.corp.example", "http/cas2.corp.example"},
		{uemapi.ActiveSyncService{SPNs: "http/cas1.corp.example;http/cas2.corp.example"}, "CAS2.corp.example", "http/cas1.corp.example"},
		{uemapi.ActiveSyncService{SPNs: "http/CAS.ironmobile.com@IRON.COM"}, "CAS.ironmobile.com", "http/CAS.ironmobile.com@IRON.COM"},
		// The Server SPN List pairs with the server list by position.
		{uemapi.ActiveSyncService{Servers: "10.0.0.1:443;10.0.0.2:443", SPNs: "http/cas1.corp.example;http/cas2.corp.example"}, "10.0.0.2:443", "http/cas2.corp.example"},
		{uemapi.ActiveSyncService{Servers: "127.0.0.1:4431;127.0.0.1:4432", SPNs: "http/cas1.corp.example;http/cas2.corp.example"}, "127.0.0.1:4432", "http/cas2.corp.example"},
		{uemapi.ActiveSyncService{Servers: "cas1;cas2", SPNs: "http/a.corp.example;http/b.corp.example"}, "cas2:443", "http/b.corp.example"},
		{uemapi.ActiveSyncService{DeriveSPN: true, Servers: "cas1.corp.example:443"}, "cas1.corp.example:443", "http/cas1.corp.example"},
	} {
		if got, err := delegation.SPNFor(tc.svc, tc.host); err != nil || got != tc.want {
			t.Errorf("SPNFor(%+v, %s) = %q, %v; want %q", tc.svc, tc.host, got, err, tc.want)
		}
	}
	if _, err := delegation.SPNFor(uemapi.ActiveSyncService{Name: "x"}, "h"); err == nil {
		t.Error("no SPN list and no derivation: no error")
	}
}

func TestKRB03_KeytabConfigNamesRealmAndPrincipal(t *testing.T) {
	s := startKDC(t)
	kt, err := s.KeytabBytes(sentrySPN)
	if err != nil {
		t.Fatal(err)
	}
	k := newDelegator(t, uemapi.KerberosConfig{UseKeytab: true, Keytab: kt, KDCs: s.Addr()}, delegation.Options{})
	if k.Realm() != realm || k.ServicePrincipal() != sentrySPN {
		t.Fatalf("from the keytab: %s@%s", k.ServicePrincipal(), k.Realm())
	}
	if _, err := k.Init(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func post(t *testing.T, h http.HandlerFunc, method, ct string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, delegation.ProxyPath, bytes.NewReader(body))
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	w := httptest.NewRecorder()
	h(w, r)
	return w
}

func TestKKD01_ProxyRefusesBadRequests(t *testing.T) {
	s := startKDC(t)
	k := newDelegator(t, config(s), delegation.Options{})
	for _, tc := range []struct {
		name, method, ct string
		body             []byte
		want             int
	}{
		{"GET", http.MethodGet, "", nil, http.StatusMethodNotAllowed},
		{"too large", http.MethodPost, delegation.ContentType, make([]byte, kerberos.MaxProxyMessageSize+1), http.StatusRequestEntityTooLarge},
		{"not DER", http.MethodPost, delegation.ContentType, []byte("hello"), http.StatusBadRequest},
		{"media type", http.MethodPost, "text/plain", []byte("hello"), http.StatusUnsupportedMediaType},
	} {
		if w := post(t, k.ServeKKDCP, tc.method, tc.ct, tc.body); w.Code != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, w.Code, tc.want)
		}
	}
}

func TestKKD01_ProxyForwardsToTheRealmKDC(t *testing.T) {
	s := startKDC(t)
	k := newDelegator(t, config(s), delegation.Options{})
	req, err := kerberos.NewASReq(kerberos.PrincipalFromSPN("alice"), realm, nil, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	inner, _ := req.Marshal()
	body, _ := kerberos.ProxyMessage{Message: inner, TargetDomain: realm}.Marshal()
	w := post(t, k.ServeKKDCP, http.MethodPost, delegation.ContentType, body)
	if w.Code != 200 || w.Header().Get("Content-Type") != delegation.ContentType {
		t.Fatalf("HTTP %d %s", w.Code, w.Body)
	}
	b, _ := io.ReadAll(w.Body)
	rep, err := kerberos.DecodeProxyMessage(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The first AS-REQ without pre-authentication gets PREAUTH_REQUIRED.
	if _, _, ok := kerberos.PreauthHint(kerberosParse(rep.Message, req.ReqBody.Nonce)); !ok {
		t.Fatalf("reply is not PREAUTH_REQUIRED")
	}
	if st := s.Stats(); st.TCP == 0 {
		t.Fatalf("KDC stats %+v: not reached over TCP", st)
	}
	// A realm the gateway is not configured for: 403 (proxy_test.go).
	body, _ = kerberos.ProxyMessage{Message: inner, TargetDomain: "OTHER.EXAMPLE"}.Marshal()
	if w := post(t, k.ServeKKDCP, http.MethodPost, delegation.ContentType, body); w.Code != http.StatusForbidden {
		t.Fatalf("unknown realm: %d", w.Code)
	}
}

func kerberosParse(b []byte, nonce int) error {
	_, err := kerberos.ParseASRep(b, nonce, nil)
	return err
}

func TestKRB15_CheckKDC(t *testing.T) {
	s := startKDC(t)
	c := delegation.CheckKDC(context.Background(), "127.0.0.1", s.Port(), nil, time.Second)
	if !c.OK || c.Lines[0] != "Connecting to KDC 127.0.0.1, port "+itoa(s.Port()) || c.Lines[1] != "Connection successful." || c.Lines[2] != "Address: 127.0.0.1/127.0.0.1:"+itoa(s.Port()) {
		t.Fatalf("%+v", c)
	}
	if c := delegation.CheckKDC(context.Background(), "no-such-kdc.invalid", 0, nil, time.Second); c.OK || c.Port != 88 || c.Lines[1] != "Connection failed." {
		t.Fatalf("%+v", c)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

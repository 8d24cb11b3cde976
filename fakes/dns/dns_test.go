package dns

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

const realm = "CORP.EXAMPLE"

func startDNS(t *testing.T) *Server {
	t.Helper()
	s, err := New(Config{Zones: []string{"corp.example"}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.AddHost(Host{Name: "kdc1.corp.example", Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")}}))
	must(s.AddHost(Host{Name: "mail.corp.example", Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.2")}}))
	must(s.AddKDC(realm, KDC{Target: "kdc1.corp.example", Port: 10088}))
	must(s.AddKDC(realm, KDC{Target: "kdc2.corp.example", Priority: 10, Weight: 5, TCP: true}))
	must(s.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	return s
}

func query(t *testing.T, s *Server, net, name string, qt uint16) *mdns.Msg {
	t.Helper()
	c := &mdns.Client{Net: net, Timeout: 2 * time.Second}
	m := new(mdns.Msg)
	m.SetQuestion(mdns.Fqdn(name), qt)
	r, _, err := c.Exchange(m, s.Addr())
	if err != nil {
		t.Fatalf("%s %s %s: %v", net, name, mdns.TypeToString[qt], err)
	}
	return r
}

// DEF-07: SRV _kerberos._tcp/_udp.<REALM> per realm, with port and priority.
func TestDEF07_KerberosSRVRecords(t *testing.T) {
	s := startDNS(t)
	r := query(t, s, "udp", "_kerberos._tcp."+realm, mdns.TypeSRV)
	if len(r.Answer) != 2 || !r.Authoritative {
		t.Fatalf("tcp SRV answer %v (aa=%v), want 2 records", r.Answer, r.Authoritative)
	}
	first := r.Answer[0].(*mdns.SRV)
	if first.Target != "kdc1.corp.example." || first.Port != 10088 || first.Priority != 0 {
		t.Fatalf("first SRV %v", first)
	}
	if second := r.Answer[1].(*mdns.SRV); second.Port != 88 || second.Priority != 10 || second.Weight != 5 {
		t.Fatalf("second SRV %v, want default port 88", second)
	}
	r = query(t, s, "tcp", "_kerberos._udp.corp.example", mdns.TypeSRV) // DNS names are case-insensitive
	if len(r.Answer) != 1 {
		t.Fatalf("udp SRV answer %v, want only the KDC published for UDP", r.Answer)
	}
	r = query(t, s, "udp", "_kerberos."+realm, mdns.TypeTXT)
	if len(r.Answer) != 1 || r.Answer[0].(*mdns.TXT).Txt[0] != realm {
		t.Fatalf("TXT answer %v", r.Answer)
	}
}

func TestKDC03_HostsAndNegativeAnswers(t *testing.T) {
	s := startDNS(t)
	r := query(t, s, "udp", "kdc1.corp.example", mdns.TypeA)
	if len(r.Answer) != 1 || r.Answer[0].(*mdns.A).A.String() != "127.0.0.1" {
		t.Fatalf("A answer %v", r.Answer)
	}
	r = query(t, s, "udp", "kdc1.corp.example", mdns.TypeAAAA)
	if len(r.Answer) != 1 || r.Answer[0].(*mdns.AAAA).AAAA.String() != "::1" {
		t.Fatalf("AAAA answer %v", r.Answer)
	}
	if r = query(t, s, "udp", "nope.corp.example", mdns.TypeA); r.Rcode != mdns.RcodeNameError || len(r.Ns) != 1 {
		t.Fatalf("unknown name: rcode %s ns %v, want NXDOMAIN with SOA", mdns.RcodeToString[r.Rcode], r.Ns)
	}
	if r = query(t, s, "udp", "mail.corp.example", mdns.TypeAAAA); r.Rcode != mdns.RcodeSuccess || len(r.Answer) != 0 {
		t.Fatalf("no AAAA: rcode %s answer %v, want NOERROR/NODATA", mdns.RcodeToString[r.Rcode], r.Answer)
	}
	if r = query(t, s, "udp", "_tcp.corp.example", mdns.TypeA); r.Rcode != mdns.RcodeSuccess {
		t.Fatalf("empty non-terminal: rcode %s, want NOERROR", mdns.RcodeToString[r.Rcode])
	}
	if r = query(t, s, "udp", "example.org", mdns.TypeA); r.Rcode != mdns.RcodeRefused {
		t.Fatalf("outside the zones: rcode %s, want REFUSED", mdns.RcodeToString[r.Rcode])
	}
}

// KDC-04: a huge SRV answer is truncated over UDP (TC) and complete over TCP.
func TestKDC04_HugeAnswerTruncatesOverUDP(t *testing.T) {
	s := startDNS(t)
	s.SetFaults(Faults{ExtraSRV: 300})
	r := query(t, s, "udp", "_kerberos._tcp."+realm, mdns.TypeSRV)
	if !r.Truncated {
		t.Fatalf("UDP answer with 302 SRV records not truncated (%d records)", len(r.Answer))
	}
	r = query(t, s, "tcp", "_kerberos._tcp."+realm, mdns.TypeSRV)
	if r.Truncated || len(r.Answer) != 302 {
		t.Fatalf("TCP answer: tc=%v, %d records, want 302", r.Truncated, len(r.Answer))
	}
	if st := s.Stats(); st.Truncated != 1 || st.TCP != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestKDC04_ServFailSlowAndDrop(t *testing.T) {
	s := startDNS(t)
	s.SetFaults(Faults{ServFail: true})
	if r := query(t, s, "udp", "kdc1.corp.example", mdns.TypeA); r.Rcode != mdns.RcodeServerFailure {
		t.Fatalf("rcode %s, want SERVFAIL", mdns.RcodeToString[r.Rcode])
	}
	const delay = 200 * time.Millisecond
	s.SetFaults(Faults{Delay: delay})
	start := time.Now()
	query(t, s, "udp", "kdc1.corp.example", mdns.TypeA)
	if el := time.Since(start); el < delay {
		t.Fatalf("answer after %v with a %v delay", el, delay)
	}
	s.SetFaults(Faults{Drop: true})
	c := &mdns.Client{Net: "udp", Timeout: 200 * time.Millisecond}
	m := new(mdns.Msg)
	m.SetQuestion("kdc1.corp.example.", mdns.TypeA)
	if _, _, err := c.Exchange(m, s.Addr()); err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("dropped query: %v, want a timeout", err)
	}
}

package dns

import (
	"fmt"
	"strings"
	"time"

	mdns "github.com/miekg/dns"
)

// ServeDNS answers one query: faults first, then the records.
func (s *Server) ServeDNS(w mdns.ResponseWriter, r *mdns.Msg) {
	f := s.Faults()
	tcp := strings.HasPrefix(w.LocalAddr().Network(), "tcp")
	s.count(func(st *Stats) {
		st.Queries++
		if tcp {
			st.TCP++
		}
	})
	v := s.inj.Message(s.ctx)
	if f.Drop || v.Drop {
		return
	}
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-s.ctx.Done():
			t.Stop()
			return
		}
	}
	m := new(mdns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	if f.ServFail || v.Status != 0 || len(r.Question) != 1 {
		m.Rcode = mdns.RcodeServerFailure
		if v.Status >= 400 && v.Status < 500 {
			m.Rcode = mdns.RcodeRefused
		}
		if len(r.Question) != 1 {
			m.Rcode = mdns.RcodeFormatError
		}
		m.Authoritative = false
		w.WriteMsg(m)
		return
	}
	q := r.Question[0]
	s.answer(m, q, f)
	if !tcp {
		size := 512
		if o := r.IsEdns0(); o != nil {
			size = int(o.UDPSize())
			m.SetEdns0(o.UDPSize(), false)
		}
		m.Truncate(size) // sets TC when it does not fit: the client retries over TCP
		if m.Truncated {
			s.count(func(st *Stats) { st.Truncated++ })
		}
	}
	if err := w.WriteMsg(m); err != nil {
		s.log.Debug("dns write", "error", err)
	}
}

func (s *Server) answer(m *mdns.Msg, q mdns.Question, f Faults) {
	name := canon(q.Name)
	ttl := uint32(s.cfg.TTL / time.Second)
	hdr := func(t uint16) mdns.RR_Header {
		return mdns.RR_Header{Name: q.Name, Rrtype: t, Class: mdns.ClassINET, Ttl: ttl}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	zone, ok := s.zoneOf(name)
	if !ok {
		m.Rcode = mdns.RcodeRefused
		m.Authoritative = false
		return
	}
	exists := false
	if addrs, ok := s.hosts[name]; ok {
		exists = true
		for _, a := range addrs {
			switch {
			case a.Is4() && (q.Qtype == mdns.TypeA || q.Qtype == mdns.TypeANY):
				m.Answer = append(m.Answer, &mdns.A{Hdr: hdr(mdns.TypeA), A: a.AsSlice()})
			case a.Is6() && (q.Qtype == mdns.TypeAAAA || q.Qtype == mdns.TypeANY):
				m.Answer = append(m.Answer, &mdns.AAAA{Hdr: hdr(mdns.TypeAAAA), AAAA: a.AsSlice()})
			}
		}
	}
	if kdcs, ok := s.srv[name]; ok {
		exists = true
		if q.Qtype == mdns.TypeSRV || q.Qtype == mdns.TypeANY {
			for _, k := range kdcs {
				m.Answer = append(m.Answer, &mdns.SRV{Hdr: hdr(mdns.TypeSRV), Priority: k.Priority, Weight: k.Weight, Port: k.Port, Target: mdns.Fqdn(k.Target)})
			}
			// KDC-04: a DNS server listing every KDC it knows.
			for i := 0; i < f.ExtraSRV; i++ {
				m.Answer = append(m.Answer, &mdns.SRV{Hdr: hdr(mdns.TypeSRV), Priority: 100, Weight: 0, Port: 88,
					Target: fmt.Sprintf("unreachable-kdc-%04d.%s", i, zone)})
			}
		}
	}
	if realm, ok := s.txt[name]; ok {
		exists = true
		if q.Qtype == mdns.TypeTXT || q.Qtype == mdns.TypeANY {
			m.Answer = append(m.Answer, &mdns.TXT{Hdr: hdr(mdns.TypeTXT), Txt: []string{realm}})
		}
	}
	if !exists && !s.hasChildren(name) {
		m.Rcode = mdns.RcodeNameError
	}
	if len(m.Answer) == 0 {
		m.Ns = append(m.Ns, s.soa(zone, ttl))
	}
}

// zoneOf returns the longest served zone containing name.
func (s *Server) zoneOf(name string) (string, bool) {
	best := ""
	for z := range s.zones {
		if mdns.IsSubDomain(z, name) && len(z) > len(best) {
			best = z
		}
	}
	return best, best != ""
}

// hasChildren reports an empty non-terminal (e.g. _tcp.corp.example.).
func (s *Server) hasChildren(name string) bool {
	for _, m := range []map[string]bool{keysOf(s.hosts), keysOf(s.srv), keysOf(s.txt)} {
		for n := range m {
			if n != name && mdns.IsSubDomain(name, n) {
				return true
			}
		}
	}
	return false
}

func keysOf[V any](m map[string]V) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

func (s *Server) soa(zone string, ttl uint32) mdns.RR {
	return &mdns.SOA{Hdr: mdns.RR_Header{Name: zone, Rrtype: mdns.TypeSOA, Class: mdns.ClassINET, Ttl: ttl},
		Ns: "ns." + zone, Mbox: "hostmaster." + zone, Serial: 1, Refresh: 3600, Retry: 600, Expire: 86400, Minttl: ttl}
}

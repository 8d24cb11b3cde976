package apptunnel

import (
	"net"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// Kind is what a service carries (ATS-03, ATS-04).
type Kind uint8

// Service kinds.
const (
	KindHTTP Kind = iota // custom name: HTTP/HTTPS
	KindTCP              // TCP* names and <TCP_ANY>
	KindCIFS             // CIFS_* names and <CIFS_ANY>
	KindIP               // <IP_ANY>, <IP_ANY_WP8.1>: out of scope
)

// service is one AppTunnel service ready for lookups.
type service struct {
	name      string
	kind      Kind
	reserved  bool     // <ANY>, <TCP_ANY>, <CIFS_ANY>, <IP_ANY…>
	servers   []string // "host:port", lower-cased host (custom services)
	wildcards []string // lower-cased host or "*.suffix" (reserved services)
	tls       bool     // TLS towards the server (ATS-10)
	proxyATC  bool     // through the server-side proxy / ATC (ATS-15)
	kerberos  bool     // Kerberos server authentication (ATS-11)
	spns      []string // paired with servers by position (ATS-12)
	next      atomic.Uint64
}

// services is the table built from the UEM's AppTunnel configuration.
type services struct {
	byName map[string]*service
	custom []*service // in configuration order, for the destination lookup
}

func newServices(c uemapi.AppTunnelConfig) *services {
	t := &services{byName: map[string]*service{}}
	for _, s := range c.Services {
		sv := &service{name: s.Name, tls: s.TLSEnabled, proxyATC: s.ProxyATC, kerberos: s.ServerAuth == uemapi.AuthKerberos, spns: splitList(s.SPNs)}
		switch s.Name {
		case uemapi.ServiceAny:
			sv.reserved, sv.kind = true, KindHTTP
		case uemapi.ServiceTCPAny:
			sv.reserved, sv.kind = true, KindTCP
		case uemapi.ServiceCIFSAny:
			sv.reserved, sv.kind = true, KindCIFS
		case uemapi.ServiceIPAny, uemapi.ServiceIPAnyWP:
			sv.reserved, sv.kind = true, KindIP
		default:
			switch {
			case strings.HasPrefix(strings.ToUpper(s.Name), "TCP"):
				sv.kind = KindTCP
			case strings.HasPrefix(s.Name, "CIFS_"):
				sv.kind = KindCIFS
			}
		}
		for _, e := range splitList(s.Servers) {
			sv.servers = append(sv.servers, strings.ToLower(e))
		}
		for _, e := range splitList(s.HostWildcards) {
			sv.wildcards = append(sv.wildcards, strings.ToLower(e))
		}
		t.byName[s.Name] = sv
		if !sv.reserved {
			t.custom = append(t.custom, sv)
		}
	}
	return t
}

func splitList(s string) []string {
	var out []string
	for _, e := range strings.Split(s, ";") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

// pick finds the service for a request (docs/apptunnel.md §2): the one
// named, else the custom service listing the destination, else the
// reserved service for the kind of request.
func (t *services) pick(name, hostport string, connect bool) (*service, *refusal) {
	if name != "" {
		s, ok := t.byName[name]
		if !ok {
			return nil, refuse(ReasonUnknownService, "no service "+strconv.Quote(name))
		}
		if s.kind == KindIP {
			return nil, refuse(ReasonIPTunnel, name)
		}
		return s, nil
	}
	hp := strings.ToLower(hostport)
	host, _, _ := net.SplitHostPort(hp)
	for _, s := range t.custom {
		if strings.EqualFold(host, s.name) {
			return s, nil
		}
		for _, srv := range s.servers {
			if srv == hp {
				return s, nil
			}
		}
	}
	try := []string{uemapi.ServiceAny}
	if connect {
		try = []string{uemapi.ServiceTCPAny}
		if strings.HasSuffix(hp, ":445") {
			try = []string{uemapi.ServiceCIFSAny, uemapi.ServiceTCPAny}
		}
	}
	for _, n := range try {
		if s, ok := t.byName[n]; ok {
			return s, nil
		}
	}
	return nil, refuse(ReasonUnknownService, "no service fits "+hostport)
}

// destination checks hostport against the service and returns where to
// connect (ATS-06..09): a listed server, or the next one round robin when
// the app addressed the service by its name (ATS-08).
func (s *service) destination(hostport string) (string, *refusal) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil || host == "" {
		return "", refuse(ReasonMalformed, "destination "+strconv.Quote(hostport))
	}
	lh := strings.ToLower(host)
	if s.reserved {
		if !matchWildcards(s.wildcards, lh) {
			return "", refuse(ReasonOutsideWildcard, lh)
		}
		return hostport, nil
	}
	if strings.EqualFold(host, s.name) && len(s.servers) > 0 {
		n := s.next.Add(1) - 1
		return s.servers[n%uint64(len(s.servers))], nil
	}
	hostListed := false
	for _, srv := range s.servers {
		sh, sp, _ := net.SplitHostPort(srv)
		if sh == lh {
			if sp == port {
				return srv, nil
			}
			hostListed = true
		}
	}
	if hostListed {
		return "", refuse(ReasonPortNotAllowed, hostport)
	}
	return "", refuse(ReasonNotInServerList, hostport)
}

// matchWildcards reports whether host matches one entry; no entries
// match every host (ATS-06).
func matchWildcards(ws []string, host string) bool {
	if len(ws) == 0 {
		return true
	}
	for _, w := range ws {
		if matchHost(w, host) {
			return true
		}
	}
	return false
}

// matchHost matches a lower-cased host against an exact host or a
// "*.suffix" pattern, which does not match the bare suffix.
func matchHost(pattern, host string) bool {
	if rest, ok := strings.CutPrefix(pattern, "*"); ok {
		return strings.HasSuffix(host, rest) && len(host) > len(rest)
	}
	return pattern == host
}

// spnFor is the server's principal for Kerberos server authentication:
// for <ANY> the host the app asked for (ATS-13); for a custom service the
// SPN paired with the server, else the server's own name (ATS-12), with
// the cifs/ prefix for CIFS services (ATS-14) and HTTP/ otherwise.
func (s *service) spnFor(dest, askedHost string) string {
	prefix := "HTTP/"
	if s.kind == KindCIFS {
		prefix = "cifs/"
	}
	if s.reserved {
		return prefix + strings.ToLower(askedHost)
	}
	for i, srv := range s.servers {
		if srv == strings.ToLower(dest) && i < len(s.spns) {
			return s.spns[i]
		}
	}
	host, _, _ := net.SplitHostPort(dest)
	return prefix + host
}

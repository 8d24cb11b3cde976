// Package dns is an in-process authoritative DNS server for the lab's zones
// (miekg/dns): A/AAAA for hosts, Kerberos SRV and TXT records per realm
// (DEF-07, KDC-03) and faults (huge answers forcing TCP, slow answers,
// SERVFAIL, no answer), over UDP and TCP on one port.
package dns

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	mdns "github.com/miekg/dns"
)

// Config is the server's configuration, validated by New.
type Config struct {
	Addr             string        // host:port for UDP and TCP; "127.0.0.1:0" when empty
	AllowNonLoopback bool          // allow a non-loopback Addr
	Zones            []string      // zones served authoritatively, e.g. "corp.example"
	TTL              time.Duration // record TTL, 60s when zero
	Logger           *slog.Logger  // slog.Default() when nil
}

// Host is one name with its addresses (A and AAAA records).
type Host struct {
	Name  string
	Addrs []netip.Addr
}

// KDC is one SRV target for a realm: _kerberos._tcp.<REALM> and/or
// _kerberos._udp.<REALM> point at Target:Port.
type KDC struct {
	Target   string // host name; give it an A record with AddHost
	Port     uint16 // 88 when zero
	Priority uint16
	Weight   uint16
	TCP, UDP bool // both when neither is set
}

func (c *Config) validate() error {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return fmt.Errorf("dns: Config.Addr %q: %w", c.Addr, err)
	}
	if ip := net.ParseIP(host); !c.AllowNonLoopback && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("dns: Config.Addr %q is not a loopback IP (set AllowNonLoopback)", c.Addr)
	}
	for i, z := range c.Zones {
		if _, ok := mdns.IsDomainName(z); !ok || z == "" {
			return fmt.Errorf("dns: Config.Zones[%d] %q is not a domain name", i, z)
		}
	}
	if c.TTL <= 0 {
		c.TTL = 60 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}

// canon is the lower-case fully-qualified form used as a map key.
func canon(name string) string { return strings.ToLower(mdns.Fqdn(name)) }

// AddHost adds A/AAAA records for h (appending to existing ones).
func (s *Server) AddHost(h Host) error {
	if _, ok := mdns.IsDomainName(h.Name); !ok || len(h.Addrs) == 0 {
		return fmt.Errorf("dns: host %q needs a valid name and at least one address", h.Name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hosts[canon(h.Name)] = append(s.hosts[canon(h.Name)], h.Addrs...)
	return nil
}

// AddKDC publishes a KDC of realm as SRV records (DEF-07) and the realm as
// the TXT record _kerberos.<realm> (RFC 4120 7.2.3.1 style); the realm's DNS
// name becomes a served zone.
func (s *Server) AddKDC(realm string, k KDC) error {
	if realm == "" || k.Target == "" {
		return errors.New("dns: AddKDC needs a realm and a target")
	}
	if k.Port == 0 {
		k.Port = 88
	}
	if !k.TCP && !k.UDP {
		k.TCP, k.UDP = true, true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if k.TCP {
		s.srv[canon("_kerberos._tcp."+realm)] = append(s.srv[canon("_kerberos._tcp."+realm)], k)
	}
	if k.UDP {
		s.srv[canon("_kerberos._udp."+realm)] = append(s.srv[canon("_kerberos._udp."+realm)], k)
	}
	s.txt[canon("_kerberos."+realm)] = realm
	s.zones[canon(realm)] = true
	return nil
}

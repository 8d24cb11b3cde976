// Package discovery decides which KDCs to ask for a realm: the configured
// KDC list, the Additional Trusted Realms table and DNS SRV discovery, with
// the seeds' rules (KDC-01..08, INC-10, DEF-07), and sends Kerberos messages
// to them (Transport, a protocol/kerberos.Transport).
package discovery

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
)

// DefaultPort is the Kerberos port used when none is given (KDC-06, DEF-07).
const DefaultPort = 88

// DefaultKpasswdPort is the password-change port (RFC 3244) of a KDC host.
const DefaultKpasswdPort = 464

// DefaultMaxTargets bounds how many DNS-discovered KDCs are kept: a DNS
// server listing every KDC it knows must not make acquisition hang (KDC-04).
const DefaultMaxTargets = 16

// Resolver is the DNS access discovery needs; *net.Resolver satisfies it.
type Resolver interface {
	LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error)
	LookupHost(ctx context.Context, host string) ([]string, error)
}

// Realm is one row of the Additional Trusted Realms table (KDC-06).
type Realm struct {
	Name string   // matched case-insensitively (INC-10)
	KDCs []string // "host", "host:port", "ip", "[v6]:port"; port 88 when absent
}

// Config is the Kerberos part of the gateway configuration that matters for
// finding KDCs.
type Config struct {
	Realm            string   // the gateway's realm, exact case
	KDCs             []string // configured KDC list for Realm (KRB-03/04); empty means auto-detect (KRB-05)
	AdditionalRealms []Realm
	DisableDiscovery bool // "KDC Discovery through DNS" unchecked (KDC-05); on by default
	MaxTargets       int  // DefaultMaxTargets when zero
}

// Source says where a target came from.
type Source string

// Sources of targets.
const (
	Configured Source = "configured" // the gateway realm's KDC list
	Additional Source = "additional" // an Additional Trusted Realms row
	DNS        Source = "dns"        // SRV discovery
)

// Target is one KDC to try, in order.
type Target struct {
	Host   string
	Port   int
	Proto  string // "tcp" or "udp"
	Source Source
}

// Addr is host:port.
func (t Target) Addr() string { return net.JoinHostPort(t.Host, strconv.Itoa(t.Port)) }

// ErrNoKDC means no KDC could be found for the realm.
var ErrNoKDC = errors.New("discovery: no KDC for realm")

// Locator applies the rules. Safe for concurrent use.
type Locator struct {
	cfg        Config
	res        Resolver
	own        []Target
	additional map[string][]Target // keyed by upper-cased realm
	rnd        func(n int) int     // weighted SRV selection; rand.IntN by default
}

// New validates cfg (KDC lists, ports) and returns a Locator using res.
func New(cfg Config, res Resolver) (*Locator, error) {
	if cfg.Realm == "" {
		return nil, errors.New("discovery: Config.Realm is required")
	}
	if res == nil {
		return nil, errors.New("discovery: a Resolver is required")
	}
	if cfg.MaxTargets <= 0 {
		cfg.MaxTargets = DefaultMaxTargets
	}
	l := &Locator{cfg: cfg, res: res, additional: map[string][]Target{}, rnd: rand.IntN}
	var err error
	if l.own, err = parseKDCList(cfg.KDCs, Configured); err != nil {
		return nil, fmt.Errorf("discovery: Config.KDCs: %w", err)
	}
	for i, r := range cfg.AdditionalRealms {
		if r.Name == "" {
			return nil, fmt.Errorf("discovery: Config.AdditionalRealms[%d].Name is empty", i)
		}
		ts, err := parseKDCList(r.KDCs, Additional)
		if err != nil {
			return nil, fmt.Errorf("discovery: Config.AdditionalRealms[%d] (%s): %w", i, r.Name, err)
		}
		l.additional[strings.ToUpper(r.Name)] = ts
	}
	return l, nil
}

// ParseKDC parses "host", "host:port", "ip" or "[v6]:port" (port 88 when absent).
func ParseKDC(s string) (host string, port int, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", 0, errors.New("empty KDC")
	}
	if h, p, e := net.SplitHostPort(s); e == nil {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return "", 0, fmt.Errorf("KDC %q: port %q is not 1-65535", s, p)
		}
		return h, n, nil
	}
	if strings.Contains(s, ":") && net.ParseIP(s) == nil {
		return "", 0, fmt.Errorf("KDC %q is not host[:port]", s)
	}
	return strings.Trim(s, "[]"), DefaultPort, nil
}

func parseKDCList(list []string, src Source) ([]Target, error) {
	var out []Target
	for _, item := range list {
		for _, s := range strings.Split(item, ";") { // the UI's ';'-separated form
			if strings.TrimSpace(s) == "" {
				continue
			}
			h, p, err := ParseKDC(s)
			if err != nil {
				return nil, err
			}
			out = append(out, Target{Host: h, Port: p, Proto: "tcp", Source: src})
		}
	}
	return out, nil
}

// Locate returns the KDCs to try for realm, in order:
//   - realm equal to the gateway's (exact case) with a KDC list: the listed
//     KDCs that resolve (KDC-01); none resolving triggers discovery (KDC-02c);
//   - no KDC list: discovery (KRB-05);
//   - another realm, or the same one in other letter case (KDC-02a/b, INC-10):
//     its Additional Trusted Realms row (matched case-insensitively) first,
//     then discovery (KDC-07);
//   - discovery disabled: only configured KDCs, ErrNoKDC when none (KDC-08).
func (l *Locator) Locate(ctx context.Context, realm string) ([]Target, error) {
	return l.locate(ctx, realm, "kerberos", 0)
}

// LocateKpasswd returns the password-change servers (RFC 3244) of realm,
// by Locate's rules with the configured KDC hosts at port 464 and DNS SRV
// _kpasswd._tcp / _kpasswd._udp records instead of _kerberos ones.
func (l *Locator) LocateKpasswd(ctx context.Context, realm string) ([]Target, error) {
	return l.locate(ctx, realm, "kpasswd", DefaultKpasswdPort)
}

// locate applies Locate's rules for the SRV service; port, when not
// zero, replaces the configured targets' ports.
func (l *Locator) locate(ctx context.Context, realm, service string, port int) ([]Target, error) {
	var out []Target
	configured := func(ts []Target) {
		for _, t := range ts {
			if port != 0 {
				t.Port = port
			}
			out = append(out, t)
		}
	}
	if realm == l.cfg.Realm && len(l.own) > 0 {
		for _, t := range l.own {
			if l.resolvable(ctx, t.Host) {
				configured([]Target{t})
			}
		}
		if len(out) > 0 {
			return out, nil
		}
	} else if realm != l.cfg.Realm {
		configured(l.additional[strings.ToUpper(realm)])
	}
	if l.cfg.DisableDiscovery {
		if len(out) == 0 {
			return nil, fmt.Errorf("%w %s: not configured and DNS discovery is disabled", ErrNoKDC, realm)
		}
		return out, nil
	}
	defPort := DefaultPort
	if port != 0 {
		defPort = port
	}
	found, err := l.discover(ctx, service, realm, defPort)
	out = append(out, found...)
	if len(out) == 0 {
		return nil, fmt.Errorf("%w %s: %w", ErrNoKDC, realm, err)
	}
	return out, nil
}

func (l *Locator) resolvable(ctx context.Context, host string) bool {
	if net.ParseIP(host) != nil {
		return true
	}
	addrs, err := l.res.LookupHost(ctx, host)
	return err == nil && len(addrs) > 0
}

// discover looks up _<service>._tcp.<realm> then _<service>._udp.<realm>
// (DEF-07), each in RFC 2782 order, and keeps at most MaxTargets.
func (l *Locator) discover(ctx context.Context, service, realm string, defPort int) ([]Target, error) {
	var out []Target
	var errs []error
	for _, proto := range []string{"tcp", "udp"} {
		_, srvs, err := l.res.LookupSRV(ctx, service, proto, realm)
		if err != nil {
			errs = append(errs, fmt.Errorf("SRV _%s._%s.%s: %w", service, proto, realm, err))
		}
		for _, s := range OrderSRV(srvs, l.rnd) {
			if s.Target == "." || s.Target == "" { // "service not available" (RFC 2782)
				continue
			}
			port := int(s.Port)
			if port == 0 {
				port = defPort
			}
			out = append(out, Target{Host: strings.TrimSuffix(s.Target, "."), Port: port, Proto: proto, Source: DNS})
			if len(out) >= l.cfg.MaxTargets {
				return out, nil
			}
		}
	}
	if len(out) == 0 {
		errs = append(errs, errors.New("no SRV records"))
	}
	return out, errors.Join(errs...)
}

// OrderSRV sorts records by priority, and within a priority by RFC 2782's
// weighted random selection; rnd(n) returns a number in [0, n).
func OrderSRV(srvs []*net.SRV, rnd func(n int) int) []*net.SRV {
	in := slices.Clone(srvs)
	slices.SortStableFunc(in, func(a, b *net.SRV) int { return cmp.Compare(a.Priority, b.Priority) })
	out := make([]*net.SRV, 0, len(in))
	for i := 0; i < len(in); {
		j := i
		for j < len(in) && in[j].Priority == in[i].Priority {
			j++
		}
		group := in[i:j]
		// RFC 2782: zero-weight records first in the list, then pick by running sum.
		slices.SortStableFunc(group, func(a, b *net.SRV) int { return cmp.Compare(min(a.Weight, 1), min(b.Weight, 1)) })
		for len(group) > 0 {
			total := 0
			for _, s := range group {
				total += int(s.Weight)
			}
			pick := 0
			if total > 0 {
				r, sum := rnd(total+1), 0
				for k, s := range group {
					sum += int(s.Weight)
					if sum >= r {
						pick = k
						break
					}
				}
			}
			out = append(out, group[pick])
			group = slices.Delete(group, pick, pick+1)
		}
		i = j
	}
	return out
}

func lowerFQDN(h string) string { return strings.TrimSuffix(strings.ToLower(h), ".") }

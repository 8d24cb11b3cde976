package discovery

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/kerberos"
)

// Transport sends a Kerberos message to the realm's KDCs in Locate order
// until one answers (a KRB-ERROR is an answer). A UDP answer of
// KRB_ERR_RESPONSE_TOO_BIG is retried over TCP to the same KDC. It
// implements kerberos.Transport.
type Transport struct {
	Locator     *Locator
	PerTarget   time.Duration                                                     // timeout for one KDC, 3s when zero
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error) // net.Dialer when nil
}

var _ kerberos.Transport = (*Transport)(nil)

// RoundTrip implements kerberos.Transport.
func (t *Transport) RoundTrip(ctx context.Context, realm string, msg []byte) ([]byte, error) {
	targets, err := t.Locator.Locate(ctx, realm)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, tg := range targets {
		rep, err := t.try(ctx, tg, msg)
		if err == nil {
			return rep, nil
		}
		errs = append(errs, fmt.Errorf("%s %s (%s): %w", tg.Proto, tg.Addr(), tg.Source, err))
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("discovery: no KDC of %s answered: %w", realm, errors.Join(errs...))
}

func (t *Transport) try(ctx context.Context, tg Target, msg []byte) ([]byte, error) {
	host := tg.Host
	if net.ParseIP(host) == nil { // resolve through the Locator's resolver (static hosts first, KDC-10)
		addrs, err := t.Locator.res.LookupHost(ctx, host)
		if err != nil || len(addrs) == 0 {
			return nil, fmt.Errorf("resolve %s: %w", host, errors.Join(err, errors.New("no address")))
		}
		host = addrs[0]
	}
	addr := net.JoinHostPort(host, strconv.Itoa(tg.Port))
	rep, err := t.exchange(ctx, tg.Proto, addr, msg)
	if err == nil && tg.Proto == "udp" && tooBig(rep) {
		rep, err = t.exchange(ctx, "tcp", addr, msg)
	}
	return rep, err
}

func (t *Transport) exchange(ctx context.Context, network, addr string, msg []byte) ([]byte, error) {
	d := t.PerTarget
	if d <= 0 {
		d = 3 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	dial := t.DialContext
	if dial == nil {
		var nd net.Dialer
		dial = nd.DialContext
	}
	c, err := dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	dl, _ := ctx.Deadline()
	c.SetDeadline(dl)
	if network == "udp" {
		if _, err := c.Write(msg); err != nil {
			return nil, err
		}
		buf := make([]byte, 65536)
		n, err := c.Read(buf)
		if err != nil {
			return nil, err
		}
		return buf[:n], nil
	}
	if _, err := c.Write(kerberos.FrameTCP(msg)); err != nil {
		return nil, err
	}
	return kerberos.ReadFrame(c, kerberos.MaxMessageSize)
}

// tooBig reports a KRB-ERROR with code KRB_ERR_RESPONSE_TOO_BIG (52).
func tooBig(rep []byte) bool {
	_, err := kerberos.ParseTGSRep(rep, kerberos.Credential{}, 0)
	code, ok := kerberos.ErrorCode(err)
	return ok && code == 52
}

// StaticHosts wraps a Resolver so that names in hosts (the gateway's static
// hosts file, KDC-10) resolve from it first, case-insensitively.
func StaticHosts(r Resolver, hosts map[string][]string) Resolver {
	m := make(map[string][]string, len(hosts))
	for k, v := range hosts {
		m[lowerFQDN(k)] = v
	}
	return staticResolver{Resolver: r, hosts: m}
}

type staticResolver struct {
	Resolver
	hosts map[string][]string
}

func (s staticResolver) LookupHost(ctx context.Context, host string) ([]string, error) {
	if a, ok := s.hosts[lowerFQDN(host)]; ok {
		return a, nil
	}
	return s.Resolver.LookupHost(ctx, host)
}

package delegation

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/kerberos/discovery"
	"github.com/gatehouse-lab/gatehouse/protocol/kerberos"
)

// ProxyPath is where the device listener serves KKDCP (KKD-01). MS-KKDCP
// leaves the path to the deployment; "/KdcProxy" is the Windows one.
const ProxyPath = "/KdcProxy"

// ContentType is MS-KKDCP's media type.
const ContentType = "application/kerberos"

// maxReply bounds a KDC's reply: it must fit, wrapped, in a
// KDC-PROXY-MESSAGE of kerberos.MaxProxyMessageSize bytes (the wrapping
// adds at most 16).
const maxReply = kerberos.MaxProxyMessageSize - 64

// proxyTimeout bounds one relay, all KDCs tried included.
const proxyTimeout = 15 * time.Second

// SetProxyRealms sets the realms the KDC proxy relays to besides the
// gateway's own and its Additional Trusted Realms (kdc_proxy_realms).
func (k *Delegator) SetProxyRealms(extra []string) {
	m := map[string]bool{strings.ToUpper(k.realm): true}
	for _, r := range k.cfg.AdditionalRealms {
		m[strings.ToUpper(r.Realm)] = true
	}
	for _, r := range extra {
		m[strings.ToUpper(r)] = true
	}
	k.proxyRealms.Store(&m)
}

// ProxyRealm reports whether the KDC proxy relays to realm (realm names
// compare case-insensitively, INC-10).
func (k *Delegator) ProxyRealm(realm string) bool {
	m := k.proxyRealms.Load()
	return m != nil && (*m)[strings.ToUpper(realm)]
}

// ServeKKDCP answers one MS-KKDCP request: a KDC-PROXY-MESSAGE posted as
// application/kerberos (at most kerberos.MaxProxyMessageSize bytes) is
// unwrapped; only an AS-REQ, a TGS-REQ or a KPASSWD request for a realm
// the gateway is configured for (its own, an Additional Trusted Realm, a
// kdc_proxy_realms entry; the gateway's when the message names none) is
// sent on, over TCP then UDP with the per-KDC timeout, to the realm's
// KDCs (its password-change servers for KPASSWD). Only a Kerberos reply
// to that request comes back, wrapped the same way.
// 405: not POST; 413: too large; 415: another media type; 400: not a
// KDC-PROXY-MESSAGE, or not a request the proxy relays; 403: a realm the
// gateway is not configured for; 502: no KDC gave a Kerberos reply.
func (k *Delegator) ServeKKDCP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "KKDCP takes POST", http.StatusMethodNotAllowed)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.EqualFold(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]), ContentType) {
		http.Error(w, "KKDCP takes "+ContentType, http.StatusUnsupportedMediaType)
		return
	}
	if r.ContentLength > kerberos.MaxProxyMessageSize {
		http.Error(w, "KDC-PROXY-MESSAGE too large", http.StatusRequestEntityTooLarge)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, kerberos.MaxProxyMessageSize))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			http.Error(w, "KDC-PROXY-MESSAGE too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "reading the request", http.StatusBadRequest)
		return
	}
	msg, err := kerberos.DecodeProxyMessage(body, kerberos.MaxProxyMessageSize)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	kind, err := kerberos.ClassifyRequest(msg.Message)
	if err != nil {
		http.Error(w, "the proxy relays only AS-REQ, TGS-REQ and KPASSWD requests", http.StatusBadRequest)
		return
	}
	realm := msg.TargetDomain
	if realm == "" {
		realm = k.realm
	}
	if !k.ProxyRealm(realm) {
		k.opts.Log.Warn("KKDCP: request for a realm the gateway is not configured for", "realm", realm, "message", kind.String())
		http.Error(w, "the proxy does not serve this realm", http.StatusForbidden)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), proxyTimeout)
	defer cancel()
	rep, err := k.forward(ctx, realm, kind, msg.Message)
	if err != nil {
		k.opts.Log.Warn("KKDCP: no KDC answered", "realm", realm, "message", kind.String(), "error", err)
		http.Error(w, "no KDC of the realm answered", http.StatusBadGateway)
		return
	}
	out, err := kerberos.ProxyMessage{Message: rep}.Marshal()
	if err != nil {
		http.Error(w, "wrapping the KDC reply", http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	_, _ = w.Write(out)
}

// forward sends msg to the realm's KDCs (password-change servers for
// KPASSWD) in Locate order, each over TCP then UDP (a DNS target found
// only under _udp is tried over UDP only), until one gives a Kerberos
// reply to a request of that kind; other answers count as failures.
func (k *Delegator) forward(ctx context.Context, realm string, kind kerberos.MessageKind, msg []byte) ([]byte, error) {
	locate := k.loc.Locate
	if kind == kerberos.KindKpasswdReq {
		locate = k.loc.LocateKpasswd
	}
	targets, err := locate(ctx, realm)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, t := range targets {
		protos := []string{"tcp", "udp"}
		if t.Proto == "udp" {
			protos = protos[1:]
		}
		for _, p := range protos {
			rep, err := k.exchange(ctx, p, t, msg)
			if err == nil {
				if _, err = kerberos.CheckReply(kind, rep); err == nil {
					return rep, nil
				}
				err = fmt.Errorf("not a Kerberos reply to a %s: %w", kind, err)
			}
			errs = append(errs, fmt.Errorf("%s %s: %w", p, t.Addr(), err))
			if ctx.Err() != nil {
				return nil, errors.Join(errs...)
			}
		}
	}
	return nil, errors.Join(errs...)
}

func (k *Delegator) exchange(ctx context.Context, network string, t discovery.Target, msg []byte) ([]byte, error) {
	d := k.opts.PerKDC
	if d <= 0 {
		d = 3 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	host := t.Host
	if net.ParseIP(host) == nil {
		addrs, err := k.res.LookupHost(ctx, host)
		if err != nil || len(addrs) == 0 {
			return nil, fmt.Errorf("resolve %s: %w", host, errors.Join(err, errors.New("no address")))
		}
		host = addrs[0]
	}
	c, err := k.dial(ctx, network, net.JoinHostPort(host, strconv.Itoa(t.Port)))
	if err != nil {
		return nil, err
	}
	defer c.Close()
	dl, _ := ctx.Deadline()
	_ = c.SetDeadline(dl)
	if network == "udp" {
		if _, err := c.Write(msg); err != nil {
			return nil, err
		}
		buf := make([]byte, 65536)
		n, err := c.Read(buf)
		if err != nil {
			return nil, err
		}
		if n > maxReply {
			return nil, fmt.Errorf("reply of %d bytes exceeds %d", n, maxReply)
		}
		return buf[:n], nil
	}
	if _, err := c.Write(kerberos.FrameTCP(msg)); err != nil {
		return nil, err
	}
	return kerberos.ReadFrame(c, maxReply)
}

func (k *Delegator) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if k.opts.Dialer != nil {
		return k.opts.Dialer(ctx, network, addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// KDCCheck is the result of `debug kerberos kdc <host> [port]` (KRB-15).
type KDCCheck struct {
	Host    string   `json:"host"`
	Port    int      `json:"port"`
	OK      bool     `json:"ok"`
	Address string   `json:"address,omitempty"` // "<host>/<ip>:<port>"
	Error   string   `json:"error,omitempty"`
	Lines   []string `json:"lines"` // the CLI's output
}

// CheckKDC opens a TCP connection to host:port (88 when port is 0) and
// closes it at once, sending and receiving nothing (KRB-15). res resolves
// names (net.DefaultResolver when nil); dial is net.Dialer's when nil.
func CheckKDC(ctx context.Context, host string, port int, res discovery.Resolver, timeout time.Duration) KDCCheck {
	if port <= 0 {
		port = discovery.DefaultPort
	}
	if res == nil {
		res = net.DefaultResolver
	}
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c := KDCCheck{Host: host, Port: port, Lines: []string{fmt.Sprintf("Connecting to KDC %s, port %d", host, port)}}
	fail := func(err error) KDCCheck {
		c.Error = err.Error()
		c.Lines = append(c.Lines, "Connection failed.", err.Error())
		return c
	}
	ip := host
	if net.ParseIP(host) == nil {
		addrs, err := res.LookupHost(ctx, host)
		if err != nil || len(addrs) == 0 {
			return fail(fmt.Errorf("unknown host: %s", host))
		}
		ip = addrs[0]
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
	if err != nil {
		return fail(err)
	}
	conn.Close()
	c.OK = true
	c.Address = host + "/" + net.JoinHostPort(ip, strconv.Itoa(port))
	c.Lines = append(c.Lines, "Connection successful.", "Address: "+c.Address)
	return c
}

// Resolver is the resolver the module uses (static hosts first).
func (k *Delegator) Resolver() discovery.Resolver { return k.res }

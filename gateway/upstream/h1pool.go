package upstream

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/stats"
)

// The lean HTTP/1.1 upstream path (issue 26): a profile of the proxy put a
// third of the gateway's CPU a request in http.Transport's two goroutines
// per connection and their channel hand-offs. h1pool sends the ordinary
// requests (a body kept in memory, no Expect, Upgrade or trailers) on the
// caller's goroutine over pooled keep-alive connections dialled by the
// Router's own dialer (connection timeout, TLS, counters, write
// deadlines); everything else, and all of it with Options.HTTP2, goes to
// the Router's http.Transport. Errors are the Transport's, so that
// attempt.classify counts them the same (h1pool_test.go compares them).

// Idle connection bounds, as the Router's http.Transport has them.
const (
	h1IdlePerHost = 256
	h1IdleTotal   = 1024
	h1IdleTimeout = 90 * time.Second
)

// h1key names a server: TLS or not, and host:port.
type h1key struct {
	tls  bool
	addr string
}

// h1pool is the pool of idle connections per server.
type h1pool struct {
	dial func(ctx context.Context, network, addr string, useTLS bool) (net.Conn, error)

	mu      sync.Mutex
	idle    map[h1key][]*h1conn // oldest first
	nidle   int
	sweeper *time.Timer // closes connections idle too long; nil: none idle

	conns atomic.Int64 // open connections (tests read it)
	dials atomic.Int64 // connections dialled (tests read it)
}

func newH1Pool(dial func(ctx context.Context, network, addr string, useTLS bool) (net.Conn, error)) *h1pool {
	return &h1pool{dial: dial, idle: map[h1key][]*h1conn{}}
}

// RoundTrip sends req on a pooled or new connection; see h1Eligible for
// the requests it takes.
func (p *h1pool) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if ctx.Err() != nil {
		closeRequestBody(req)
		return nil, context.Cause(ctx)
	}
	trace := httptrace.ContextClientTrace(ctx)
	useTLS := req.URL.Scheme == "https"
	addr := canonicalAddr(req.URL.Host, useTLS)
	key := h1key{tls: useTLS, addr: addr}
	c := p.get(key)
	if c == nil {
		var err error
		if c, err = p.connect(ctx, key, addr, useTLS); err != nil {
			closeRequestBody(req)
			return nil, err
		}
	}
	if trace != nil && trace.GotConn != nil {
		info := httptrace.GotConnInfo{Conn: c.conn, Reused: c.used, WasIdle: c.used}
		if c.used {
			info.IdleTime = time.Since(c.idle)
		}
		trace.GotConn(info)
	}
	c.used = true
	return c.roundTrip(req, trace)
}

// connect dials a new connection with the Router's dialer, on a
// goroutine of its own: the TLS handshake (key exchange, certificate
// verification) is the deepest code a request runs, and on the caller's
// goroutine, already under the whole device handler chain, it would grow
// that stack from 16 to 32 KiB for the connection's life. A held Ping
// waits on that goroutine, so each one held over HTTP/1.1 kept the extra
// 16 KiB (issue 26, docs/performance.md "The floors"). The dial honours
// ctx, so waiting for its result is bounded as the dial is.
func (p *h1pool) connect(ctx context.Context, key h1key, addr string, useTLS bool) (*h1conn, error) {
	type dialled struct {
		c   net.Conn
		err error
	}
	done := make(chan dialled, 1)
	go func() {
		c, err := p.dial(ctx, "tcp", addr, useTLS)
		done <- dialled{c, err}
	}()
	d := <-done
	nc, err := d.c, d.err
	if err != nil {
		return nil, err
	}
	p.dials.Add(1)
	p.conns.Add(1)
	c := newH1Conn(p, key, nc)
	return c, nil
}

// innermost unwraps the Router's layers down to the dialled connection.
func innermost(c net.Conn) net.Conn {
	for range 8 {
		switch x := c.(type) {
		case *tls.Conn:
			c = x.NetConn()
		case *stats.ServerConn:
			c = x.Conn
		case *writeDeadlineConn:
			c = x.Conn
		default:
			return c
		}
	}
	return c
}

// get takes the most recently idle live connection to key, closing the
// dead ones it meets; nil when none.
func (p *h1pool) get(key h1key) *h1conn {
	for {
		p.mu.Lock()
		list := p.idle[key]
		if len(list) == 0 {
			p.mu.Unlock()
			return nil
		}
		c := list[len(list)-1]
		list[len(list)-1] = nil
		p.idle[key] = list[:len(list)-1]
		p.nidle--
		p.mu.Unlock()
		if time.Since(c.idle) < h1IdleTimeout && c.alive() {
			return c
		}
		c.close()
	}
}

// put makes c idle, or closes it past the pool's bounds.
func (p *h1pool) put(c *h1conn) {
	c.idle = time.Now()
	p.mu.Lock()
	if p.idle == nil || p.nidle >= h1IdleTotal || len(p.idle[c.key]) >= h1IdlePerHost {
		p.mu.Unlock()
		c.close()
		return
	}
	p.idle[c.key] = append(p.idle[c.key], c)
	p.nidle++
	if p.sweeper == nil {
		p.sweeper = time.AfterFunc(h1IdleTimeout, p.sweep)
	}
	p.mu.Unlock()
}

// sweep closes the connections idle for h1IdleTimeout and runs again
// while any stay idle.
func (p *h1pool) sweep() {
	now := time.Now()
	var dead []*h1conn
	p.mu.Lock()
	next := time.Duration(0)
	for key, list := range p.idle {
		n := 0
		for n < len(list) && now.Sub(list[n].idle) >= h1IdleTimeout {
			n++
		}
		dead = append(dead, list[:n]...)
		rest := append(list[:0:0], list[n:]...)
		p.nidle -= n
		if len(rest) == 0 {
			delete(p.idle, key)
			continue
		}
		p.idle[key] = rest
		if left := h1IdleTimeout - now.Sub(rest[0].idle); next == 0 || left < next {
			next = left
		}
	}
	p.sweeper = nil
	if next > 0 {
		p.sweeper = time.AfterFunc(next, p.sweep)
	}
	p.mu.Unlock()
	for _, c := range dead {
		c.close()
	}
}

// closeIdle closes every idle connection.
func (p *h1pool) closeIdle() {
	p.mu.Lock()
	var all []*h1conn
	for _, list := range p.idle {
		all = append(all, list...)
	}
	p.idle, p.nidle = map[h1key][]*h1conn{}, 0
	if p.sweeper != nil {
		p.sweeper.Stop()
		p.sweeper = nil
	}
	p.mu.Unlock()
	for _, c := range all {
		c.close()
	}
}

// h1Eligible reports whether the lean path takes req: HTTP/1.1 semantics
// it shares with http.Transport, and a body already in memory (a
// streamed body goes to the Transport, which reads an early response
// while it still writes).
func h1Eligible(req *http.Request) bool {
	if req.URL == nil || (req.URL.Scheme != "http" && req.URL.Scheme != "https") || req.URL.Host == "" {
		return false
	}
	if req.Method == http.MethodConnect || len(req.Trailer) > 0 || len(req.TransferEncoding) > 0 {
		return false
	}
	//lint:ignore SA1019 a caller's legacy Cancel channel: the Transport honours it
	if req.Cancel != nil {
		return false
	}
	if req.Body != nil && req.Body != http.NoBody && (req.GetBody == nil || req.ContentLength <= 0) {
		return false
	}
	for k, vv := range req.Header {
		switch k {
		case "Expect", "Upgrade", "Te", "Trailer", "Transfer-Encoding":
			return false
		case "Connection":
			for _, v := range vv {
				if strings.Contains(strings.ToLower(v), "upgrade") {
					return false
				}
			}
		}
		if !validHeaderName(k) {
			return false // the Transport refuses it, with its error
		}
		for _, v := range vv {
			if !validHeaderValue(v) {
				return false
			}
		}
	}
	return true
}

// canonicalAddr is host:port with the scheme's default port, as
// http.Transport dials it.
func canonicalAddr(host string, useTLS bool) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	port := "80"
	if useTLS {
		port = "443"
	}
	return net.JoinHostPort(strings.Trim(host, "[]"), port)
}

func closeRequestBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// validHeaderName and validHeaderValue are httpguts' checks, which
// http.Transport applies before sending.
func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		b := k[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0) {
			return false
		}
	}
	return true
}

func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if b := v[i]; (b < ' ' && b != '\t') || b == 0x7f {
			return false
		}
	}
	return true
}

package upstream

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http/httptrace"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/stats"
)

// The advanced timeouts (ASC-20 to ASC-23) and the counters they feed:
//
//	Server connection timeout  dial + TLS handshake           s-err-conn-timeout
//	Server response timeout    request sent -> response head  s-err-cmd-ping-timeout (Ping),
//	                           (Ping: heartbeat + margin)     s-err-cmd-sync-timeout (Sync),
//	                                                          s-err-cmd-timeout (others)
//	Socket read/write timeout  each write to the server, and  s-err-so-timeout
//	                           each read of the response body
//	                           once the head has arrived
//	Device request timeout     DeviceListener                 d-err-conn-timeout, d-err-so-timeout
//
// The socket timeout does not apply while the server is working on the
// response: that wait is the response timeout's, and a Ping long-poll
// sends nothing for minutes. Writes to a shared HTTP/2 connection are
// bounded by the response timeout instead (sharedconn.go).

// TimeoutError is the error of an attempt that timed out; Kind says which
// timeout ("connect", "response", "socket").
type TimeoutError struct {
	Kind string
	Addr string
	Err  error
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("upstream: %s: %s timeout: %v", e.Addr, e.Kind, e.Err)
}
func (e *TimeoutError) Unwrap() error { return e.Err }

// Timeout reports true, as net.Error's method does.
func (e *TimeoutError) Timeout() bool { return true }

var (
	errResponseTimeout = errors.New("no response head in time")
	errSocketTimeout   = errors.New("socket read stalled")
)

// serverCounters are the Router's totals of the counters it feeds, also
// for requests without a Device.
type serverCounters struct{ c [256]atomic.Uint64 }

func (s *serverCounters) inc(c stats.Counter) { s.c[c].Add(1) }

// Counter returns the Router's total of a per-device counter it feeds
// (s-connections, s-err-*, s-so-close, s-http-451-redirects,
// d-http-451-redirect-drops, d-http-400-c2s, d-err-*), over all devices.
func (r *Router) Counter(c stats.Counter) uint64 { return r.counters.c[c].Load() }

// attempt tracks one request's timeouts and counters; dials and body
// readers find it in the context.
type attempt struct {
	router *Router
	dev    *stats.Device
	cmd    string

	connTimeout atomic.Bool
	respTimeout atomic.Bool
	// reused: the attempt went out on a pooled keep-alive connection; its
	// failure also counts err-conn-pooling.
	reused atomic.Bool
	// conn is the server connection the attempt got (sharedconn.go).
	conn atomic.Pointer[writeDeadlineConn]
	got  gotConn // the transport handed the attempt a connection (dialflight.go)
}

type attemptCtxKey struct{}

func (a *attempt) count(c stats.Counter) {
	a.router.counters.inc(c)
	if a.dev != nil {
		a.dev.Inc(c)
	}
}

// responseTimeoutCounter is the counter of a response timeout for the
// request's command (ASC-22, STA-03).
func (a *attempt) responseTimeoutCounter() stats.Counter {
	switch a.cmd {
	case "Ping":
		return stats.SErrCmdPingTimeout
	case "Sync":
		return stats.SErrCmdSyncTimeout
	}
	return stats.SErrCmdTimeout
}

// classify counts a failed attempt and says whether it was the server's
// fault (a passive health failure) and whether the request may go to the
// next server. A response timeout is the server's fault but is not
// retried: the server may have acted on the request, and a second wait
// would double the device's.
func (a *attempt) classify(err error) (fault, retry bool) {
	if a.reused.Load() && !a.respTimeout.Load() {
		a.count(stats.ErrConnPooling)
	}
	switch {
	case a.respTimeout.Load():
		a.count(a.responseTimeoutCounter())
		return true, false
	case a.connTimeout.Load():
		a.count(stats.SErrConnTimeout)
	case localExhaustion(err):
		// The gateway's own limit (open files, ephemeral ports), not the
		// server's: declaring the server dead would turn one local limit
		// into errors for every device, and another server would fail
		// the same way.
		a.count(stats.SUnclassified)
		return false, false
	case errors.Is(err, os.ErrDeadlineExceeded):
		a.count(stats.SErrSoTimeout)
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE):
		a.count(stats.SErrReset)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		a.count(stats.SSoClose)
	default:
		a.count(stats.SUnclassified)
	}
	return true, true
}

// localExhaustion reports whether err is the gateway running out of a
// resource of its own while connecting.
func localExhaustion(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.ENOBUFS)
}

func (r *Router) dialPlain(ctx context.Context, network, addr string) (net.Conn, error) {
	return r.dialServer(ctx, network, addr, false)
}

func (r *Router) dialTLS(ctx context.Context, network, addr string) (net.Conn, error) {
	return r.dialServer(ctx, network, addr, true)
}

// dialServer dials a server for device traffic within the server
// connection timeout (TCP and TLS handshake together).
func (r *Router) dialServer(ctx context.Context, network, addr string, useTLS bool) (net.Conn, error) {
	h2 := false
	if useTLS && r.opts.HTTP2 {
		leave, err := r.flights.join(ctx, addr)
		if err != nil {
			return nil, err
		}
		defer func() { leave(h2) }()
	}
	set := r.table.Load().set
	// The write deadline wraps the TCP connection, under TLS, so that a
	// TLS connection stays a *tls.Conn the transport can run HTTP/2 on.
	var alpn []string
	if r.opts.HTTP2 {
		alpn = []string{"h2", "http/1.1"}
	}
	var wc *writeDeadlineConn
	c, err := r.connectWrapped(ctx, network, addr, useTLS, set.connect, func(c net.Conn) net.Conn {
		// ServerConn counts s-bytes-* for the request holding it (sendOnce).
		wc = &writeDeadlineConn{Conn: c, rw: set.socketRW}
		return &stats.ServerConn{Conn: wc}
	}, alpn)
	a, _ := ctx.Value(attemptCtxKey{}).(*attempt)
	if err != nil {
		var te *TimeoutError
		if a != nil && errors.As(err, &te) {
			a.connTimeout.Store(true)
		}
		return nil, err
	}
	if a != nil {
		a.count(stats.SConnections)
	}
	h2 = sharedWrites(c, wc, set)
	return c, nil
}

// connectWrapped dials and, for TLS, shakes hands, all within timeout;
// running out of it gives a *TimeoutError of kind "connect". wrap, if
// not nil, wraps the TCP connection (under TLS); alpn, if not nil, is
// the TLS application protocols offered.
func (r *Router) connectWrapped(ctx context.Context, network, addr string, useTLS bool, timeout time.Duration, wrap func(net.Conn) net.Conn, alpn []string) (net.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := r.opts.DialContext(dctx, network, addr)
	if err == nil && wrap != nil {
		c = wrap(c)
	}
	if err == nil && useTLS {
		host, _, _ := net.SplitHostPort(addr)
		cfg := ServerTLS(r.opts.TLSConfig, host, r.opts.SNI)
		if alpn != nil {
			cfg.NextProtos = alpn
		}
		tc := tls.Client(c, cfg)
		if err = tc.HandshakeContext(dctx); err != nil {
			c.Close()
		} else {
			c = tc
		}
	}
	if err != nil {
		if errors.Is(dctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
			return nil, &TimeoutError{Kind: "connect", Addr: addr, Err: err}
		}
		return nil, err
	}
	return c, nil
}

// writeDeadlineConn bounds each write to the server by the socket
// read/write timeout. Writes to one connection are serialised by TLS or
// by the HTTP transport.
type writeDeadlineConn struct {
	net.Conn
	rw       time.Duration
	deadline lazyDeadline
	// failed: a request on this connection already counted a failure
	// of its server (sharedconn.go).
	failed atomic.Bool
}

func (c *writeDeadlineConn) Write(b []byte) (int, error) {
	if err := c.deadline.arm(c.Conn, c.rw); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}

// lazyDeadline bounds each write by d without a timer update per write,
// which costs a lock and a timer-heap change at thousands of writes a
// second: the write deadline it sets lies between d and d+d/8 ahead and
// moves only when a write would get less than d (or, after d shrank,
// more than d+d/8). A stalled write is cut between d and 9d/8 after it
// began, never before d. The caller serialises the writes.
type lazyDeadline struct {
	until time.Time
}

func (l *lazyDeadline) arm(c net.Conn, d time.Duration) error {
	now := time.Now()
	if left := l.until.Sub(now); left >= d && left <= d+d/8 {
		return nil
	}
	l.until = now.Add(d + d/8)
	return c.SetWriteDeadline(l.until)
}

// The attempt's timer runs the server response timeout until the
// response head is in, then the socket read timeout of the body reads.
const (
	phaseResponse int32 = iota // waiting for the response head
	phaseFired                 // the response timeout fired first
	phaseBody                  // the body is being read
	phaseClosed
)

// bodyReader applies the socket read timeout to each read of a response
// body and releases the attempt's context when closed. One timer serves
// the whole attempt (see fire), not one timer change per read.
type bodyReader struct {
	rc     io.ReadCloser
	a      *attempt
	addr   string
	cancel context.CancelCauseFunc
	rw     time.Duration

	timer *time.Timer
	born  time.Time
	phase atomic.Int32
	// readSince is when the read in progress began, as time since born
	// plus one; 0 when no read is in progress.
	readSince atomic.Int64
	timedOut  atomic.Bool
	once      sync.Once
}

// fire is the attempt's timer: before the response head, the response
// timeout; afterwards it checks the read in progress, cutting it once it
// has run for rw and otherwise setting itself for when it would have.
func (b *bodyReader) fire() {
	if b.phase.CompareAndSwap(phaseResponse, phaseFired) {
		b.a.respTimeout.Store(true)
		b.cancel(errResponseTimeout)
		return
	}
	if b.phase.Load() != phaseBody {
		return
	}
	since := b.readSince.Load()
	if since == 0 { // between reads: the device is slow, not the server
		b.timer.Reset(b.rw)
		return
	}
	if left := b.rw - (time.Since(b.born) - time.Duration(since-1)); left > 0 {
		b.timer.Reset(left)
		return
	}
	if b.timedOut.CompareAndSwap(false, true) {
		b.a.count(stats.SErrSoTimeout)
		b.cancel(errSocketTimeout)
	}
}

// headIn switches the timer from the response timeout to the body's
// socket timeout; false when the response timeout fired first.
func (b *bodyReader) headIn(body io.ReadCloser) bool {
	if !b.phase.CompareAndSwap(phaseResponse, phaseBody) {
		return false
	}
	b.rc = body
	b.timer.Reset(b.rw)
	return true
}

func (b *bodyReader) Read(p []byte) (int, error) {
	b.readSince.Store(int64(time.Since(b.born)) + 1)
	n, err := b.rc.Read(p)
	b.readSince.Store(0)
	if err != nil && err != io.EOF && b.timedOut.Load() {
		err = &TimeoutError{Kind: "socket", Addr: b.addr, Err: errSocketTimeout}
	}
	return n, err
}

func (b *bodyReader) Close() error {
	b.phase.Store(phaseClosed)
	b.timer.Stop()
	err := b.rc.Close()
	b.once.Do(func() { b.cancel(nil) })
	return err
}

// trace tells the attempt which server connection it got: the
// connection's bytes count for the attempt's device from then on
// (s-bytes-sent, s-bytes-rcvd), and a reused one marks the attempt.
func (a *attempt) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		a.reused.Store(info.Reused)
		a.got.mark()
		if sc := stats.ServerConnOf(info.Conn); sc != nil {
			sc.SetOwner(a.dev)
			if wc, ok := sc.Conn.(*writeDeadlineConn); ok {
				a.conn.Store(wc)
			}
		}
	}}
}

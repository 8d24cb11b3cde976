package stats

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"
)

// ConnMeter wraps one device connection (under TLS, so bytes are what
// crossed the wire) and feeds the device-side counters of the device
// whose requests it carries: d-bytes-rcvd, d-bytes-sent, d-connection,
// and how the connection ended (d-so-close, d-err-reset,
// d-err-conn-timeout, d-err-so-timeout, d-unclassified). Bytes read
// before the first request names its device (the TLS handshake, the
// first request head) are held and given to that device.
type ConnMeter struct {
	net.Conn
	reg *Registry
	dev atomic.Pointer[Device]
	// pending bytes not attributed yet, by counter (DBytesRcvd, DBytesSent).
	pendRcvd, pendSent atomic.Uint64
	done               atomic.Bool // the end (close or error) is counted once
	// aborted: the server set a read deadline in the past to stop its
	// own background read; the timeout that follows is not the device's.
	aborted atomic.Bool
	busy    atomic.Bool
	closed  atomic.Bool // the open-connections gauge is decremented once
}

// MeterListener wraps l so that each accepted connection is a *ConnMeter.
func (r *Registry) MeterListener(l net.Listener) net.Listener { return &meterListener{l, r} }

type meterListener struct {
	net.Listener
	r *Registry
}

func (l *meterListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.r.open.Add(1)
	return &ConnMeter{Conn: c, reg: l.r}, nil
}

type connCtxKey struct{}

// WithConn returns ctx carrying m, for http.Server.ConnContext.
func WithConn(ctx context.Context, m *ConnMeter) context.Context {
	return context.WithValue(ctx, connCtxKey{}, m)
}

// ConnFrom returns the meter of the request's connection, or nil.
func ConnFrom(ctx context.Context) *ConnMeter {
	m, _ := ctx.Value(connCtxKey{}).(*ConnMeter)
	return m
}

// Attach names the device of the connection's current request and
// reports whether it is the device's first request on this connection:
// then d-connection counts one (connections, not requests). Bytes held
// so far go to d.
func (m *ConnMeter) Attach(d *Device) (first bool) {
	if d == nil {
		return false
	}
	if old := m.dev.Swap(d); old == d {
		return false
	}
	d.Inc(DConnection)
	m.flush(d)
	return true
}

func (m *ConnMeter) flush(d *Device) {
	if n := m.pendRcvd.Swap(0); n > 0 {
		d.Add(DBytesRcvd, n)
	}
	if n := m.pendSent.Swap(0); n > 0 {
		d.Add(DBytesSent, n)
	}
}

func (m *ConnMeter) add(c Counter, pend *atomic.Uint64, n int) {
	if n <= 0 {
		return
	}
	if d := m.dev.Load(); d != nil {
		d.Add(c, uint64(n))
		return
	}
	pend.Add(uint64(n))
	// Attach may have run between the Load and the Add: whoever swaps
	// the pending bytes out gives them to the device, once.
	if d := m.dev.Load(); d != nil {
		m.flush(d)
	}
}

// count adds one to c for the connection's device, or to the global
// sums when no request named one.
func (m *ConnMeter) count(c Counter) {
	if d := m.dev.Load(); d != nil {
		d.Inc(c)
		return
	}
	m.reg.IncGlobal(c)
}

func (m *ConnMeter) Read(b []byte) (int, error) {
	n, err := m.Conn.Read(b)
	m.add(DBytesRcvd, &m.pendRcvd, n)
	if err != nil {
		m.ended(err, true)
	}
	return n, err
}

func (m *ConnMeter) Write(b []byte) (int, error) {
	n, err := m.Conn.Write(b)
	m.add(DBytesSent, &m.pendSent, n)
	if err != nil {
		m.ended(err, false)
	}
	return n, err
}

// SetReadDeadline notes a deadline in the past: net/http's way to stop
// its background read, not a device timeout.
func (m *ConnMeter) SetReadDeadline(t time.Time) error {
	m.aborted.Store(!t.IsZero() && t.Before(time.Now()))
	return m.Conn.SetReadDeadline(t)
}

// SetDeadline is SetReadDeadline for both directions.
func (m *ConnMeter) SetDeadline(t time.Time) error {
	m.aborted.Store(!t.IsZero() && t.Before(time.Now()))
	return m.Conn.SetDeadline(t)
}

// ended counts how the connection ended, once: the device closed it
// (d-so-close), reset it (d-err-reset), stalled past the Device request
// timeout (d-err-conn-timeout waiting for a request, d-err-cmd-timeout
// in a request's body, d-err-so-timeout on a write) or
// something else (d-unclassified). The gateway's own close is not counted.
func (m *ConnMeter) ended(err error, read bool) {
	var c Counter
	switch {
	case errors.Is(err, net.ErrClosed):
		return
	case errors.Is(err, io.EOF):
		c = DSoClose
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		c = DErrReset
	case errors.Is(err, os.ErrDeadlineExceeded):
		if read && m.aborted.Load() {
			return
		}
		switch {
		case !read:
			c = DErrSoTimeout
		case m.busy.Load():
			c = DErrCmdTimeout
		default:
			c = DErrConnTimeout
		}
	default:
		c = DUnclassified
	}
	if m.done.CompareAndSwap(false, true) {
		m.count(c)
	}
}

// Close closes the connection; a close by the gateway is not counted.
func (m *ConnMeter) Close() error {
	m.done.Store(true)
	err := m.Conn.Close()
	if m.closed.CompareAndSwap(false, true) {
		m.reg.open.Add(-1)
		// A connection no device's request named (a handshake only, a
		// request refused before authentication): its bytes count in
		// the global sums, so that they add up to what crossed the wire.
		if m.dev.Load() == nil {
			m.reg.AddGlobal(DBytesRcvd, m.pendRcvd.Swap(0))
			m.reg.AddGlobal(DBytesSent, m.pendSent.Swap(0))
		}
	}
	return err
}

// ServerConn wraps one connection to an ActiveSync server (under TLS)
// and counts s-bytes-sent and s-bytes-rcvd for the device whose request
// holds it (SetOwner, from the transport's GotConn). Pooled connections
// carry the requests of many devices one after another; over HTTP/2 the
// streams of several devices share one connection and the bytes go to
// the last device that took it (an approximation).
type ServerConn struct {
	net.Conn
	owner atomic.Pointer[Device]
}

// SetOwner names the device whose request uses the connection now.
func (s *ServerConn) SetOwner(d *Device) { s.owner.Store(d) }

func (s *ServerConn) Read(b []byte) (int, error) {
	n, err := s.Conn.Read(b)
	if d := s.owner.Load(); d != nil && n > 0 {
		d.Add(SBytesRcvd, uint64(n))
	}
	return n, err
}

func (s *ServerConn) Write(b []byte) (int, error) {
	n, err := s.Conn.Write(b)
	if d := s.owner.Load(); d != nil && n > 0 {
		d.Add(SBytesSent, uint64(n))
	}
	return n, err
}

// ServerConnOf finds the ServerConn under c (a *tls.Conn or the
// connection itself), or nil.
func ServerConnOf(c net.Conn) *ServerConn {
	if u, ok := c.(interface{ NetConn() net.Conn }); ok {
		c = u.NetConn()
	}
	s, _ := c.(*ServerConn)
	return s
}

// Count adds one to c for the connection's device, or to the global
// sums when no request named one yet.
func (m *ConnMeter) Count(c Counter) { m.count(c) }

// Busy marks the connection as carrying a request whose body is being
// read: a read timeout then is the command's (d-err-cmd-timeout), not
// the wait for a request's (d-err-conn-timeout).
func (m *ConnMeter) Busy(b bool) { m.busy.Store(b) }

package upstream

import (
	"errors"
	"net"
	"os"
	"sync/atomic"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/stats"
)

// The device side of the advanced timeouts (ASC-20, ASC-23). The
// device-facing http.Server enforces the Device request timeout itself,
// as its ReadHeaderTimeout and IdleTimeout ("waiting for an HTTP request
// from the device on a new or existing connection"):
//
//	srv := &http.Server{
//		ReadHeaderTimeout: router.DeviceRequestTimeout(),
//		IdleTimeout:       router.DeviceRequestTimeout(),
//	}
//	srv.Serve(router.DeviceListener(l))
//
// DeviceListener counts what those deadlines cut off as
// d-err-conn-timeout, and bounds each write to the device by the socket
// read/write timeout, counting d-err-so-timeout. The device is not known
// yet when its connection times out, so these count in Router.Counter
// only. Reads of a request body are not bounded here: a Ping's
// connection sits idle for minutes by design, and the server's own
// background read must not time out while the handler waits.

// DeviceListener wraps the device-facing listener.
func (r *Router) DeviceListener(l net.Listener) net.Listener {
	return &deviceListener{Listener: l, r: r}
}

type deviceListener struct {
	net.Listener
	r *Router
}

func (l *deviceListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &deviceConn{Conn: c, r: l.r}, nil
}

type deviceConn struct {
	net.Conn
	r *Router
	// deadline bounds each write; TLS serialises the writes.
	deadline lazyDeadline
	// aborted: the server set a deadline in the past to stop its own
	// background read; the timeout that follows is not the device's.
	aborted atomic.Bool
	// rearm: someone above replaced the write deadline (net/http clears
	// it after the TLS handshake); the next write sets it again instead
	// of trusting deadline, which would leave that write unbounded.
	rearm atomic.Bool
}

func (c *deviceConn) SetReadDeadline(t time.Time) error {
	c.aborted.Store(!t.IsZero() && t.Before(time.Now()))
	return c.Conn.SetReadDeadline(t)
}

func (c *deviceConn) SetDeadline(t time.Time) error {
	c.aborted.Store(!t.IsZero() && t.Before(time.Now()))
	c.rearm.Store(true)
	return c.Conn.SetDeadline(t)
}

func (c *deviceConn) SetWriteDeadline(t time.Time) error {
	c.rearm.Store(true)
	return c.Conn.SetWriteDeadline(t)
}

func (c *deviceConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) && !c.aborted.Load() {
		c.r.counters.inc(stats.DErrConnTimeout)
	}
	return n, err
}

func (c *deviceConn) Write(b []byte) (int, error) {
	if c.rearm.Swap(false) {
		c.deadline = lazyDeadline{}
	}
	if err := c.deadline.arm(c.Conn, c.r.table.Load().set.socketRW); err != nil {
		return 0, err
	}
	n, err := c.Conn.Write(b)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		c.r.counters.inc(stats.DErrSoTimeout)
	}
	return n, err
}

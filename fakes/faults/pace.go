package faults

import (
	"net"
	"time"
)

// pacer throttles a byte stream to rate bytes a second, in ten pieces a
// second. Waits end early for good when done closes (the fault ended)
// and fail with stopErr when stop closes (the peer is gone).
type pacer struct {
	rate    int
	stop    <-chan struct{}
	done    <-chan struct{}
	stopErr func() error
}

func (p pacer) chunk() int { return max(1, p.rate/10) }

// wait waits as long as n bytes take at the rate.
func (p pacer) wait(n int) error {
	if !sleep(p.stop, p.done, time.Duration(n)*time.Second/time.Duration(p.rate)) {
		return p.stopErr()
	}
	return nil
}

// write writes b piece by piece, calling flush after each piece.
func (p pacer) write(b []byte, write func([]byte) (int, error), flush func()) (int, error) {
	n := 0
	for len(b) > 0 {
		c := min(p.chunk(), len(b))
		m, err := write(b[:c])
		n += m
		if err != nil {
			return n, err
		}
		flush()
		if b = b[c:]; len(b) == 0 {
			break
		}
		if err := p.wait(c); err != nil {
			return n, err
		}
	}
	return n, nil
}

// paceReader reads at most a piece at a time, waiting before each read
// as long as the previous piece takes at the rate.
type paceReader struct {
	p    pacer
	owed int // bytes of the previous piece not yet waited for
}

func (r *paceReader) read(b []byte, read func([]byte) (int, error)) (int, error) {
	if r.owed > 0 {
		if err := r.p.wait(r.owed); err != nil {
			return 0, err
		}
	}
	n, err := read(b[:min(len(b), r.p.chunk())])
	r.owed = n
	return n, err
}

// faultConn is the base of the connection wrappers: Close ends their
// waits, NetConn unwraps them.
type faultConn struct {
	net.Conn
	closed chan struct{}
	env    Env
}

func newFaultConn(c net.Conn, env Env) faultConn {
	return faultConn{Conn: c, closed: make(chan struct{}), env: env}
}

func (c *faultConn) Close() error {
	closeOnce(c.closed)
	return c.Conn.Close()
}

func (c *faultConn) NetConn() net.Conn { return c.Conn }

func (c *faultConn) closedErr() error { return net.ErrClosed }

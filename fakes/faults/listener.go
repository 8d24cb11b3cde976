package faults

import (
	"context"
	"fmt"
	"net"
	"sync"
)

// Listener is a TCP listener under an Injector's connection faults. It
// keeps its address while down: a down fault (refuse) closes the socket,
// so that connections are refused, and closes the connections it
// accepted; when the fault ends it listens again on the same address.
// Meanwhile a bound, non-listening socket holds the port (on Linux), so
// that nothing else is given it. Accept waits while it is down, so an
// http.Server keeps serving it.
type Listener struct {
	in      *Injector
	network string
	addr    net.Addr

	mu     sync.Mutex
	inner  net.Listener  // nil while down
	hold   func() error  // releases the port held while down; nil when none
	wake   chan struct{} // closed when inner comes back or the listener closes
	closed bool
	conns  map[*trackedConn]struct{}
}

// Listen listens on addr ("127.0.0.1:0") under the Injector's faults; if
// a down fault is in force it keeps the address and refuses at once.
func (in *Injector) Listen(ctx context.Context, network, addr string) (*Listener, error) {
	lc := net.ListenConfig{Control: reuseport}
	ln, err := lc.Listen(ctx, network, addr)
	if err != nil {
		return nil, fmt.Errorf("faults: %w", err)
	}
	l := &Listener{in: in, network: network, addr: ln.Addr(), inner: ln, wake: make(chan struct{}), conns: map[*trackedConn]struct{}{}}
	in.setMu.Lock()
	defer in.setMu.Unlock()
	in.mu.Lock()
	in.listeners[l] = struct{}{}
	in.mu.Unlock()
	if err := l.setDown(in.refusing()); err != nil {
		return nil, err
	}
	return l, nil
}

// Addr is the bound address, the same while down and after.
func (l *Listener) Addr() net.Addr { return l.addr }

// Accept waits for a connection and applies the connection faults to it.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		l.mu.Lock()
		inner, wake, closed := l.inner, l.wake, l.closed
		l.mu.Unlock()
		switch {
		case closed:
			return nil, net.ErrClosed
		case inner == nil:
			<-wake
			continue
		}
		c, err := inner.Accept()
		if err != nil {
			l.mu.Lock()
			closed, same := l.closed, l.inner == inner
			l.mu.Unlock()
			switch {
			case closed:
				return nil, net.ErrClosed
			case !same: // went down meanwhile
				continue
			}
			return nil, err
		}
		if tc := l.admit(c, inner); tc != nil {
			return tc, nil
		}
	}
}

// admit runs the connection faults on c and tracks what comes out; nil
// when a fault closed it or the listener went down meanwhile.
func (l *Listener) admit(c net.Conn, from net.Listener) net.Conn {
	for _, f := range *l.in.cur.Load() {
		t, ok := f.spec.Toxic.(ConnToxic)
		if !ok || !l.in.acts(f) {
			continue
		}
		if c = t.Apply(c, l.in.env(f, nil)); c == nil {
			return nil
		}
	}
	tc := &trackedConn{Conn: c, l: l}
	l.mu.Lock()
	if l.inner != from {
		l.mu.Unlock()
		_ = c.Close()
		return nil
	}
	l.conns[tc] = struct{}{}
	l.mu.Unlock()
	return tc
}

// Close stops listening for good; accepted connections stay open (an
// http.Server closes its own).
func (l *Listener) Close() error {
	l.in.mu.Lock()
	delete(l.in.listeners, l)
	l.in.mu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	close(l.wake)
	l.release()
	if l.inner != nil {
		return l.inner.Close()
	}
	return nil
}

// release gives up the port held while down; l.mu is held.
func (l *Listener) release() {
	if l.hold != nil {
		_ = l.hold()
		l.hold = nil
	}
}

// setDown closes the socket and the open connections (down) or listens
// again on the same address (up).
func (l *Listener) setDown(down bool) error {
	l.mu.Lock()
	if l.closed || down == (l.inner == nil) {
		l.mu.Unlock()
		return nil
	}
	if !down {
		defer l.mu.Unlock()
		lc := net.ListenConfig{Control: reuseport}
		ln, err := lc.Listen(context.Background(), l.network, l.addr.String())
		if err != nil {
			return fmt.Errorf("faults: listening again on %s: %w", l.addr, err)
		}
		l.release() // after listening, so that the port is never free
		l.inner = ln
		close(l.wake)
		l.wake = make(chan struct{})
		return nil
	}
	// Hold the port before closing the listener; where that is not
	// possible the port is free while down, as before.
	if hold, err := reserve(l.addr); err == nil {
		l.hold = hold
	}
	inner := l.inner
	l.inner = nil
	open := make([]*trackedConn, 0, len(l.conns))
	for c := range l.conns {
		open = append(open, c)
	}
	l.mu.Unlock()
	err := inner.Close() // connections are refused from here on
	for _, c := range open {
		_ = c.Close()
	}
	return err
}

// trackedConn is an accepted connection, closed when its listener goes
// down.
type trackedConn struct {
	net.Conn
	l    *Listener
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}

// NetConn is the connection under the faults (as tls.Conn.NetConn).
func (c *trackedConn) NetConn() net.Conn { return c.Conn }

package upstream

import (
	"context"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onsi/gomega"
)

// gate stands between the Router and its servers' sockets: paused, a
// write waits (as one to a server that stopped reading does) until the
// gate opens or the connection's write deadline passes.
type gate struct {
	mu       sync.Mutex
	open     chan struct{} // closed while writes go through
	conns    []net.Conn
	since    time.Time // when the first write waited; zero if none
	timeouts atomic.Int32
}

func newGate() *gate {
	g := &gate{open: make(chan struct{})}
	close(g.open)
	return g
}

func (g *gate) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.conns = append(g.conns, c)
	return &gatedConn{Conn: c, g: g}, nil
}

func (g *gate) pause() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.open, g.since = make(chan struct{}), time.Time{}
}

func (g *gate) resume() {
	g.mu.Lock()
	defer g.mu.Unlock()
	close(g.open)
}

// waited is how long the first write held by the gate has waited.
func (g *gate) waited() time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.since.IsZero() {
		return 0
	}
	return time.Since(g.since)
}

// breakAll closes every server connection under the Router's feet, as a
// server restart or a middlebox reset does.
func (g *gate) breakAll() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, c := range g.conns {
		c.Close()
	}
	return len(g.conns)
}

type gatedConn struct {
	net.Conn
	g        *gate
	mu       sync.Mutex
	deadline time.Time
}

func (c *gatedConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadline = t
	c.mu.Unlock()
	return c.Conn.SetWriteDeadline(t)
}

func (c *gatedConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadline = t
	c.mu.Unlock()
	return c.Conn.SetDeadline(t)
}

func (c *gatedConn) Write(b []byte) (int, error) {
	c.g.mu.Lock()
	open := c.g.open
	select {
	case <-open:
		c.g.mu.Unlock()
		return c.Conn.Write(b)
	default:
	}
	if c.g.since.IsZero() {
		c.g.since = time.Now()
	}
	c.g.mu.Unlock()
	c.mu.Lock()
	dl := c.deadline
	c.mu.Unlock()
	var expired <-chan time.Time
	if !dl.IsZero() {
		t := time.NewTimer(time.Until(dl))
		defer t.Stop()
		expired = t.C
	}
	select {
	case <-open:
		return c.Conn.Write(b)
	case <-expired:
		c.g.timeouts.Add(1)
		return 0, os.ErrDeadlineExceeded
	}
}

// holdPings sends n Pings through r, one first so that the rest share its
// connection, and returns once the server holds them all; wait returns
// their errors once they ended.
func holdPings(t *testing.T, r *Router, n int, held func() int) (wait func() []error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, body, err := do(t, r, easRequest("gw.example.com", "Ping", "ping"))
			if err == nil && body != "pong" {
				t.Errorf("Ping %d: body %q", i, body)
			}
			errs[i] = err
		})
		if i == 0 {
			gomega.NewWithT(t).Eventually(held).WithTimeout(10 * time.Second).Should(gomega.Equal(1))
		}
	}
	gomega.NewWithT(t).Eventually(held).WithTimeout(10*time.Second).Should(gomega.Equal(n), "the server holds every Ping")
	return func() []error { wg.Wait(); return errs }
}

// TestHTTP2HeldPingsOutliveASlowWrite: a server that stops reading for
// longer than the socket read/write timeout (a saturated Exchange) while
// another request is being written must not end the Pings held on the
// same HTTP/2 connection. Before, the write timed out after the socket
// timeout, the transport closed the shared connection and every held Ping
// failed with it.
func TestHTTP2HeldPingsOutliveASlowWrite(t *testing.T) {
	const n = 5
	release := make(chan struct{})
	x, seen := newH2Exchange(t, release)
	to := defaultTimeouts()
	to.SocketReadWriteMs = 200
	g := newGate()
	r := newRouter(t, asConfig(service("default", x)), defaultMgmt(), to, Options{HTTP2: true, DialContext: g.dial}, x)
	held := func() int { p, _ := seen(); return p[2] }
	wait := holdPings(t, r, n, held)

	g.pause()
	syncDone := make(chan error, 1)
	go func() {
		_, _, err := do(t, r, easRequest("gw.example.com", "Sync", "sync"))
		syncDone <- err
	}()
	// Three socket timeouts with the Sync's write held by the gate.
	gomega.NewWithT(t).Eventually(g.waited).WithTimeout(10 * time.Second).Should(gomega.BeNumerically(">", 3*200*time.Millisecond))
	g.resume()
	close(release) // the Sync, once in, is answered at once
	for i, err := range wait() {
		if err != nil {
			t.Errorf("held Ping %d failed: %v", i, err)
		}
	}
	if err := <-syncDone; err != nil {
		t.Errorf("the slow Sync failed: %v", err)
	}
	if got := g.timeouts.Load(); got != 0 {
		t.Errorf("%d writes timed out on the shared connection", got)
	}
}

// TestHTTP2BrokenConnectionIsOneServerFailure: the Pings held on one
// HTTP/2 connection all fail when it breaks; that counts as one failure
// of the server toward its Dead Threshold (5), not one per Ping, which
// declared the server dead and turned every device away for Dead Time.
func TestHTTP2BrokenConnectionIsOneServerFailure(t *testing.T) {
	const n = 10
	release := make(chan struct{})
	defer close(release)
	x, seen := newH2Exchange(t, release)
	g := newGate()
	r := newRouter(t, asConfig(service("default", x)), defaultMgmt(), defaultTimeouts(), Options{HTTP2: true, DialContext: g.dial}, x)
	wait := holdPings(t, r, n, func() int { p, _ := seen(); return p[2] })
	if conns := g.breakAll(); conns != 1 {
		t.Fatalf("%d server connections, want the Pings on 1", conns)
	}
	for i, err := range wait() {
		if err == nil {
			t.Errorf("Ping %d answered on a broken connection", i)
		}
	}
	st := serverStatus(t, r, "default", x.addr())
	if !st.Reachable || st.FailureCount != 1 {
		t.Errorf("after one broken connection: reachable %v, %d failures; want reachable, 1", st.Reachable, st.FailureCount)
	}
}

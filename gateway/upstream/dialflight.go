package upstream

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// With HTTP/2 the transport still dials once for every request that finds
// no connection with a free stream (net/http's Transport has no shared
// dial for HTTP/2): fifty devices arriving while the first connection to
// a server is being set up make fifty TLS handshakes with the server, of
// which one is kept. On a saturated server those handshakes are what
// outlast the server connection timeout (ASC-21), and each counts toward
// its Dead Threshold. So a dial to a server waits while another one to
// the same server is under way; when that one is done the transport hands
// its connection to every request waiting for one, and a waiting dial
// whose request got it gives up (errConnShared, which the transport drops:
// the request is already served). A waiting dial whose request got
// nothing (the new connection was full, or its dial failed) dials itself.

// errConnShared ends a dial whose request was given another connection.
var errConnShared = errors.New("upstream: request served by a shared connection")

// sharedConnGrace bounds the wait, after another dial to the server ended,
// for the transport to hand its connection to this dial's request.
const sharedConnGrace = time.Second

// dialFlights is the dial under way to each server.
type dialFlights struct {
	mu      sync.Mutex
	m       map[string]*flight
	waiting atomic.Int32 // dials waiting for another (tests read it)
}

// flight is one dial; h2 is set before done is closed.
type flight struct {
	done chan struct{}
	h2   bool // it gave an HTTP/2 connection, which the transport shares
}

// join returns once the caller may dial addr, or errConnShared once its
// request got a connection meanwhile. leave ends the caller's turn,
// saying whether its dial gave an HTTP/2 connection; when not (an error,
// or a server that speaks HTTP/1.1 only) the dials that waited go ahead
// at once, as they would have without waiting.
func (f *dialFlights) join(ctx context.Context, addr string) (leave func(h2 bool), err error) {
	a, _ := ctx.Value(attemptCtxKey{}).(*attempt)
	for {
		f.mu.Lock()
		busy := f.m[addr]
		if busy == nil {
			if f.m == nil {
				f.m = make(map[string]*flight)
			}
			fl := &flight{done: make(chan struct{})}
			f.m[addr] = fl
			f.mu.Unlock()
			return func(h2 bool) {
				f.mu.Lock()
				delete(f.m, addr)
				f.mu.Unlock()
				fl.h2 = h2
				close(fl.done)
			}, nil
		}
		f.mu.Unlock()
		f.waiting.Add(1)
		select {
		case <-busy.done:
		case <-ctx.Done():
			f.waiting.Add(-1)
			return nil, ctx.Err()
		}
		f.waiting.Add(-1)
		if !busy.h2 || a == nil {
			return func(bool) {}, nil
		}
		if a.got.wait(ctx, sharedConnGrace) {
			return nil, errConnShared
		}
	}
}

// gotConn records that the transport handed an attempt a connection.
type gotConn struct {
	mu  sync.Mutex
	got bool
	ch  chan struct{} // made by a waiter, closed by mark
}

func (g *gotConn) mark() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.got && g.ch != nil {
		close(g.ch)
	}
	g.got = true
}

// wait reports whether a connection was handed over within d.
func (g *gotConn) wait(ctx context.Context, d time.Duration) bool {
	g.mu.Lock()
	if g.got {
		g.mu.Unlock()
		return true
	}
	if g.ch == nil {
		g.ch = make(chan struct{})
	}
	ch := g.ch
	g.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
}

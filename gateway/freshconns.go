package gateway

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"
)

// freshConns tracks the connections that have not sent a request yet.
// http.Server.Shutdown counts such a connection as busy for its first five
// seconds, so a fleet that has just opened connections (a burst of
// devices, a load generator's spare connections) would hold every stop
// for five seconds; at shutdown they are closed instead, and their devices
// reconnect to the restarted gateway.
type freshConns struct {
	mu sync.Mutex
	m  map[net.Conn]struct{}
}

func newFreshConns() *freshConns { return &freshConns{m: make(map[net.Conn]struct{})} }

// track is the servers' ConnState hook.
func (f *freshConns) track(c net.Conn, st http.ConnState) {
	f.mu.Lock()
	if st == http.StateNew {
		f.m[c] = struct{}{}
	} else {
		delete(f.m, c)
	}
	f.mu.Unlock()
}

// closeAll closes every connection that has not sent a request.
func (f *freshConns) closeAll() {
	f.mu.Lock()
	for c := range f.m {
		c.Close()
		delete(f.m, c)
	}
	f.mu.Unlock()
}

// shutdown stops srv as http.Server.Shutdown does, closing connections
// that never sent a request as they turn up, until srv has stopped.
func (f *freshConns) shutdown(ctx context.Context, srv *http.Server) error {
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(ctx) }()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		f.closeAll()
		select {
		case err := <-done:
			return err
		case <-tick.C:
		}
	}
}

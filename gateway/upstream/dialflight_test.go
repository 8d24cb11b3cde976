package upstream

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onsi/gomega"
)

// TestHTTP2ConcurrentRequestsShareOneDial: fifty requests that arrive
// while the first connection to an HTTP/2 server is still being set up
// share it: one dial, where net/http's Transport made one per request
// (fifty TLS handshakes with a server that may be saturated, each
// counting toward its Dead Threshold when it outlasts the connect timeout).
func TestHTTP2ConcurrentRequestsShareOneDial(t *testing.T) {
	const n = 50
	release := make(chan struct{})
	x, seen := newH2Exchange(t, release)
	var dials atomic.Int32
	slow := make(chan struct{}) // the first dial waits for every request to be under way
	var started sync.WaitGroup
	started.Add(n)
	var r *Router
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dials.Add(1) == 1 {
			select {
			case <-slow:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	r = newRouter(t, asConfig(service("default", x)), defaultMgmt(), defaultTimeouts(), Options{HTTP2: true, DialContext: dial}, x)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			started.Done()
			_, body, err := do(t, r, easRequest("gw.example.com", "Ping", "ping"))
			if err == nil && body != "pong" {
				t.Errorf("body %q", body)
			}
			errs <- err
		})
	}
	started.Wait()
	// Every request is at a dial: its own (net/http's way) or waiting
	// for the first.
	gomega.NewWithT(t).Eventually(func() int32 { return dials.Load() + r.flights.waiting.Load() }).WithTimeout(10 * time.Second).Should(gomega.BeNumerically(">=", int32(n)))
	close(slow)
	gomega.NewWithT(t).Eventually(func() int { p, _ := seen(); return p[2] }).WithTimeout(10*time.Second).Should(gomega.Equal(n), "every request reaches the server over HTTP/2")
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("request failed: %v", err)
		}
	}
	if got := dials.Load(); got > 2 {
		t.Errorf("%d dials for %d concurrent requests, want 1 (2 at most if one came in between)", got, n)
	}
	if _, conns := seen(); len(conns) != 1 {
		t.Errorf("%d server connections, want 1", len(conns))
	}
}

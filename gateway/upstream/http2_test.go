package upstream

import (
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/onsi/gomega"
)

// newH2Exchange is a TLS stand-in server that offers HTTP/2, as Exchange
// does; it records the protocol and the client connection of each POST,
// and holds each one until release is closed (a hanging Ping).
func newH2Exchange(t *testing.T, release <-chan struct{}) (*exchange, func() (protos map[int]int, conns map[string]bool)) {
	t.Helper()
	var mu sync.Mutex
	protos, conns := map[int]int{}, map[string]bool{}
	x := &exchange{name: "h2"}
	x.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusUnauthorized) // health check
			return
		}
		mu.Lock()
		protos[r.ProtoMajor]++
		conns[r.RemoteAddr] = true
		mu.Unlock()
		io.Copy(io.Discard, r.Body)
		<-release
		io.WriteString(w, "pong")
	}))
	x.srv.EnableHTTP2 = true
	x.srv.StartTLS()
	t.Cleanup(x.kill)
	return x, func() (map[int]int, map[string]bool) {
		mu.Lock()
		defer mu.Unlock()
		return maps.Clone(protos), maps.Clone(conns)
	}
}

// TestHTTP2MultiplexesHangingRequests: with Options.HTTP2 the requests
// in flight to a server that offers HTTP/2 share one connection (a Ping
// costs a stream, not a socket); without it each holds its own
// HTTP/1.1 connection.
func TestHTTP2MultiplexesHangingRequests(t *testing.T) {
	const n = 20
	for _, h2 := range []bool{true, false} {
		release := make(chan struct{})
		x, seen := newH2Exchange(t, release)
		r := newRouter(t, asConfig(service("default", x)), defaultMgmt(), defaultTimeouts(), Options{HTTP2: h2}, x)
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for range n {
			wg.Go(func() {
				_, body, err := do(t, r, easRequest("gw.example.com", "Ping", "ping"))
				if err == nil && body != "pong" {
					t.Errorf("body %q", body)
				}
				errs <- err
			})
		}
		gomega.NewWithT(t).Eventually(func() int {
			p, _ := seen()
			return p[1] + p[2]
		}).WithTimeout(20*time.Second).Should(gomega.Equal(n), "every request reaches the server")
		close(release)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("http2 %v: %v", h2, err)
			}
		}
		protos, conns := seen()
		if h2 && (protos[2] != n || len(conns) != 1) {
			t.Errorf("HTTP/2: protocols %v over %d connections, want %d HTTP/2 requests on 1", protos, len(conns), n)
		}
		if !h2 && (protos[1] != n || len(conns) != n) {
			t.Errorf("HTTP/1.1: protocols %v over %d connections, want %d HTTP/1.1 requests on %d", protos, len(conns), n, n)
		}
	}
}

package upstream

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/gatehouse-lab/gatehouse/gateway/stats"
)

// The lean HTTP/1.1 path (h1pool.go) against http.Transport: the same
// requests through a Router on each, compared on what the device gets
// (status, headers, body), the connections dialled and the counters.

// scripted answers by Cmd, as Exchange would and as it breaks.
func scripted(release <-chan struct{}, arrived chan<- struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/moved" {
			fmt.Fprintf(w, "moved %s", body)
			return
		}
		switch r.URL.Query().Get("Cmd") {
		case "FolderSync":
			w.Header().Set("Content-Type", "application/vnd.ms-sync.wbxml")
			w.Header().Set("MS-Server-ActiveSync", "15.1")
			w.Write([]byte("\x03\x01j\x00\x00\x07VLR\x031\x00\x01\x01"))
		case "Sync": // chunked, echoing the body
			w.Write([]byte("sync:"))
			w.(http.Flusher).Flush()
			w.Write(body)
		case "Close":
			w.Header().Set("Connection", "close")
			w.Write([]byte("bye"))
		case "Moved":
			w.Header().Set("X-MS-Location", "http://"+r.Host+"/moved")
			w.WriteHeader(451)
		case "Empty":
			w.WriteHeader(http.StatusOK)
		case "Ping":
			arrived <- struct{}{}
			<-release
			w.Write([]byte("\x03\x01j\x00\x00\x0dE\x47\x031\x00\x01\x01"))
		case "Cut": // a server dying mid-body
			w.Header().Set("Content-Length", "100")
			w.Write([]byte("0123456789"))
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		case "Drop": // the connection closed before any answer
			c, _, _ := w.(http.Hijacker).Hijack()
			c.Close()
		case "HalfHead":
			c, bw, _ := w.(http.Hijacker).Hijack()
			bw.WriteString("HTTP/1.1 200 OK\r\nContent-")
			bw.Flush()
			c.Close()
		case "Reset":
			c, _, _ := w.(http.Hijacker).Hijack()
			if tc, ok := c.(*tls.Conn); ok {
				c = tc.NetConn()
			}
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
		case "Hang":
			<-release
		}
	}
}

var addrRE = regexp.MustCompile(`127\.0\.0\.1:[0-9]+`)

// outcome is what one request gave the device.
type outcome struct {
	Status   int
	Header   http.Header
	Length   int64
	Chunked  bool
	Close    bool
	Body     string
	Err      string
	Dials    int64
	Counters string
}

// countingDial counts the server connections a Router dials.
func countingDial(n *atomic.Int64) func(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		n.Add(1)
		return d.DialContext(ctx, network, addr)
	}
}

// counters renders a Router's non-zero counters.
func counters(r *Router) string {
	var b strings.Builder
	for _, c := range stats.Counters() {
		if v := r.Counter(c); v != 0 {
			fmt.Fprintf(&b, "%s=%d ", c, v)
		}
	}
	return b.String()
}

// send makes one request through r and describes the outcome.
func send(t *testing.T, r *Router, dials *atomic.Int64, cmd, body string, ctx context.Context) outcome {
	t.Helper()
	req := easRequest("gw", cmd, body)
	if ctx != nil {
		req = req.WithContext(ctx)
	}
	var o outcome
	resp, err := r.RoundTrip(req)
	if err == nil {
		o.Status, o.Length, o.Close = resp.StatusCode, resp.ContentLength, resp.Close
		o.Header = resp.Header.Clone()
		o.Header.Del("Date")
		o.Chunked = slices.Contains(resp.TransferEncoding, "chunked")
		var b []byte
		b, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		o.Body = string(b)
	}
	if err != nil {
		o.Err = addrRE.ReplaceAllString(err.Error(), "ADDR") // ephemeral ports differ
	}
	o.Dials, o.Counters = dials.Load(), counters(r)
	return o
}

// twin is a Router on each path to the same Exchange.
type twin struct {
	x       *exchange
	lean    *Router
	std     *Router
	dials   [2]atomic.Int64
	release chan struct{}
	arrived chan struct{}
}

func newTwin(t *testing.T, useTLS bool) *twin {
	tw := &twin{release: make(chan struct{}), arrived: make(chan struct{})}
	tw.x = newExchange(t, "x", useTLS)
	tw.x.setHandler(scripted(tw.release, tw.arrived))
	cfg := asConfig(service("default", tw.x))
	tw.lean = newRouter(t, cfg, defaultMgmt(), defaultTimeouts(), Options{DialContext: countingDial(&tw.dials[0])}, tw.x)
	tw.std = newRouter(t, cfg, defaultMgmt(), defaultTimeouts(), Options{DialContext: countingDial(&tw.dials[1]), NoH1Pool: true}, tw.x)
	if tw.lean.h1 == nil || tw.std.h1 != nil {
		t.Fatal("the twins do not take one path each")
	}
	return tw
}

// responseTimeout sets both Routers' server response timeout; their
// pooled connections stay (a handshake under -race outlasts a short one).
func (tw *twin) responseTimeout(t *testing.T, ms int) {
	to := defaultTimeouts()
	to.ServerResponseMs = ms
	for _, r := range []*Router{tw.lean, tw.std} {
		if err := r.Update(asConfig(service("default", tw.x)), defaultMgmt(), to); err != nil {
			t.Fatal(err)
		}
	}
}

// both sends the same request through each Router and compares.
func (tw *twin) both(t *testing.T, cmd, body string) outcome {
	t.Helper()
	lean := send(t, tw.lean, &tw.dials[0], cmd, body, nil)
	std := send(t, tw.std, &tw.dials[1], cmd, body, nil)
	if fmt.Sprint(lean) != fmt.Sprint(std) {
		t.Errorf("%s:\n lean %+v\n std  %+v", cmd, lean, std)
	}
	return lean
}

func TestH1PoolMatchesTransport(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", useTLS), func(t *testing.T) {
			tw := newTwin(t, useTLS)
			steps := []struct{ cmd, body string }{
				{"FolderSync", ""}, {"FolderSync", ""}, {"Sync", "<sync/>"}, {"Sync", strings.Repeat("s", 40<<10)},
				{"Close", ""}, {"FolderSync", ""}, {"Moved", "m"}, {"Empty", ""}, {"FolderSync", ""},
				{"Cut", ""}, {"FolderSync", ""},
			}
			for _, s := range steps {
				tw.both(t, s.cmd, s.body)
			}
			// A Ping hangs on the server, then is answered, on each path.
			for i, r := range []*Router{tw.lean, tw.std} {
				got := make(chan outcome, 1)
				go func() { got <- send(t, r, &tw.dials[i], "Ping", "", nil) }()
				<-tw.arrived
				tw.release <- struct{}{}
				if o := <-got; o.Status != http.StatusOK || o.Err != "" {
					t.Errorf("path %d: Ping %+v", i, o)
				}
			}
			last := tw.both(t, "FolderSync", "")
			if last.Dials != 3 {
				t.Errorf("%d connections dialled, want 3 (reused but after Connection: close and the cut body)", last.Dials)
			}
			if tw.lean.h1.conns.Load() != 1 {
				t.Errorf("%d lean connections open, want the one idle", tw.lean.h1.conns.Load())
			}
		})
	}
}

// TestH1PoolErrorsClassifyAsTransport: each way a server fails gives the
// device the same error and the Router the same counters (s-err-*, the
// Dead Threshold's passive failures) on both paths.
func TestH1PoolErrorsClassifyAsTransport(t *testing.T) {
	for _, tc := range []struct {
		cmd    string
		useTLS bool
	}{{"Drop", false}, {"HalfHead", false}, {"Reset", false}, {"Hang", false}, {"Drop", true}, {"HalfHead", true}, {"Reset", true}, {"Hang", true}} {
		cmd := tc.cmd
		t.Run(fmt.Sprintf("%s/tls=%v", cmd, tc.useTLS), func(t *testing.T) {
			tw := newTwin(t, tc.useTLS)
			t.Cleanup(func() { close(tw.release) })
			tw.both(t, "FolderSync", "") // a pooled connection first
			if cmd == "Hang" {
				tw.responseTimeout(t, 300)
			}
			o := tw.both(t, cmd, "")
			if o.Err == "" || o.Counters == "s-connections=1 " {
				t.Errorf("%s: %+v, want an error counted", cmd, o)
			}
			lean, std := serverStatus(t, tw.lean, "default", tw.x.addr()), serverStatus(t, tw.std, "default", tw.x.addr())
			if lean.FailureCount != std.FailureCount || lean.Reachable != std.Reachable || lean.DeadSince != std.DeadSince {
				t.Errorf("server health:\n lean %+v\n std  %+v", lean, std)
			}
		})
	}
	t.Run("Refused", func(t *testing.T) {
		tw := newTwin(t, true)
		tw.x.kill()
		tw.both(t, "FolderSync", "")
	})
}

// TestH1PoolCancelledPingClosesItsConnection: a device that goes away
// while its Ping hangs ends the request with its context's error and the
// server connection with it (context.AfterFunc, no watcher goroutine).
func TestH1PoolCancelledPingClosesItsConnection(t *testing.T) {
	tw := newTwin(t, true)
	t.Cleanup(func() { close(tw.release) })
	for i, r := range []*Router{tw.lean, tw.std} {
		ctx, cancel := context.WithCancel(context.Background())
		got := make(chan outcome, 1)
		go func() { got <- send(t, r, &tw.dials[i], "Ping", "", ctx) }()
		<-tw.arrived
		cancel()
		if o := <-got; !strings.Contains(o.Err, context.Canceled.Error()) || o.Counters != "s-connections=1 " {
			t.Errorf("path %d: %+v, want the cancellation and no error counted", i, o)
		}
	}
	if n := tw.lean.h1.conns.Load(); n != 0 {
		t.Errorf("%d lean connections open after the cancelled Ping, want 0", n)
	}
}

// TestH1PoolSkipsConnectionsTheServerClosed: a pooled connection the
// server closed while idle is not used (http.Transport's readLoop sees
// the close; the lean path probes the socket before reuse); the request
// goes out on a new connection and nothing is counted against the server.
func TestH1PoolSkipsConnectionsTheServerClosed(t *testing.T) {
	for _, tc := range []struct {
		useTLS, opaque bool
	}{{false, false}, {true, false}, {false, true}, {true, true}} {
		tw := newTwin(t, tc.useTLS)
		if tc.opaque { // a dialler whose connections hide their socket: the deadline probe
			var d net.Dialer
			tw.lean.opts.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := d.DialContext(ctx, network, addr)
				return opaqueConn{c}, err
			}
		}
		send(t, tw.lean, &tw.dials[0], "FolderSync", "", nil)
		tw.x.srv.CloseClientConnections()
		waitClosed(t, tw.lean.h1)
		o := send(t, tw.lean, &tw.dials[0], "FolderSync", "", nil)
		if o.Err != "" || o.Counters != "s-connections=2 " {
			t.Errorf("%+v: %+v, want a new connection and no error", tc, o)
		}
	}
}

// opaqueConn hides the socket under a connection (no syscall.Conn).
type opaqueConn struct{ net.Conn }

// waitClosed waits (bounded) until the peer's close of p's idle
// connection has reached this side: a blocking read of the raw socket.
func waitClosed(t *testing.T, p *h1pool) {
	t.Helper()
	p.mu.Lock()
	var c *h1conn
	for _, list := range p.idle {
		c = list[0]
	}
	p.mu.Unlock()
	if c == nil {
		t.Fatal("no idle connection")
	}
	if c.sys == nil { // opaqueConn: wait on the socket under it
		sys, err := c.raw.(opaqueConn).Conn.(syscall.Conn).SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		c = &h1conn{sys: sys}
	}
	// The server's FIN (or close_notify first, with TLS) arrives on the
	// raw socket; peek it without consuming.
	br := bufio.NewReader(peekOnly{c})
	if _, err := br.Peek(1); err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("waiting for the server's close: %v", err)
	}
}

// peekOnly reads the raw socket with MSG_PEEK, blocking until readable.
type peekOnly struct{ c *h1conn }

func (p peekOnly) Read(b []byte) (int, error) {
	var n int
	var err error
	rerr := p.c.sys.Read(func(fd uintptr) bool {
		n, err = peekSocket(fd, b[:1])
		return !(errors.Is(err, syscall.EAGAIN))
	})
	if rerr != nil {
		return 0, rerr
	}
	if n == 0 && err == nil {
		return 0, io.EOF
	}
	return n, err
}

// TestH1PoolDialsOffTheCallersGoroutine: a new connection's dial (and
// its TLS handshake, the deepest code a request runs) must not run on the
// goroutine of the request, which waits under the whole device handler
// chain: its stack would double for as long as a Ping is held on it.
func TestH1PoolDialsOffTheCallersGoroutine(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()
	var onCaller atomic.Bool
	var d net.Dialer
	p := newH1Pool(func(ctx context.Context, network, addr string, _ bool) (net.Conn, error) {
		buf := make([]byte, 64<<10)
		if strings.Contains(string(buf[:runtime.Stack(buf, false)]), "(*h1pool).RoundTrip") {
			onCaller.Store(true)
		}
		return d.DialContext(ctx, network, addr)
	})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/Microsoft-Server-ActiveSync?Cmd=Ping", strings.NewReader("x"))
	resp, err := p.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "ok" {
		t.Fatalf("body %q, want ok", body)
	}
	if onCaller.Load() {
		t.Error("the dial ran on the request's goroutine")
	}
}

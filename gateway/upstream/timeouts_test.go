package upstream

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
)

// within checks that a timeout fired at its configured value: not before,
// and not much after (loopback, a shared 2-core machine).
func within(t *testing.T, what string, elapsed, configured time.Duration) {
	t.Helper()
	if elapsed < configured || elapsed > configured+400*time.Millisecond {
		t.Errorf("%s fired after %v, configured %v", what, elapsed, configured)
	}
}

// withDevice attaches per-device counters to a request.
func withDevice(req *http.Request, reg *stats.Registry) (*http.Request, *stats.Device) {
	d := reg.Device("DEV1", "alice")
	return req.WithContext(WithDevice(req.Context(), Device{ID: "DEV1", User: "alice", Stats: d})), d
}

func TestASC21_ServerConnectionTimeoutCountsAndFailsOver(t *testing.T) {
	a, b := newExchange(t, "a", false), newExchange(t, "b", false)
	to := defaultTimeouts()
	to.ServerConnectMs = 60
	r := newRouter(t, asConfig(service("default", a, b)), defaultMgmt(), to, Options{DialContext: hangingDialer(a.addr())})
	req, dev := withDevice(easRequest("gw", "Sync", "x"), stats.NewRegistry())
	start := time.Now()
	_, body := mustDo(t, r, req)
	within(t, "server connection timeout", time.Since(start), 60*time.Millisecond)
	if body != "b" {
		t.Fatalf("answered by %q, want b after a's connect timeout", body)
	}
	if dev.Get(stats.SErrConnTimeout) != 1 || r.Counter(stats.SErrConnTimeout) != 1 {
		t.Fatalf("s-err-conn-timeout device=%d router=%d, want 1", dev.Get(stats.SErrConnTimeout), r.Counter(stats.SErrConnTimeout))
	}
	if dev.Get(stats.SConnections) != 1 {
		t.Errorf("s-connections = %d, want 1 (to b)", dev.Get(stats.SConnections))
	}
}

func TestASC22_ServerResponseTimeoutCountsPerCommandAndIsNotRetried(t *testing.T) {
	a, b := newExchange(t, "a", false), newExchange(t, "b", false)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	a.setHandler(func(w http.ResponseWriter, r *http.Request) { <-release })
	to := defaultTimeouts()
	to.ServerResponseMs = 80
	r := newRouter(t, asConfig(service("default", a, b)), defaultMgmt(), to, Options{})
	for _, tc := range []struct {
		cmd  string
		want stats.Counter
	}{{"Sync", stats.SErrCmdSyncTimeout}, {"FolderSync", stats.SErrCmdTimeout}} {
		req, dev := withDevice(easRequest("gw", tc.cmd, "x"), stats.NewRegistry())
		start := time.Now()
		_, _, err := do(t, r, req)
		within(t, tc.cmd+" response timeout", time.Since(start), 80*time.Millisecond)
		var te *TimeoutError
		if !errors.As(err, &te) || te.Kind != "response" {
			t.Fatalf("%s: err = %v, want a response TimeoutError", tc.cmd, err)
		}
		if dev.Get(tc.want) != 1 {
			t.Errorf("%s: %s = %d, want 1", tc.cmd, tc.want, dev.Get(tc.want))
		}
	}
	if b.hits.Load() != 0 {
		t.Fatalf("a timed-out request was sent again to b (%d)", b.hits.Load())
	}
}

func pingBody(t *testing.T, heartbeat int) string {
	t.Helper()
	b, err := eas.EncodeMessage(&eas.PingRequest{HeartbeatInterval: heartbeat, Folders: []eas.PingFolder{{Id: "1", Class: "Email"}}})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestASC22_PingWaitsForItsHeartbeatPlusMargin(t *testing.T) {
	a := newExchange(t, "a", false)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	a.setHandler(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if len(body) > 0 {
			time.Sleep(300 * time.Millisecond) // a long poll longer than the response timeout
			io.WriteString(w, "changes")
			return
		}
		<-release // a Ping that never ends
	})
	to := defaultTimeouts()
	to.ServerResponseMs = 50
	r := newRouter(t, asConfig(service("default", a)), defaultMgmt(), to, Options{PingMargin: 100 * time.Millisecond})
	reg := stats.NewRegistry()

	req, dev := withDevice(easRequest("gw", "Ping", pingBody(t, 1)), reg)
	if _, body := mustDo(t, r, req); body != "changes" {
		t.Fatalf("Ping body = %q", body)
	}
	// The next Ping leaves the heartbeat out: the gateway remembers 1 s.
	req, _ = withDevice(easRequest("gw", "Ping", ""), reg)
	start := time.Now()
	if _, _, err := do(t, r, req); err == nil {
		t.Fatal("endless Ping did not time out")
	}
	within(t, "Ping response timeout", time.Since(start), time.Second+100*time.Millisecond)
	if dev.Get(stats.SErrCmdPingTimeout) != 1 || dev.Get(stats.SErrCmdTimeout) != 0 {
		t.Fatalf("s-err-cmd-ping-timeout = %d, s-err-cmd-timeout = %d", dev.Get(stats.SErrCmdPingTimeout), dev.Get(stats.SErrCmdTimeout))
	}
}

func TestASC20_SocketReadTimeoutWhileTheResponseStreams(t *testing.T) {
	a, b := newExchange(t, "a", false), newExchange(t, "b", false)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	a.setHandler(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "first half")
		w.(http.Flusher).Flush()
		<-release
	})
	to := defaultTimeouts()
	to.SocketReadWriteMs = 70
	r := newRouter(t, asConfig(service("default", a, b)), defaultMgmt(), to, Options{})
	req, dev := withDevice(easRequest("gw", "Sync", ""), stats.NewRegistry())
	resp, err := r.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got bytes.Buffer
	start := time.Now()
	_, err = io.Copy(&got, resp.Body)
	within(t, "socket read timeout", time.Since(start), 70*time.Millisecond)
	var te *TimeoutError
	if !errors.As(err, &te) || te.Kind != "socket" || got.String() != "first half" {
		t.Fatalf("read %q, err %v; want the first half then a socket TimeoutError", got.String(), err)
	}
	if dev.Get(stats.SErrSoTimeout) != 1 {
		t.Fatalf("s-err-so-timeout = %d", dev.Get(stats.SErrSoTimeout))
	}
	if b.hits.Load() != 0 {
		t.Fatal("a response already streaming was retried on b")
	}
}

func TestASC20_SocketWriteTimeoutWhenTheServerStopsReading(t *testing.T) {
	a := newExchange(t, "a", false)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	a.setHandler(func(w http.ResponseWriter, r *http.Request) { <-release }) // never reads the body
	to := defaultTimeouts()
	to.SocketReadWriteMs = 100
	r := newRouter(t, asConfig(service("default", a)), defaultMgmt(), to, Options{})
	// Larger than the loopback socket buffers can grow (tcp_rmem max 32 MiB
	// plus tcp_wmem max 4 MiB here), so that a write blocks.
	req, dev := withDevice(easRequest("gw", "SendMail", string(make([]byte, 64<<20))), stats.NewRegistry())
	if _, _, err := do(t, r, req); err == nil {
		t.Fatal("no error")
	}
	if dev.Get(stats.SErrSoTimeout) != 1 {
		t.Fatalf("s-err-so-timeout = %d, s-unclassified = %d", dev.Get(stats.SErrSoTimeout), dev.Get(stats.SUnclassified))
	}
}

// deadlineConn records the write deadlines set on it.
type deadlineConn struct {
	net.Conn
	set []time.Time
}

func (c *deadlineConn) SetWriteDeadline(t time.Time) error {
	c.set = append(c.set, t)
	return nil
}

// ASC-20: a write is never cut before the socket timeout, nor more than
// an eighth of it later, and most writes leave the deadline alone.
func TestASC20_LazyWriteDeadlineStaysWithinBounds(t *testing.T) {
	const d = 8 * time.Second
	for _, tc := range []struct {
		name  string
		until func(now time.Time) time.Time // the deadline already set
		d     time.Duration
		moved bool
	}{
		{"first write", func(time.Time) time.Time { return time.Time{} }, d, true},
		{"deadline still ahead by d", func(now time.Time) time.Time { return now.Add(d + d/16) }, d, false},
		{"less than d left", func(now time.Time) time.Time { return now.Add(d - time.Millisecond) }, d, true},
		{"timeout shortened", func(now time.Time) time.Time { return now.Add(d + d/16) }, d / 2, true},
		{"timeout lengthened", func(now time.Time) time.Time { return now.Add(d + d/16) }, 2 * d, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &deadlineConn{}
			before := time.Now()
			l := lazyDeadline{until: tc.until(before)}
			if err := l.arm(c, tc.d); err != nil {
				t.Fatal(err)
			}
			after := time.Now()
			if moved := len(c.set) == 1; moved != tc.moved {
				t.Fatalf("deadline moved = %v, want %v", moved, tc.moved)
			}
			if left := l.until.Sub(after); left < tc.d-after.Sub(before) || left > tc.d+tc.d/8 {
				t.Fatalf("deadline %v ahead, want between %v and %v", left, tc.d, tc.d+tc.d/8)
			}
		})
	}
}

// ASC-20: the socket timeout bounds each read from the server; time the
// device takes between reads is not the server's stall.
func TestASC20_SocketTimeoutIgnoresTheTimeBetweenReads(t *testing.T) {
	a := newExchange(t, "a", false)
	a.setHandler(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10")
		io.WriteString(w, "first half")
	})
	to := defaultTimeouts()
	to.SocketReadWriteMs = 50
	r := newRouter(t, asConfig(service("default", a)), defaultMgmt(), to, Options{})
	req, dev := withDevice(easRequest("gw", "Sync", ""), stats.NewRegistry())
	resp, err := r.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	first := make([]byte, 5)
	if _, err := io.ReadFull(resp.Body, first); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond) // three socket timeouts without a read
	rest, err := io.ReadAll(resp.Body)
	if err != nil || string(first)+string(rest) != "first half" {
		t.Fatalf("read %q then %q, %v", first, rest, err)
	}
	if n := dev.Get(stats.SErrSoTimeout); n != 0 {
		t.Fatalf("s-err-so-timeout = %d for a device reading slowly", n)
	}
}
